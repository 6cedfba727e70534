import type { ApprovalService } from "../approvals/service.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { ClawgateError, toChatReply } from "../errors.ts";

/** The slice of OpenClaw's PluginCommandContext the /clawgate command reads. */
export interface ChatCommandContext {
  senderId?: string;
  channel: string;
  senderIsOwner?: boolean;
  isAuthorizedSender?: boolean;
  args?: string;
}

export const CHAT_USAGE = "usage: /clawgate pending | /clawgate approve ID [--always] [reason] | /clawgate deny ID REASON";

/** Configured chat approvers: the owner (if approvals.chatApprovers.owner) and listed senders. */
export function mayDecide(config: ClawgateConfig, ctx: ChatCommandContext): boolean {
  const a = config.approvals.chatApprovers;
  if (a.owner && ctx.senderIsOwner === true) return true;
  if (!ctx.senderId) return false;
  return a.senders.includes(`${ctx.channel}:${ctx.senderId}`) || a.senders.includes(ctx.senderId);
}

/**
 * `/clawgate pending|approve ID|deny ID REASON` from any OpenClaw channel. Everyone may list;
 * only configured approvers may decide, and a refusal is audited like any other.
 */
export async function handleChatCommand(service: ApprovalService, config: ClawgateConfig, ctx: ChatCommandContext): Promise<string> {
  const [verb = "", id = "", ...rest] = (ctx.args ?? "").trim().split(/\s+/).filter(Boolean);
  const actor = `openclaw:${ctx.channel}:${ctx.senderId ?? "unknown"}`;
  try {
    if (verb === "pending" || verb === "") {
      const pending = await service.store.list({ state: "pending", limit: 20 });
      if (pending.length === 0) return "no pending approvals";
      return pending.map((r) => `${r.id}  ${r.tool}  ${r.rule || "-"}  due ${new Date(r.deadline).toISOString()}`).join("\n");
    }
    if (verb !== "approve" && verb !== "deny") return CHAT_USAGE;
    if (!id) return CHAT_USAGE;
    if (!mayDecide(config, ctx)) await service.refuse({ id, actor, via: "openclaw", why: "not a configured chat approver" });
    const always = rest[0] === "--always";
    const reason = (always ? rest.slice(1) : rest).join(" ");
    if (verb === "deny" && !reason) return `a denial needs a reason: /clawgate deny ${id} REASON`;
    const r = await service.decide({ id, decision: verb === "deny" ? "deny" : always ? "allow-always" : "allow-once", actor, via: "openclaw", reason });
    return `${r.id} ${r.state} by ${r.decidedBy}${r.reason ? `: ${r.reason}` : ""}`;
  } catch (err) {
    if (err instanceof ClawgateError) return toChatReply(err);
    throw err;
  }
}
