import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand } from "@slack/bolt";
import type { DecisionKind } from "../../src/approvals/record.ts";
import { ClawgateError, toChatReply } from "../../src/errors.ts";
import type { InboundDecisions } from "../../src/inbound/decisions.ts";
import type { Identity } from "../../src/inbound/identity.ts";
import { parseVerb, runVerb } from "../../src/inbound/verbs.ts";
import type { Logger } from "../../src/log.ts";
import { ACTIONS, DENY_MODAL, REASON_BLOCK, REASON_INPUT, commandReply, denyModal, paramsModal } from "../../templates/slack.ts";
import type { SlackApprovers } from "./approvers.ts";

export interface HandlerDeps {
  decisions: InboundDecisions;
  approvers: SlackApprovers;
  log: Logger;
}

const identity = (userId: string): Identity => ({ channel: "slack", id: userId });
const ephemeral = (respond: RespondFn, text: string) => respond({ response_type: "ephemeral", replace_original: false, text });

/**
 * Button, modal and `/clawgate` listeners. Bolt has verified the signature; every decision then
 * goes through the one inbound path (identity → authorize → decide), whose refusals are audited
 * and leave the approval pending. Message edits happen through update jobs, like every channel.
 */
export function registerSlackHandlers(app: App, deps: HandlerDeps): void {
  const { decisions, approvers } = deps;
  const store = decisions.service.store;
  const isApprover = (i: Identity) => approvers.allowed(i.id);

  /** null when `userId` may act on approval `id`, else why not (audited when deciding). */
  async function refusal(userId: string, id: string, decision: DecisionKind): Promise<string | null> {
    const record = await store.get(id);
    if (!record || record.state !== "pending") return null;
    return decisions.authorize(record, { identity: identity(userId), decision, isChannelApprover: isApprover });
  }

  async function decide(userId: string, id: string, decision: DecisionKind, respond: RespondFn, reason?: string): Promise<void> {
    try {
      await decisions.decide({ identity: identity(userId), approvalId: id, decision, reason, isChannelApprover: isApprover });
    } catch (err) {
      if (!(err instanceof ClawgateError)) throw err;
      const icon = err.code === "approver_not_allowed" ? ":no_entry:" : ":information_source:";
      await ephemeral(respond, `${icon} ${toChatReply(err)}`);
    }
  }

  app.action<BlockAction>(ACTIONS.approve, async ({ ack, body, respond }) => {
    await ack();
    await decide(body.user.id, (body.actions[0] as ButtonAction).value ?? "", "allow-once", respond);
  });

  app.action<BlockAction>(ACTIONS.always, async ({ ack, body, respond }) => {
    await ack();
    await decide(body.user.id, (body.actions[0] as ButtonAction).value ?? "", "allow-always", respond);
  });

  app.action<BlockAction>(ACTIONS.deny, async ({ ack, body, respond, client }) => {
    await ack();
    const id = (body.actions[0] as ButtonAction).value ?? "";
    const why = await refusal(body.user.id, id, "deny");
    if (why) {
      // Refused before the reason form opens: recorded like any other refusal.
      try {
        await decisions.service.refuse({ id, actor: decisions.actorOf(identity(body.user.id)), via: "slack", why, decision: "deny" });
      } catch (err) {
        await ephemeral(respond, `:no_entry: ${toChatReply(err)}`);
      }
      return;
    }
    const record = await store.get(id);
    if (!record) return void (await ephemeral(respond, `:information_source: no approval with id "${id}"`));
    if (record.state !== "pending") {
      return void (await ephemeral(respond, `:information_source: approval ${id} is already ${record.state}${record.decidedBy ? ` (by ${record.decidedBy} via ${record.decidedVia})` : ""}`));
    }
    await client.views.open({ trigger_id: body.trigger_id, view: denyModal(record, JSON.stringify({ id })) as never });
  });

  app.action<BlockAction>(ACTIONS.viewParams, async ({ ack, body, respond, client }) => {
    await ack();
    const id = (body.actions[0] as ButtonAction).value ?? "";
    // Full params are for approvers only, even though secrets are redacted.
    if (await refusal(body.user.id, id, "deny")) return void (await ephemeral(respond, ":no_entry: only approvers of this request can open the full params"));
    const record = await store.get(id);
    if (!record) return void (await ephemeral(respond, `:information_source: no approval with id "${id}"`));
    await client.views.open({ trigger_id: body.trigger_id, view: paramsModal(record) as never });
  });

  app.view(DENY_MODAL, async ({ ack, body, view }) => {
    let id = "";
    try {
      id = String((JSON.parse(view.private_metadata) as { id?: unknown }).id ?? "");
    } catch {
      return void (await ack({ response_action: "errors", errors: { [REASON_BLOCK]: "this form is damaged; click Deny again" } }));
    }
    const reason = (view.state.values[REASON_BLOCK]?.[REASON_INPUT]?.value ?? "").trim();
    try {
      await decisions.decide({ identity: identity(body.user.id), approvalId: id, decision: "deny", reason, isChannelApprover: isApprover });
      await ack();
    } catch (err) {
      if (!(err instanceof ClawgateError)) throw err;
      await ack({ response_action: "errors", errors: { [REASON_BLOCK]: toChatReply(err) } });
    }
  });

  // `/clawgate pending | show ID | approve ID [reason] | deny ID reason` — the shared verbs.
  app.command("/clawgate", async ({ ack, command, respond }: { ack: () => Promise<void>; command: SlashCommand; respond: RespondFn }) => {
    await ack();
    try {
      const result = await runVerb(decisions, parseVerb(command.text ?? ""), { identity: identity(command.user_id), isChannelApprover: isApprover });
      await respond(commandReply(result.text));
    } catch (err) {
      if (!(err instanceof ClawgateError)) throw err;
      await respond(commandReply(toChatReply(err)));
    }
  });
}
