import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  MessageFlags,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
  type APIEmbed,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIModalInteractionResponseCallbackData,
} from "discord.js";
import type { ApprovalRecord } from "../src/approvals/record.ts";
import { describeResolution, resolutionOf } from "../src/approvals/record.ts";
import type { NotifyKind } from "../src/channel/adapter.ts";

/**
 * Discord embeds and components for approval messages. Limits that shape this file: an embed
 * field value is at most 1,024 characters, a description 4,096, all embeds of a message 6,000
 * together; a button label 80; a custom_id 100; message content 2,000.
 */
export const CUSTOM = {
  approve: "clawgate:approve",
  always: "clawgate:always",
  alwaysConfirm: "clawgate:always-confirm",
  deny: "clawgate:deny",
  params: "clawgate:params",
  denyModal: "clawgate:deny-modal",
} as const;
export const REASON_INPUT = "reason";

/** Params longer than this are cut in the embed; "Show full params" shows them (ephemerally). */
export const PARAMS_PREVIEW = 900;

const COLOR = { low: 0x3498db, medium: 0xf1c40f, high: 0xe67e22, critical: 0xe74c3c, approved: 0x2ecc71, denied: 0xe74c3c, closed: 0x95a5a6 } as const;

export type DiscordMessage = {
  content?: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  /** Nothing clawgate posts may ping anyone, whatever an agent put in a tool name or params. */
  allowed_mentions: { parse: [] };
};
const NO_PINGS = { parse: [] as [] };

