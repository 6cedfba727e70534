import type { ClawgateConfig } from "../config/schema.ts";
import { ClawgateError, toChatReply } from "../errors.ts";
import type { InboundDecisions } from "../inbound/decisions.ts";
import type { Identity } from "../inbound/identity.ts";
import { parseVerb, runVerb, VERB_USAGE } from "../inbound/verbs.ts";

/** The slice of OpenClaw's PluginCommandContext the /clawgate command reads. */
export interface ChatCommandContext {
  senderId?: string;
  channel: string;
  senderIsOwner?: boolean;
  isAuthorizedSender?: boolean;
  args?: string;
}

export const CHAT_USAGE = `usage: ${VERB_USAGE}`;

/** Configured chat approvers: the owner (if approvals.chatApprovers.owner) and listed "channel:senderId"s. */
function mayDecide(config: ClawgateConfig, ctx: ChatCommandContext): boolean {
  const a = config.approvals.chatApprovers;
  if (a.owner && ctx.senderIsOwner === true) return true;
  if (!ctx.senderId) return false;
  return a.senders.includes(`${ctx.channel}:${ctx.senderId}`);
}

/**
 * `/clawgate pending|show ID|approve ID|deny ID REASON` from any OpenClaw channel: the shared
 * verbs, with the OpenClaw sender as identity. Everyone may list; only configured chat
 * approvers (or people an escalation tier notified) may decide, and refusals are audited.
 */
export async function handleChatCommand(decisions: InboundDecisions, config: ClawgateConfig, ctx: ChatCommandContext): Promise<string> {
  const identity: Identity = { channel: "openclaw", id: `${ctx.channel}:${ctx.senderId ?? "unknown"}` };
  try {
    const result = await runVerb(decisions, parseVerb(ctx.args ?? ""), { identity, isChannelApprover: () => mayDecide(config, ctx) });
    return result.text;
  } catch (err) {
    if (err instanceof ClawgateError) return toChatReply(err);
    throw err;
  }
}
