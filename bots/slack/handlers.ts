import type { App, BlockAction, ButtonAction, RespondFn } from "@slack/bolt";
import type { DecisionKind } from "../../src/approvals/record.ts";
import type { ApprovalService } from "../../src/approvals/service.ts";
import { ClawgateError, toChatReply } from "../../src/errors.ts";
import type { Logger } from "../../src/log.ts";
import { ACTIONS, DENY_MODAL, REASON_BLOCK, REASON_INPUT, denyModal, paramsModal } from "../../templates/slack.ts";
import type { SlackApprovers } from "./approvers.ts";

export interface HandlerDeps {
  service: ApprovalService;
  approvers: SlackApprovers;
  log: Logger;
}

const actor = (userId: string) => `slack:${userId}`;
const ephemeral = (respond: RespondFn, text: string) => respond({ response_type: "ephemeral", replace_original: false, text });

/**
 * Button and modal listeners. Every decision checks the clicking user against
 * slack.approvers first; a refusal is audited (ApprovalService.refuse) and answered privately,
 * and the approval stays pending. Message edits happen through update jobs, like every channel.
 */
export function registerSlackHandlers(app: App, deps: HandlerDeps): void {
  const { service, approvers } = deps;

  /** True when the user may decide; otherwise the refusal is audited and told to them. */
  async function mayDecide(userId: string, approvalId: string, respond: RespondFn): Promise<boolean> {
    if (await approvers.allowed(userId)) return true;
    try {
      await service.refuse({ id: approvalId, actor: actor(userId), via: "slack", why: "not a configured Slack approver" });
    } catch (err) {
      await ephemeral(respond, `:no_entry: ${toChatReply(err)}. Ask someone in slack.approvers to decide.`);
    }
    return false;
  }

  async function decide(body: BlockAction, decision: DecisionKind, respond: RespondFn): Promise<void> {
    const action = body.actions[0] as ButtonAction;
    const id = action.value ?? "";
    if (!(await mayDecide(body.user.id, id, respond))) return;
    try {
      await service.decide({ id, decision, actor: actor(body.user.id), via: "slack" });
    } catch (err) {
      if (!(err instanceof ClawgateError)) throw err;
      await ephemeral(respond, `:information_source: ${toChatReply(err)}`);
    }
  }

  app.action<BlockAction>(ACTIONS.approve, async ({ ack, body, respond }) => {
    await ack();
    await decide(body, "allow-once", respond);
  });

  app.action<BlockAction>(ACTIONS.always, async ({ ack, body, respond }) => {
    await ack();
    await decide(body, "allow-always", respond);
  });

  app.action<BlockAction>(ACTIONS.deny, async ({ ack, body, respond, client }) => {
    await ack();
    const id = (body.actions[0] as ButtonAction).value ?? "";
    if (!(await mayDecide(body.user.id, id, respond))) return;
    const record = await service.store.get(id);
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
    if (!(await approvers.allowed(body.user.id))) return void (await ephemeral(respond, ":no_entry: only configured approvers can open the full params"));
    const record = await service.store.get(id);
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
    const userId = body.user.id;
    if (!(await approvers.allowed(userId))) {
      await service.refuse({ id, actor: actor(userId), via: "slack", why: "not a configured Slack approver" }).catch(() => undefined);
      return void (await ack({ response_action: "errors", errors: { [REASON_BLOCK]: "You are not an allowed approver" } }));
    }
    try {
      await service.decide({ id, decision: "deny", actor: actor(userId), via: "slack", reason });
      await ack();
    } catch (err) {
      if (!(err instanceof ClawgateError)) throw err;
      await ack({ response_action: "errors", errors: { [REASON_BLOCK]: toChatReply(err) } });
    }
  });
}