/** "clawgate:approve:ap_123" → { action: "clawgate:approve", id: "ap_123" }. */
export function parseCustomId(customId: string): { action: string; id: string } {
  const i = customId.lastIndexOf(":");
  return { action: customId.slice(0, i), id: customId.slice(i + 1) };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
/** Discord markdown cannot escape backticks inside a code block; swap them so a param cannot close it. */
const code = (text: string, lang = "") => "```" + lang + "\n" + text.replace(/```/g, "ˋˋˋ") + "\n```";
const inline = (text: string) => "`" + text.replace(/`/g, "ˋ") + "`";
/** Escapes markdown and mentions in text a person or an agent wrote. */
function escape(text: string): string {
  return text.replace(/([\\*_~|>`#\-[\]()])/g, "\\$1").replace(/@/g, "@\u200b");
}
const stamp = (ms: number) => `<t:${Math.floor(ms / 1000)}:f> (<t:${Math.floor(ms / 1000)}:R>)`;
function who(actor: string): string {
  return /^discord:\d+$/.test(actor) ? `<@${actor.slice(8)}>` : escape(actor);
}

function prettyParams(record: ApprovalRecord): string {
  try {
    return JSON.stringify(JSON.parse(record.params), null, 2);
  } catch {
    return record.params;
  }
}

function facts(record: ApprovalRecord, e: EmbedBuilder, withButtonHint: boolean): void {
  const requester = [record.requester.channel, record.requester.senderId].filter(Boolean).join(":");
  const full = prettyParams(record);
  const cut = full.length > PARAMS_PREVIEW;
  e.addFields(
    { name: "Tool", value: inline(clip(record.tool, 200)), inline: true },
    { name: "Risk", value: clip(`${record.risk.class} (${record.risk.score}/100, ${record.risk.actionType}${record.risk.reversible ? "" : ", irreversible"})`, 1_024), inline: true },
    { name: "Agent", value: inline(clip(record.agentId || "–", 200)), inline: true },
    { name: "Session", value: inline(clip(record.sessionKey || "–", 200)), inline: true },
    { name: "Requester", value: inline(clip(requester || "–", 200)), inline: true },
    { name: "Rule", value: inline(clip(record.rule || "(none)", 500)), inline: true },
    { name: cut ? `Params (first ${PARAMS_PREVIEW} of ${full.length} characters${withButtonHint ? "; Show full params" : ""})` : "Params", value: code(cut ? `${full.slice(0, PARAMS_PREVIEW)}…` : full, "json") },
  );
}

/** The request: facts, params preview, deadline, and Approve / Always allow / Deny buttons. */
export function requestMessage(record: ApprovalRecord, ref: string): DiscordMessage {
  const e = new EmbedBuilder()
    .setTitle(clip(`Approval needed: ${record.tool}`, 256))
    .setColor(COLOR[record.risk.class])
    // All embeds of a message share 6,000 characters: every free-text part gets a budget.
    .setDescription(clip(escape(record.policyReason || "a policy rule asks for approval"), 1_000));
  facts(record, e, true);
  e.addFields({ name: "Decide by", value: stamp(record.deadline) });
  if (record.alwaysAllowRule) e.addFields({ name: "Always allow saves", value: inline(clip(record.alwaysAllowRule, 500)) });
  // The footer carries the id and the post's ref: `find` recognises an earlier attempt's message by it.
  e.setFooter({ text: `${record.id} · ref ${ref}` });

  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId(`${CUSTOM.approve}:${record.id}`).setLabel("Approve").setStyle(ButtonStyle.Success));
  if (record.alwaysAllowRule) {
    row.addComponents(new ButtonBuilder().setCustomId(`${CUSTOM.always}:${record.id}`).setLabel(clip(`Always allow ${record.alwaysAllowRule}`, 80)).setStyle(ButtonStyle.Primary));
  }
  row.addComponents(new ButtonBuilder().setCustomId(`${CUSTOM.deny}:${record.id}`).setLabel("Deny…").setStyle(ButtonStyle.Danger));
  if (prettyParams(record).length > PARAMS_PREVIEW) {
    row.addComponents(new ButtonBuilder().setCustomId(`${CUSTOM.params}:${record.id}`).setLabel("Show full params").setStyle(ButtonStyle.Secondary));
  }
  return { content: clip(`Approval needed: ${record.tool} (${record.risk.class} risk) — ${record.id}`, 300), embeds: [e.toJSON()], components: [row.toJSON()], allowed_mentions: NO_PINGS };
}

/** The edit once the approval is final: outcome, who, why, when; no buttons. */
export function outcomeMessage(record: ApprovalRecord): DiscordMessage {
  const r = resolutionOf(record);
  const said = r ? describeResolution({ ...r, decidedBy: r.decidedBy ? "\u0001" : "" }) : "pending";
  const line = escape(said.charAt(0).toUpperCase() + said.slice(1)).replace("\u0001", r ? who(r.decidedBy) : "");
  const when = r?.decidedAt ? ` at ${stamp(r.decidedAt)}` : "";
  const always = r?.decision === "allow-always" && record.alwaysAllowRule ? `\nSaved rule: ${inline(clip(record.alwaysAllowRule, 500))}` : "";
  const e = new EmbedBuilder()
    .setTitle(clip(`${record.tool}: ${r?.state ?? "pending"}`, 256))
    .setColor(r?.state === "approved" ? COLOR.approved : r?.state === "denied" ? COLOR.denied : COLOR.closed)
    .setDescription(clip(`**${clip(line, 1_200)}**${when}${always}`, 2_000));
  facts(record, e, false);
  e.setFooter({ text: record.id });
  return { content: clip(`${record.id} ${r ? describeResolution(r) : "pending"}`, 300), embeds: [e.toJSON()], components: [], allowed_mentions: NO_PINGS };
}

export function threadNote(record: ApprovalRecord, kind: NotifyKind): { content: string; allowed_mentions: { parse: [] } } {
  const what = kind === "escalated" ? "🚨 Escalated" : "⏰ Reminder";
  return { content: `${what}: ${inline(record.id)} is still waiting for a decision (decide by ${stamp(record.deadline)}).`, allowed_mentions: NO_PINGS };
}

export function threadName(record: ApprovalRecord): string {
  return clip(`${record.id} ${record.tool}`, 100);
}

/** An answer only the person who clicked or typed sees. */
export function ephemeral(text: string, extra: Partial<DiscordMessage> = {}): { content: string; flags: number } & Partial<DiscordMessage> {
  return { content: clip(text, 2_000), flags: MessageFlags.Ephemeral, allowed_mentions: NO_PINGS, ...extra };
}

/** Always allow asks once more, showing the exact rule it saves (Discord buttons have no confirm dialog). */
export function alwaysConfirm(record: ApprovalRecord): ReturnType<typeof ephemeral> {
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(`${CUSTOM.alwaysConfirm}:${record.id}`).setLabel("Save rule and approve").setStyle(ButtonStyle.Primary),
  );
  return ephemeral(clip(`Approve ${inline(record.id)} and save ${inline(record.alwaysAllowRule)} for every gateway? Calls matching it will no longer ask.`, 2_000), { components: [row.toJSON()] });
}

export function denyModal(record: ApprovalRecord): APIModalInteractionResponseCallbackData {
  return new ModalBuilder()
    .setCustomId(`${CUSTOM.denyModal}:${record.id}`)
    .setTitle(clip(`Deny ${record.tool}`, 45))
    .addComponents(
      new ActionRowBuilder<TextInputBuilder>().addComponents(
        new TextInputBuilder().setCustomId(REASON_INPUT).setLabel("Reason (sent back to the agent)").setStyle(TextInputStyle.Paragraph).setMinLength(1).setMaxLength(1_000).setRequired(true),
      ),
    )
    .toJSON();
}

/** Full params in embeds (6,000 characters across a message's embeds); longer ones point at the CLI. */
export function paramsMessage(record: ApprovalRecord): ReturnType<typeof ephemeral> {
  const full = prettyParams(record);
  const embeds: APIEmbed[] = [];
  let used = 0;
  for (let i = 0; i < full.length && used + 2_000 <= 5_600; i += 1_900) {
    embeds.push({ description: code(full.slice(i, i + 1_900), "json") });
    used += 2_000;
  }
  const shown = Math.min(full.length, embeds.length * 1_900);
  const rest = full.length - shown;
  return ephemeral(`Full params of ${inline(record.id)} (secrets redacted)${rest > 0 ? `; ${rest} more characters: clawgate show ${record.id}` : ""}`, { embeds });
}
