import { z } from "zod";
import { defineChannel } from "../spec.ts";

/**
 * What clawgate knows about Telegram without loading the channel: its config block, how a
 * `telegram:<chat id>` target looks, and which identities a message to it grants. Kept free of
 * channel code (and of any SDK: the channel speaks the Bot API over fetch).
 */

/** A chat id as Telegram prints it: a user's (positive) or a group's / channel's (negative, supergroups -100…). */
const TELEGRAM_CHAT_ID = /^-?\d{1,20}$/;
/** A Telegram user id (positive). */
const TELEGRAM_USER_ID = /^\d{1,20}$/;

/** Ids may be written as YAML numbers or strings; clawgate keeps them as strings (they exceed 2^31). */
const idString = (pattern: RegExp, message: string) => z.preprocess((v) => (typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v), z.string().regex(pattern, message));

const telegramChatId = idString(TELEGRAM_CHAT_ID, "use the numeric Telegram chat id, e.g. -1001234567890 for a group or 42 for a user");
const telegramUserId = idString(TELEGRAM_USER_ID, "use the numeric Telegram user id, e.g. 42");

const telegramConfig = z
  .strictObject({
    botToken: z
      .string()
      .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, "set the bot token BotFather gave you (\"123456:ABC…\"), e.g. \"${TELEGRAM_BOT_TOKEN}\"")
      .describe("bot token from BotFather (\"123456:ABC…\")"),
    chat: telegramChatId.describe("chat id approval requests go to (a group: negative, e.g. -1001234567890)"),
    approvers: z.array(telegramUserId).default([]).describe("Telegram user ids who may decide"),
    updates: z
      .enum(["polling", "webhook"])
      .default("polling")
      .describe("`polling`: one serve replica (a Redis lease) long-polls getUpdates, no public URL needed; `webhook`: Telegram POSTs updates to /telegram/webhook"),
    webhookUrl: z.string().url().optional().describe("public URL of POST /telegram/webhook (default: server.publicUrl + /telegram/webhook); set with setWebhook at start"),
    webhookSecret: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,256}$/, "use 16–256 characters of A-Z, a-z, 0-9, _ and -, e.g. `openssl rand -hex 32`")
      .optional()
      .describe("secret Telegram sends in X-Telegram-Bot-Api-Secret-Token with every webhook update; required with updates: webhook"),
    pollTimeout: z.number().int().min(0).max(50).default(25).describe("seconds a getUpdates long poll waits for updates (polling mode)"),
    apiUrl: z.string().url().default("https://api.telegram.org").describe("Bot API base (a local Bot API server, a proxy, tests); methods are {apiUrl}/bot<token>/<method>"),
  })
  .refine((t) => t.updates !== "webhook" || t.webhookSecret !== undefined, { message: "set telegram.webhookSecret with updates: webhook (Telegram sends it back with every update)", path: ["webhookSecret"] });

export type TelegramConfig = z.output<typeof telegramConfig>;

/** The channel as the registry sees it (bots/specs.ts). */
export const telegramSpec = defineChannel({
  name: "telegram",
  label: "Telegram",
  config: telegramConfig.optional(),
  destinations: (cfg) => [cfg.chat],
  whenOff: "no telegram block is configured",
  // A group (negative id) or a user's private chat with the bot (their user id).
  address: { pattern: TELEGRAM_CHAT_ID, expected: "a numeric Telegram chat id (a group's is negative, e.g. -1001234567890) or user id", placeholder: "chat id" },
  // Their user id, which is also their private chat with the bot (they must have pressed Start).
  person: { describe: "Telegram user id (numeric, as a string); they must have started a chat with the bot to get direct messages" },
  // A user's private chat is theirs alone; a group grants nothing by itself (its members still need to be approvers).
  grants: (target) => TELEGRAM_USER_ID.test(target),
  requests: true,
  // Reminders and escalation notes are replies to the chat's request card.
  threads: true,
  // Telegram's webhook: an agent's calls to it are denied by the self-protection policy.
  callbacks: ["/telegram/webhook"],
  doctor: async (cfg) => (await import("./doctor.ts")).checkTelegram(cfg),
  load: async () => (await import("./index.ts")).TelegramChannel,
});
