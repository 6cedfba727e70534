import type { ApprovalRecord } from "../src/approvals/record.ts";
import { describeResolution, resolutionOf } from "../src/approvals/record.ts";
import type { NotifyKind } from "../src/channel/adapter.ts";
import { clipText, PARAMS_PREVIEW_CHARS } from "../src/text/clip.ts";

/**
 * Plain-text rendering shared by the log channel and email text parts.
 * Params are already redacted in the record; long ones are cut so a message stays readable.
 */
function paramsText(record: ApprovalRecord): string {
  return clipText(record.params, PARAMS_PREVIEW_CHARS, `see all: clawgate show ${record.id} --full`);
}

const TITLES: Record<NotifyKind, string> = {
  request: "Approval needed",
  reminder: "Reminder: approval still needed",
  escalated: "Escalated: approval still needed",
};

export function renderRequestText(record: ApprovalRecord, kind: NotifyKind): string {
  const who = [record.agentId && `agent ${record.agentId}`, record.sessionKey && `session ${record.sessionKey}`].filter(Boolean).join(", ");
  return [
    `[clawgate] ${TITLES[kind]}: ${record.id}`,
    `  tool:     ${record.tool}${who ? ` (${who})` : ""}`,
    `  risk:     ${record.risk.class} (${record.risk.score}/100, ${record.risk.actionType}${record.risk.reversible ? "" : ", irreversible"})`,
    `  rule:     ${record.rule || "(none)"} — ${record.policyReason}`,
    `  params:   ${paramsText(record)}`,
    `  deadline: ${new Date(record.deadline).toISOString()}`,
    `  decide:   clawgate approve ${record.id}   |   clawgate deny ${record.id} --reason "…"`,
  ].join("\n");
}

export function renderOutcomeText(record: ApprovalRecord): string {
  const r = resolutionOf(record);
  if (!r) return `[clawgate] ${record.id} is still pending`;
  const at = r.decidedAt ? ` at ${new Date(r.decidedAt).toISOString()}` : "";
  const always = r.decision === "allow-always" && record.alwaysAllowRule ? ` (always allow: ${record.alwaysAllowRule})` : "";
  return `[clawgate] ${record.id} ${describeResolution(r)}${at}${always}`;
}
