import type { ApprovalRecord } from "../src/approvals/record.ts";
import { describeResolution, resolutionOf } from "../src/approvals/record.ts";
import { redactText } from "../src/redact/redact.ts";
import { clipText } from "../src/text/clip.ts";
import type { NotifyKind } from "../src/channel/adapter.ts";

/**
 * Telegram messages for approvals, in the Bot API's HTML parse mode. Limits that shape this
 * file: a message is at most 4,096 characters after entities are parsed, a button's
 * callback_data 64 bytes, a callback answer 200 characters. Every piece an agent or a person
 * wrote is redacted, then escaped, so it can neither leak a secret nor break the markup.
 */

/** callback_data of the buttons: "cg:<action>:<approval id>" (well under 64 bytes). */
export const CALLBACK = { approve: "a", always: "A", deny: "d" } as const;
type CallbackAction = (typeof CALLBACK)[keyof typeof CALLBACK];

function callbackData(action: CallbackAction, id: string): string {
  return `cg:${action}:${id}`;
}

export function parseCallbackData(data: string | undefined): { action: CallbackAction; id: string } | null {
  const m = /^cg:([aAd]):(ap_[0-9a-z]{1,40})$/.exec(data ?? "");
  return m ? { action: m[1] as CallbackAction, id: m[2] as string } : null;
}

/** Params shown on the card; longer ones are cut with a pointer to `/clawgate show`. */
const PARAMS_PREVIEW = 1_500;

/** Escapes text for HTML parse mode (Telegram needs &, < and > escaped, " inside attributes). */
function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Redacted, clipped to `max` characters and escaped: the only way free text enters a message. */
function safe(text: string, max: number): string {
  const t = redactText(text);
  return html(t.length > max ? `${t.slice(0, max - 1)}…` : t);
}

function prettyParams(record: ApprovalRecord): string {
  try {
    return JSON.stringify(JSON.parse(record.params), null, 2);
  } catch {
    return record.params;
  }
}

function facts(record: ApprovalRecord): string[] {
  const requester = [record.requester.channel, record.requester.senderId].filter(Boolean).join(":");
  const risk = `${record.risk.class} (${record.risk.score}/100, ${record.risk.actionType}${record.risk.reversible ? "" : ", irreversible"})`;
  const params = redactText(clipText(prettyParams(record), PARAMS_PREVIEW, `see all: /clawgate show ${record.id}`));
  return [
    `Tool: <code>${safe(record.tool, 200)}</code> · Risk: ${safe(risk, 200)}`,
    `Agent: <code>${safe(record.agentId || "–", 200)}</code> · Session: <code>${safe(record.sessionKey || "–", 200)}</code>`,
    `Requester: <code>${safe(requester || "–", 200)}</code> · Rule: <code>${safe(record.rule || "(none)", 300)}</code>`,
    `<pre>${html(params)}</pre>`,
  ];
}

interface TelegramText {
  text: string;
  parse_mode: "HTML";
  link_preview_options: { is_disabled: true };
}

const message = (lines: string[]): TelegramText => ({ text: lines.join("\n"), parse_mode: "HTML", link_preview_options: { is_disabled: true } });

interface InlineKeyboard {
  inline_keyboard: Array<Array<{ text: string; callback_data: string }>>;
}

/** The request card: facts, params, deadline; Approve / Always allow (when the request has a rule) / Deny. */
export function requestMessage(record: ApprovalRecord): TelegramText & { reply_markup: InlineKeyboard } {
  const lines = [
    `🔐 <b>Approval needed: ${safe(record.tool, 200)}</b>`,
    safe(record.policyReason || "a policy rule asks for approval", 600),
    "",
    ...facts(record),
    `Decide by ${new Date(record.deadline).toISOString()}`,
  ];
  if (record.alwaysAllowRule) lines.push(`Always allow saves <code>${safe(record.alwaysAllowRule, 300)}</code>`);
  lines.push(`<code>${html(record.id)}</code>`);
  const row: Array<{ text: string; callback_data: string }> = [{ text: "✅ Approve", callback_data: callbackData(CALLBACK.approve, record.id) }];
  if (record.alwaysAllowRule) row.push({ text: "♾ Always allow", callback_data: callbackData(CALLBACK.always, record.id) });
  row.push({ text: "⛔ Deny…", callback_data: callbackData(CALLBACK.deny, record.id) });
  return { ...message(lines), reply_markup: { inline_keyboard: [row] } };
}

/** The edit once the approval is final: outcome, who, why, when; no keyboard. */
export function outcomeMessage(record: ApprovalRecord): TelegramText {
  const r = resolutionOf(record);
  const said = r ? describeResolution(r) : "pending";
  const icon = r?.state === "approved" ? "✅" : r?.state === "denied" ? "⛔" : "⌛";
  const lines = [`${icon} <b>${safe(record.tool, 200)}: ${safe(said.charAt(0).toUpperCase() + said.slice(1), 1_200)}</b>`];
  if (r?.decidedAt) lines.push(`at ${new Date(r.decidedAt).toISOString()}`);
  if (r?.decision === "allow-always" && record.alwaysAllowRule) lines.push(`Saved rule: <code>${safe(record.alwaysAllowRule, 300)}</code>`);
  lines.push("", ...facts(record), `<code>${html(record.id)}</code>`);
  return message(lines);
}

/** A reminder or escalation note, sent as a reply to the request card (or on its own in a new chat). */
export function noteMessage(record: ApprovalRecord, kind: NotifyKind): TelegramText {
  const what = kind === "escalated" ? "🚨 Escalated" : "⏰ Reminder";
  return message([`${what}: <code>${html(record.id)}</code> (${safe(record.tool, 200)}) is still waiting for a decision (decide by ${new Date(record.deadline).toISOString()}).`]);
}

/** Deny asks for the reason with ForceReply: the approver's reply to this message is the reason. */
export function denyPrompt(record: ApprovalRecord, user: { id: number; first_name: string }): TelegramText & { reply_markup: { force_reply: true; selective: true; input_field_placeholder: string } } {
  // A text mention: `selective` shows the reply field to the mentioned user only, username or not.
  const who = `<a href="tg://user?id=${user.id}">${safe(user.first_name, 100)}</a>`;
  return {
    ...message([`${who}, reply to this message with the reason for denying <code>${html(record.id)}</code> (${safe(record.tool, 200)}); the agent sees it.`]),
    reply_markup: { force_reply: true, selective: true, input_field_placeholder: "reason for the denial" },
  };
}

/** The deny prompt once its reply was read. */
export function denyPromptDone(id: string, outcome: string): TelegramText {
  return message([`<code>${html(id)}</code>: ${safe(outcome, 1_000)}`]);
}

/** A `/clawgate` command's answer: lists and records in a preformatted block, the rest as text. */
export function commandReply(text: string, preformatted: boolean): TelegramText {
  const t = redactText(text);
  return message([preformatted ? `<pre>${html(t.length > 3_900 ? `${t.slice(0, 3_899)}…` : t)}</pre>` : safe(t, 3_900)]);
}

/** A callback answer (a toast, or an alert for refusals): plain text, at most 200 characters. */
export function callbackText(text: string): string {
  const t = redactText(text);
  return t.length > 200 ? `${t.slice(0, 199)}…` : t;
}
