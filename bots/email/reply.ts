import EmailReplyParser from "email-reply-parser";
import type { DecisionKind } from "../../src/approvals/record.ts";

export type ReplyVerb = { decision: DecisionKind; reason?: string } | { error: string };

/**
 * The reply's own words: quoted history ("On … wrote:", "> …") and signatures cut by
 * email-reply-parser, then the first line with anything on it.
 */
export function firstMeaningfulLine(text: string): string {
  const visible = new EmailReplyParser().parseReply(text.replace(/\r\n?/g, "\n"));
  for (const line of visible.split("\n")) {
    const t = line.replace(/[\u200b\u00a0]/g, " ").trim();
    // A quote the parser left (e.g. an HTML blockquote rendered as "> …") is never the answer.
    if (t && !t.startsWith(">")) return t;
  }
  return "";
}

/** `approve`, `approve always`, `deny <reason>`, case-insensitive; anything else says how to reply. */
export function parseReplyVerb(line: string): ReplyVerb {
  const t = line.trim();
  let m = /^approve\s+always\b[\s.!:,-]*(.*)$/i.exec(t);
  if (m) return { decision: "allow-always", ...(m[1] ? { reason: m[1] } : {}) };
  m = /^approve\b[\s.!:,-]*(.*)$/i.exec(t);
  if (m) return { decision: "allow-once", ...(m[1] ? { reason: m[1] } : {}) };
  m = /^deny\b[\s:,-]*(.*)$/i.exec(t);
  if (m) {
    const reason = (m[1] ?? "").trim();
    if (!reason) return { error: "A denial needs a reason (it is sent back to the agent), e.g. \"deny not during the freeze\"." };
    return { decision: "deny", reason };
  }
  return { error: t ? `clawgate did not understand "${t.slice(0, 80)}".` : "clawgate found no answer in your reply." };
}
