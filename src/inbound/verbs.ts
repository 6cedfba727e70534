import type { ApprovalRecord, Resolution } from "../approvals/record.ts";
import { BadRequestError } from "../errors.ts";
import type { ChannelApproverCheck, InboundDecisions } from "./decisions.ts";
import type { Identity } from "./identity.ts";

/**
 * The shared command verbs — `pending`, `show ID`, `approve ID [reason]`, `deny ID reason` —
 * one implementation behind the CLI, the OpenClaw `/clawgate` chat command and every chat
 * channel's `/clawgate` command.
 */
export type Verb =
  | { verb: "pending"; limit?: number }
  | { verb: "show"; id: string }
  | { verb: "approve"; id: string; always: boolean; reason?: string }
  | { verb: "deny"; id: string; reason: string };

export const VERB_USAGE = "/clawgate pending | /clawgate show ID | /clawgate approve ID [--always] [reason] | /clawgate deny ID REASON";

export type VerbResult =
  | { verb: "pending"; records: ApprovalRecord[]; text: string }
  | { verb: "show"; record: ApprovalRecord; text: string }
  | { verb: "approve" | "deny"; resolution: Resolution; record: ApprovalRecord | null; text: string };

/** Splits on spaces but keeps "quoted text" together, so `deny ID "not now"` has the reason `not now`. */
function words(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|“([^”]*)”|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? "");
  return out;
}

/** A chat command's text (after `/clawgate`) → a verb, or a usage error. */
export function parseVerb(text: string): Verb {
  const [verb = "", id = "", ...rest] = words(text.trim());
  const v = verb.toLowerCase();
  if (v === "" || v === "pending" || v === "list") return { verb: "pending" };
  if (v !== "show" && v !== "approve" && v !== "deny") throw new BadRequestError(`unknown command "${verb}". Usage: ${VERB_USAGE}`);
  if (!id) throw new BadRequestError(`${v} needs an approval id. Usage: ${VERB_USAGE}`);
  if (v === "show") return { verb: "show", id };
  const always = rest[0] === "--always" || rest[0] === "always";
  const reason = (always ? rest.slice(1) : rest).join(" ").trim();
  if (v === "deny") {
    if (!reason) throw new BadRequestError(`a denial needs a reason (the agent sees it): /clawgate deny ${id} REASON`);
    return { verb: "deny", id, reason };
  }
  return { verb: "approve", id, always, ...(reason ? { reason } : {}) };
}

function pendingLine(r: ApprovalRecord, now: number): string {
  const due = Math.max(0, Math.round((r.deadline - now) / 1000));
  return `${r.id}  ${r.tool}  ${r.agentId || "-"}  ${r.rule || "-"}  due in ${due}s`;
}

/** An approval as `/clawgate show` prints it; `params` only for its approvers (see InboundDecisions.view). */
function showText(r: ApprovalRecord, opts: { params?: boolean } = {}): string {
  const params = opts.params === false ? "(only approvers of this request can see them)" : r.params.length > 1_000 ? `${r.params.slice(0, 1_000)}… (${r.params.length} chars)` : r.params;
  const lines = [
    `${r.id}: ${r.state}${r.decidedBy ? ` by ${r.decidedBy} via ${r.decidedVia}` : ""}${r.decisionReason ? ` (${r.decisionReason})` : ""}`,
    `tool ${r.tool} · agent ${r.agentId || "-"} · session ${r.sessionKey || "-"}`,
    `risk ${r.risk.class} ${r.risk.score}/100 · rule ${r.rule || "-"}`,
    `why: ${r.policyReason}`,
    `params: ${params}`,
    `deadline ${new Date(r.deadline).toISOString()}`,
  ];
  return lines.join("\n");
}

/** Runs a verb for `who`; a decision goes through the one pipeline, and an outcome other than "decided" is thrown as its error (the caller words it). */
export async function runVerb(decisions: InboundDecisions, verb: Verb, who: { identity: Identity; isChannelApprover: ChannelApproverCheck }): Promise<VerbResult> {
  const store = decisions.service.store;
  switch (verb.verb) {
    case "pending": {
      const records = await store.list({ state: "pending", limit: verb.limit ?? 20 });
      const now = Date.now();
      return { verb: "pending", records, text: records.length ? records.map((r) => pendingLine(r, now)).join("\n") : "no pending approvals" };
    }
    case "show": {
      const seen = await decisions.view({ identity: who.identity, approvalId: verb.id, isChannelApprover: who.isChannelApprover });
      if (seen.kind === "not-found") throw seen.error;
      const record = seen.kind === "shown" ? seen.record : await store.require(verb.id);
      return { verb: "show", record, text: showText(record, { params: seen.kind === "shown" }) };
    }
    case "approve":
    case "deny": {
      const out = await decisions.run({
        identity: who.identity,
        approvalId: verb.id,
        decision: verb.verb === "deny" ? "deny" : verb.always ? "allow-always" : "allow-once",
        reason: verb.reason,
        isChannelApprover: who.isChannelApprover,
      });
      if (out.kind !== "decided") throw out.error;
      const { resolution, record } = out;
      const saved = resolution.decision === "allow-always" && record.alwaysAllowRule ? `; saved rule ${record.alwaysAllowRule}` : "";
      const text = `${resolution.state === "approved" ? "approved" : "denied"} ${resolution.id} as ${resolution.decidedBy}${resolution.reason ? `: ${resolution.reason}` : ""}${saved}`;
      return { verb: verb.verb, resolution, record, text };
    }
  }
}
