import type { ApprovalRecord } from "../src/approvals/record.ts";
import { describeResolution, resolutionOf } from "../src/approvals/record.ts";
import type { NotifyKind } from "../src/channel/adapter.ts";

/**
 * Block Kit for Slack approval messages. Limits that shape this file: a section's text is at
 * most 3,000 characters, a button value 2,000, a modal 100 blocks; message `text` is the
 * notification/fallback line and must stand on its own.
 */
export const ACTIONS = {
  approve: "clawgate_approve",
  always: "clawgate_always",
  deny: "clawgate_deny",
  viewParams: "clawgate_view_params",
} as const;
export const DENY_MODAL = "clawgate_deny_modal";
export const REASON_BLOCK = "reason";
export const REASON_INPUT = "reason_input";

/** Params longer than this are cut in the message; the "View full params" button shows them all. */
export const PARAMS_PREVIEW = 600;

type Block = Record<string, unknown>;
const SEVERITY: Record<ApprovalRecord["risk"]["class"], string> = { low: ":large_blue_circle:", medium: ":large_yellow_circle:", high: ":large_orange_circle:", critical: ":red_circle:" };

const plain = (text: string) => ({ type: "plain_text", text, emoji: true });
const md = (text: string) => ({ type: "mrkdwn", text });
/** Slack mrkdwn has no escaping for backticks inside code; swap them so a param cannot close the block. */
const code = (text: string) => "```" + text.replace(/```/g, "ˋˋˋ") + "```";
const slackDate = (ms: number) => `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
/** Cut to Block Kit's per-field limits, marking the cut. */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
function who(actor: string): string {
  return actor.startsWith("slack:") ? `<@${actor.slice(6)}>` : escape(actor);
}

function prettyParams(record: ApprovalRecord): string {
  try {
    return JSON.stringify(JSON.parse(record.params), null, 2);
  } catch {
    return record.params;
  }
}

function facts(record: ApprovalRecord): Block[] {
  const requester = [record.requester.channel, record.requester.senderId].filter(Boolean).join(":");
  const fields = [
    md(`*Tool*\n\`${escape(record.tool)}\``),
    md(`*Risk*\n${SEVERITY[record.risk.class]} ${record.risk.class} (${record.risk.score}/100, ${escape(record.risk.actionType)}${record.risk.reversible ? "" : ", irreversible"})`),
    md(`*Agent*\n${escape(record.agentId || "–")}`),
    md(`*Session*\n${escape(record.sessionKey || "–")}`),
    md(`*Requester*\n${escape(requester || "–")}`),
    md(`*Rule*\n\`${escape(clip(record.rule || "(none)", 1_900))}\``),
  ];
  return [{ type: "section", fields }, { type: "context", elements: [md(escape(clip(record.policyReason, 2_900)))] }];
}

function paramsBlocks(record: ApprovalRecord, withButton: boolean): Block[] {
  const full = prettyParams(record);
  const cut = full.length > PARAMS_PREVIEW;
  const block: Block = { type: "section", block_id: "params", text: md(`*Params*\n${code(escape(cut ? `${full.slice(0, PARAMS_PREVIEW)}…` : full))}`) };
  if (cut && withButton) block.accessory = { type: "button", action_id: ACTIONS.viewParams, text: plain("View full params"), value: record.id };
  return [block];
}

