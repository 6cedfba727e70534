import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand } from "@slack/bolt";
import type { DecisionKind } from "../../src/approvals/record.ts";
import { ClawgateError, toChatReply } from "../../src/errors.ts";
import type { CheckOutcome, DecisionOutcome, InboundDecisions } from "../../src/inbound/decisions.ts";
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
  const isApprover = (i: Identity) => approvers.allowed(i.id);

  /** The pipeline's outcome, rendered: nothing for a decision (the update job edits every card), else a line to the clicker alone. */
  const render = async (respond: RespondFn, out: DecisionOutcome | CheckOutcome): Promise<void> => {
    if (out.kind === "decided" || out.kind === "allowed") return;
    await ephemeral(respond, `${out.kind === "refused" ? ":no_entry:" : ":information_source:"} ${toChatReply(out.error)}`);
  };

  async function decide(userId: string, id: string, decision: DecisionKind, respond: RespondFn): Promise<void> {
    await render(respond, await decisions.run({ identity: identity(userId), approvalId: id, decision, isChannelApprover: isApprover }));
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
    // Refused (and recorded) before the reason form opens, like any other refusal.
    const out = await decisions.check({ identity: identity(body.user.id), approvalId: id, decision: "deny", isChannelApprover: isApprover });
    if (out.kind !== "allowed") return render(respond, out);
    const record = out.record;
    await client.views.open({ trigger_id: body.trigger_id, view: denyModal(record, JSON.stringify({ id })) as never });
  });

  app.action<BlockAction>(ACTIONS.viewParams, async ({ ack, body, respond, client }) => {
    await ack();
    const id = (body.actions[0] as ButtonAction).value ?? "";
    // Full params are for the approval's approvers only (pending or decided), even though secrets are redacted.
    const seen = await decisions.view({ identity: identity(body.user.id), approvalId: id, isChannelApprover: isApprover });
    if (seen.kind === "not-found") return void (await ephemeral(respond, `:information_source: ${toChatReply(seen.error)}`));
    if (seen.kind === "refused") return void (await ephemeral(respond, `:no_entry: ${seen.why}`));
    const record = seen.record;
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
    const out = await decisions.run({ identity: identity(body.user.id), approvalId: id, decision: "deny", reason, isChannelApprover: isApprover });
    if (out.kind === "decided") await ack();
    else await ack({ response_action: "errors", errors: { [REASON_BLOCK]: toChatReply(out.error) } });
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
