import EmailReplyParser from "email-reply-parser";
import type { DecisionKind } from "../../src/approvals/record.ts";
import { belowBanner } from "./banner.ts";

export type ReplyVerb = { decision: DecisionKind; reason?: string } | { error: string };

/** The reply's first paragraph: its first line, and the lines that continue it up to a blank line. */
interface ReplyParagraph {
  first: string;
  more: string[];
}

const visible = (line: string): string => line.replace(/[\u200b\u00a0\t]/g, " ").replace(/ {2,}/g, " ").trim();

/**
 * The reply's own words: a gateway's banner above them skipped (banner.ts), quoted history
 * ("On … wrote:", "> …", Outlook's "From: … Sent: …") and signatures cut by email-reply-parser,
 * blank lines skipped, then the first line and the rest of its paragraph.
 */
function firstParagraph(text: string): ReplyParagraph {
  const own = belowBanner(text.replace(/\r\n?/g, "\n").split("\n")).join("\n");
  const lines = new EmailReplyParser().parseReply(own).split("\n").map(visible);
  // A quote the parser left (e.g. an HTML blockquote rendered as "> …") is never the answer.
  const start = lines.findIndex((l) => l !== "" && !l.startsWith(">"));
  if (start < 0) return { first: "", more: [] };
  const more: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l === "" || l.startsWith(">")) break;
    more.push(l);
  }
  return { first: lines[start] as string, more };
}

/** The first line of the reply's own text (see firstParagraph). */
export function firstMeaningfulLine(text: string): string {
  return firstParagraph(text).first;
}

const FORMS = '"approve", "approve always" or "deny <reason>"';

/**
 * The whole first line decides, or nothing does: exactly `approve`, `approve always` or
 * `deny <reason>`, case-insensitive, surrounding space and a trailing `.`, `!` or `,`
 * ignored. Anything more or less (`Approve? No way.`, `approve - wait no`, `approved`,
 * `approve always please`, `Don't approve`) is not a decision — an approval must never
 * come from a sentence that only starts like one. A denial's reason runs on to the end of
 * its paragraph (mail clients wrap long lines).
 */
export function parseReplyVerb(line: string, more: readonly string[] = []): ReplyVerb {
  const t = visible(line);
  const m = /^approve( always)? ?[.!,]*$/i.exec(t);
  if (m) return { decision: m[1] ? "allow-always" : "allow-once" };
  const d = /^deny(?:[ :,.!]+(.*))?$/i.exec(t);
  if (d) {
    // The reason starts on the deny line itself: the whole first line is `deny <reason>`.
    const reason = /[^\s.!,:]/.test(d[1] ?? "") ? [d[1] ?? "", ...more].join(" ").trim() : "";
    if (!reason) return { error: 'clawgate decided nothing: a denial needs a reason on the same line (it is sent back to the agent), e.g. "deny not during the freeze".' };
    return { decision: "deny", reason };
  }
  if (!t) return { error: `clawgate found no answer in your reply, so nothing was decided: its first line must be exactly ${FORMS}.` };
  return { error: `clawgate did not understand "${t.slice(0, 80)}", so nothing was decided: the first line of your reply must be exactly ${FORMS}, with nothing else on it.` };
}

/** What a reply's text decides (firstParagraph, then parseReplyVerb). */
export function readReply(text: string): ReplyVerb {
  const p = firstParagraph(text);
  return parseReplyVerb(p.first, p.more);
}
