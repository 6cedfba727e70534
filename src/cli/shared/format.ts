import { describeResolution, resolutionOf, type ApprovalRecord } from "../../approvals/record.ts";
import { clipText, PARAMS_PREVIEW_CHARS } from "../../text/clip.ts";

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function formatList(records: ApprovalRecord[], now = Date.now()): string {
  if (records.length === 0) return "no approvals";
  const rows = records.map((r) => [
    r.id,
    r.state,
    r.tool,
    r.agentId || "-",
    `${ago(now - r.createdAt)} ago`,
    r.state === "pending" ? `due in ${ago(r.deadline - now)}` : r.decidedBy || "-",
    oneLine(r.params, 60),
  ]);
  const header = ["ID", "STATE", "TOOL", "AGENT", "CREATED", "DUE/BY", "PARAMS"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  return [header, ...rows].map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] as number))).join("  ")).join("\n");
}

/** `show`: long params are clipped unless `full` (`show --full`); `--json` never clips. */
export function formatRecord(r: ApprovalRecord, opts: { full?: boolean } = {}): string {
  const res = resolutionOf(r);
  const lines = [
    `id:        ${r.id}`,
    `state:     ${r.state}${res ? ` — ${describeResolution(res)}` : ""}`,
    `tool:      ${r.tool}`,
    `agent:     ${r.agentId || "-"}    session: ${r.sessionKey || "-"}`,
    `requester: ${[r.requester.channel, r.requester.senderId].filter(Boolean).join(":") || "-"}`,
    `risk:      ${r.risk.class} ${r.risk.score}/100 (${r.risk.actionType}, ${r.risk.reversible ? "reversible" : "irreversible"}${r.risk.systems.length ? `, ${r.risk.systems.join(", ")}` : ""})`,
    `rule:      ${r.rule || "-"}`,
    `why:       ${r.policyReason}`,
    `always:    ${r.alwaysAllowRule || "(not offered: dangerous or not fully understood)"}`,
    `created:   ${new Date(r.createdAt).toISOString()}`,
    `deadline:  ${new Date(r.deadline).toISOString()}`,
  ];
  if (r.decidedAt) lines.push(`decided:   ${new Date(r.decidedAt).toISOString()}`);
  if (r.outcome) lines.push(`outcome:   ${r.outcome}`);
  lines.push(`params:    ${opts.full ? r.params : clipText(r.params, PARAMS_PREVIEW_CHARS, `use --full to see everything`)}`);
  return lines.join("\n");
}
