import type { ApprovalRecord } from "../src/approvals/record.ts";
import { describeResolution, resolutionOf } from "../src/approvals/record.ts";
import type { NotifyKind } from "../src/channel/adapter.ts";

/**
 * What approvers see by email: the same facts as the chat messages (params already redacted
 * in the record, long ones cut), as text and HTML, and how to answer by replying.
 */
export interface EmailBody {
  subject: string;
  text: string;
  html: string;
}

const MAX_PARAMS = 1_500;

const TITLES: Record<NotifyKind, string> = {
  request: "Approval needed",
  reminder: "Reminder: approval still needed",
  escalated: "Escalated: approval still needed",
};

const HOW_TO_REPLY = [
  "Reply to this mail with exactly one of these as the first line, and nothing else on it:",
  "  approve",
  "  approve always",
  "  deny <reason>",
  "(Case and a trailing . ! or , do not matter; a denial's reason may run on to the end of its paragraph.)",
].join("\n");

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function params(record: ApprovalRecord): string {
  return record.params.length > MAX_PARAMS ? `${record.params.slice(0, MAX_PARAMS)}… (${record.params.length} chars)` : record.params;
}

/** "exec approval ap_… needed": the tool and the id, so a thread is easy to find. */
function subjectOf(record: ApprovalRecord): string {
  return `[clawgate] ${record.tool}: approval ${record.id}`;
}

function facts(record: ApprovalRecord): Array<[string, string]> {
  const who = [record.agentId && `agent ${record.agentId}`, record.sessionKey && `session ${record.sessionKey}`].filter(Boolean).join(", ");
  return [
    ["tool", `${record.tool}${who ? ` (${who})` : ""}`],
    ["risk", `${record.risk.class} (${record.risk.score}/100, ${record.risk.actionType}${record.risk.reversible ? "" : ", irreversible"})`],
    ["rule", `${record.rule || "(none)"} — ${record.policyReason}`],
    ["params", params(record)],
    ["deadline", new Date(record.deadline).toISOString()],
    ...(record.alwaysAllowRule ? ([["always allows", record.alwaysAllowRule]] as Array<[string, string]>) : []),
  ];
}

export function requestMail(record: ApprovalRecord, kind: NotifyKind): EmailBody {
  const title = `${TITLES[kind]}: ${record.id}`;
  const rows = facts(record);
  const text = [title, "", ...rows.map(([k, v]) => `${`${k}:`.padEnd(15)}${v}`), "", HOW_TO_REPLY, "", `Or: clawgate approve ${record.id}  |  clawgate deny ${record.id} --reason "…"`].join("\n");
  const html = [
    `<p><strong>${esc(title)}</strong></p>`,
    `<table>${rows.map(([k, v]) => `<tr><td><b>${esc(k)}</b></td><td><code>${esc(v)}</code></td></tr>`).join("")}</table>`,
    `<p>Reply to this mail with exactly one of these as the first line, and nothing else on it:</p>`,
    `<ul><li><code>approve</code></li><li><code>approve always</code></li><li><code>deny &lt;reason&gt;</code></li></ul>`,
  ].join("\n");
  return { subject: subjectOf(record), text, html };
}

/** The closing note sent into each recipient's thread once the approval is final. */
export function closingMail(record: ApprovalRecord): EmailBody {
  const r = resolutionOf(record);
  const line = r ? `Approval ${record.id} (${record.tool}) ${describeResolution(r)}.` : `Approval ${record.id} is still pending.`;
  const text = `${line}\nNo reply is needed any more.`;
  return { subject: `Re: ${subjectOf(record)}`, text, html: `<p>${esc(line)}</p><p>No reply is needed any more.</p>` };
}

/** A short answer to a reply: a confirmation, a refusal, or how to reply. */
export function answerMail(subject: string, line: string, withHelp = false): EmailBody {
  const text = withHelp ? `${line}\n\n${HOW_TO_REPLY}` : line;
  const html = `<p>${esc(line)}</p>${withHelp ? `<pre>${esc(HOW_TO_REPLY)}</pre>` : ""}`;
  return { subject: /^re:/i.test(subject) ? subject : `Re: ${subject}`, text, html };
}