export function requestMessage(record: ApprovalRecord): { text: string; blocks: Block[] } {
  const buttons: Block[] = [{ type: "button", action_id: ACTIONS.approve, style: "primary", text: plain("Approve"), value: record.id }];
  if (record.alwaysAllowRule) {
    buttons.push({
      type: "button",
      action_id: ACTIONS.always,
      text: plain("Always allow"),
      value: record.id,
      confirm: {
        title: plain("Always allow?"),
        // A confirm dialog holds 300 characters; the full rule is in the context line above.
        text: md(clip(`Approve and save \`${escape(record.alwaysAllowRule)}\` for every gateway?`, 300)),
        confirm: plain("Save rule and approve"),
        deny: plain("Cancel"),
      },
    });
  }
  buttons.push({ type: "button", action_id: ACTIONS.deny, style: "danger", text: plain("Deny…"), value: record.id });
  const blocks: Block[] = [
    { type: "header", text: plain(`${SEVERITY[record.risk.class]} Approval needed: ${record.tool}`.slice(0, 150)) },
    ...facts(record),
    ...paramsBlocks(record, true),
    { type: "context", elements: [md(clip(`\`${record.id}\` · decide by ${slackDate(record.deadline)}${record.alwaysAllowRule ? ` · *Always allow* saves \`${escape(record.alwaysAllowRule)}\`` : ""}`, 2_900))] },
    { type: "actions", block_id: "decision", elements: buttons },
  ];
  return { text: `Approval needed: ${record.tool} (${record.risk.class} risk) — ${record.id}`, blocks };
}

/** `to`: who the escalation reached ("Bob (on call for primary)"), for notes under earlier messages. */
export function threadNote(record: ApprovalRecord, kind: NotifyKind, to?: string): { text: string } {
  const what = kind === "escalated" ? `:rotating_light: Escalated${to ? ` to ${escape(to)}` : ""}` : ":alarm_clock: Reminder";
  return { text: `${what}: \`${record.id}\` is still waiting for a decision (deadline ${slackDate(record.deadline)}).` };
}

/** The answer to a `/clawgate` slash command: private to the person who typed it. */
export function commandReply(text: string): { response_type: "ephemeral"; text: string } {
  return { response_type: "ephemeral", text: clip(escape(text), 3_000) };
}

export function outcomeMessage(record: ApprovalRecord): { text: string; blocks: Block[] } {
  const r = resolutionOf(record);
  const icon = r?.state === "approved" ? ":white_check_mark:" : r?.state === "denied" ? ":no_entry:" : ":hourglass:";
  // Escape everything a person typed, then put the (unescaped) Slack mention in.
  const said = r ? describeResolution({ ...r, decidedBy: r.decidedBy ? "\u0001" : "" }) : "pending";
  const line = escape(said.charAt(0).toUpperCase() + said.slice(1)).replace("\u0001", r ? who(r.decidedBy) : "");
  const when = r?.decidedAt ? ` at ${slackDate(r.decidedAt)}` : "";
  const always = r?.decision === "allow-always" && record.alwaysAllowRule ? `\nSaved rule: \`${escape(record.alwaysAllowRule)}\`` : "";
  const blocks: Block[] = [
    { type: "header", text: plain(`${icon} ${record.tool}: ${r?.state ?? "pending"}`.slice(0, 150)) },
    { type: "section", block_id: "outcome", text: md(clip(`*${line}*${when}${always}`, 2_900)) },
    ...facts(record),
    ...paramsBlocks(record, false),
    { type: "context", elements: [md(`\`${record.id}\``)] },
  ];
  return { text: `${record.id} ${r ? describeResolution(r) : "pending"}`, blocks };
}

export function denyModal(record: ApprovalRecord, metadata: string): Block {
  return {
    type: "modal",
    callback_id: DENY_MODAL,
    private_metadata: metadata,
    title: plain("Deny request"),
    submit: plain("Deny"),
    close: plain("Cancel"),
    blocks: [
      { type: "section", text: md(`Deny \`${escape(record.tool)}\` (\`${record.id}\`)? The reason is sent back to the agent.`) },
      {
        type: "input",
        block_id: REASON_BLOCK,
        label: plain("Reason"),
        element: { type: "plain_text_input", action_id: REASON_INPUT, multiline: true, min_length: 3, max_length: 2000 },
      },
    ],
  };
}

export function paramsModal(record: ApprovalRecord): Block {
  const full = prettyParams(record);
  const chunks: Block[] = [];
  // 2,900 leaves room for the code fences inside a 3,000-character section.
  for (let i = 0; i < full.length && chunks.length < 95; i += 2_900) chunks.push({ type: "section", text: md(code(escape(full.slice(i, i + 2_900)))) });
  if (chunks.length * 2_900 < full.length) chunks.push({ type: "context", elements: [md(`(${full.length - chunks.length * 2_900} more characters; see \`clawgate show ${record.id}\`)`)] });
  return { type: "modal", title: plain("Full params"), close: plain("Close"), blocks: [{ type: "context", elements: [md(`\`${record.id}\` · secrets redacted`)] }, ...chunks] };
}
