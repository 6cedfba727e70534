import type { Redis } from "ioredis";
import type { DecisionKind } from "../../src/approvals/record.ts";
import { ClawgateError, toChatReply } from "../../src/errors.ts";
import type { CheckOutcome, DecisionOutcome, InboundDecisions } from "../../src/inbound/decisions.ts";
import type { Identity } from "../../src/inbound/identity.ts";
import { parseVerb, runVerb } from "../../src/inbound/verbs.ts";
import type { Logger } from "../../src/log.ts";
import { CALLBACK, callbackText, commandReply, denyPrompt, denyPromptDone, parseCallbackData } from "../../templates/telegram.ts";
import { TelegramApiError, type TelegramApi, type TgCallbackQuery, type TgMessage, type TgUpdate, type TgUser } from "./api.ts";

/** The updates the bot asks Telegram for (setWebhook / getUpdates allowed_updates). */
export const ALLOWED_UPDATES = ["message", "callback_query"] as const;

/** How long an update id is remembered, so a redelivered update (webhook retry, a poll repeated after a crash) acts once. */
const UPDATE_SEEN_MS = 24 * 3_600_000;
/** A deny prompt is answered within this long at most (and never after its approval's deadline). */
const PROMPT_MAX_MS = 24 * 3_600_000;
/** Reasons are capped like the other channels' deny forms. */
const MAX_REASON = 1_000;

interface TelegramInboundDeps {
  api: TelegramApi;
  decisions: InboundDecisions;
  approvers: readonly string[];
  redis: Redis;
  /** Key prefix with the deployment's hash tag, e.g. "{clawgate}". */
  keyTag: string;
  log: Logger;
}

interface DenyPrompt {
  id: string;
  user: string;
}

/**
 * Every update — a button press (callback_query), a `/clawgate` command, a reply to a deny
 * prompt — becomes a decision through the one inbound path (identity → authorize → decide),
 * whose refusals are audited and leave the approval pending, and an answer on Telegram: a
 * callback answer (an alert for refusals), or a reply in the chat. The same code serves the
 * webhook and long polling. Identities are Telegram user ids ("telegram:42"), which Telegram
 * vouches for in both paths.
 */
export class TelegramInbound {
  private me: Promise<TgUser> | null = null;

  constructor(private readonly deps: TelegramInboundDeps) {}

  readonly isApprover = (i: Identity): boolean => this.deps.approvers.includes(i.id);

  /** The bot itself (getMe), asked once: commands addressed `/clawgate@OtherBot` are not ours. */
  bot(): Promise<TgUser> {
    this.me ??= this.deps.api.call<TgUser>("getMe").catch((err: unknown) => {
      this.me = null;
      throw err;
    });
    return this.me;
  }

  /**
   * Handles `update` once: a redelivered update id is skipped. Throws only when the update could
   * not be handled (Redis or Telegram unreachable): it is then forgotten, so a redelivery retries it.
   */
  async handle(update: TgUpdate): Promise<void> {
    const seen = `${this.deps.keyTag}:telegram:update:${update.update_id}`;
    if ((await this.deps.redis.set(seen, "1", "PX", UPDATE_SEEN_MS, "NX")) !== "OK") return;
    try {
      if (update.callback_query) await this.callback(update.callback_query);
      else if (update.message) await this.message(update.message);
    } catch (err) {
      await this.deps.redis.del(seen).catch(() => undefined);
      throw err;
    }
  }

  private identity(user: TgUser): Identity {
    return { channel: "telegram", id: String(user.id) };
  }

  private async answerQuery(q: TgCallbackQuery, text: string, alert = false): Promise<void> {
    try {
      await this.deps.api.call("answerCallbackQuery", { callback_query_id: q.id, text: callbackText(text), ...(alert ? { show_alert: true } : {}) });
    } catch (err) {
      // The decision (or refusal) stands; only the toast is lost (e.g. the query got too old).
      this.deps.log.warn({ err: (err as Error).message }, "could not answer a Telegram callback query");
    }
  }

  private async reply(to: TgMessage, body: object): Promise<TgMessage | null> {
    try {
      return await this.deps.api.call<TgMessage>("sendMessage", { chat_id: to.chat.id, reply_parameters: { message_id: to.message_id, allow_sending_without_reply: true }, ...body });
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, chat: to.chat.id }, "could not answer on Telegram");
      return null;
    }
  }

  /** The pipeline's outcome in words: a decision's toast, or why not (a refusal is already recorded for the audit log). */
  private words(out: DecisionOutcome | CheckOutcome): string {
    if (out.kind === "decided") return out.resolution.state === "approved" ? `✅ Approved ${out.record.id}${out.resolution.decision === "allow-always" && out.record.alwaysAllowRule ? `; saved rule ${out.record.alwaysAllowRule}` : ""}` : `⛔ Denied ${out.record.id}`;
    if (out.kind === "allowed") return "";
    return `${out.kind === "refused" ? "⛔" : "ℹ️"} ${toChatReply(out.error)}`;
  }

  private async decide(identity: Identity, id: string, decision: DecisionKind, reason?: string): Promise<{ ok: boolean; text: string }> {
    const out = await this.deps.decisions.run({ identity, approvalId: id, decision, ...(reason ? { reason } : {}), isChannelApprover: this.isApprover });
    return { ok: out.kind === "decided", text: this.words(out) };
  }

  private async callback(q: TgCallbackQuery): Promise<void> {
    const parsed = parseCallbackData(q.data);
    if (!parsed) return this.answerQuery(q, "unknown button");
    const identity = this.identity(q.from);
    if (parsed.action === CALLBACK.approve || parsed.action === CALLBACK.always) {
      const out = await this.decide(identity, parsed.id, parsed.action === CALLBACK.always ? "allow-always" : "allow-once");
      return this.answerQuery(q, out.text, !out.ok);
    }
    // Deny: check first (a refusal needs no prompt), then ask for the reason with ForceReply.
    const checked = await this.deps.decisions.check({ identity, approvalId: parsed.id, decision: "deny", isChannelApprover: this.isApprover });
    if (checked.kind !== "allowed") return this.answerQuery(q, this.words(checked), true);
    if (!q.message) return this.answerQuery(q, `this message is too old to reply to; send /clawgate deny ${parsed.id} REASON`, true);
    const { record } = checked;
    let prompt: TgMessage;
    try {
      prompt = await this.deps.api.call<TgMessage>("sendMessage", {
        chat_id: q.message.chat.id,
        reply_parameters: { message_id: q.message.message_id, allow_sending_without_reply: true },
        ...denyPrompt(record, q.from),
      });
    } catch (err) {
      const wait = err instanceof TelegramApiError && err.statusCode === 429 ? ` Telegram asks to wait ${err.retryAfterS ?? 1} s.` : "";
      this.deps.log.warn({ err: (err as Error).message }, "could not send the Telegram deny prompt");
      return this.answerQuery(q, `could not ask for the reason.${wait} Press Deny again, or send /clawgate deny ${parsed.id} REASON`, true);
    }
    const ttl = Math.max(60_000, Math.min(PROMPT_MAX_MS, record.deadline - Date.now() + 60_000));
    await this.deps.redis.set(this.promptKey(prompt.chat.id, prompt.message_id), JSON.stringify({ id: parsed.id, user: String(q.from.id) } satisfies DenyPrompt), "PX", ttl);
    return this.answerQuery(q, "Reply to my message with the reason (the agent sees it)");
  }

  private promptKey(chat: number, message: number): string {
    return `${this.deps.keyTag}:telegram:prompt:${chat}:${message}`;
  }

  private async message(m: TgMessage): Promise<void> {
    if (!m.from || m.from.is_bot || typeof m.text !== "string") return;
    if (m.reply_to_message) {
      const key = this.promptKey(m.chat.id, m.reply_to_message.message_id);
      const raw = await this.deps.redis.get(key);
      if (raw) return this.denyReason(m, m.reply_to_message, key, JSON.parse(raw) as DenyPrompt);
    }
    const cmd = /^\/clawgate(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/i.exec(m.text.trim());
    if (!cmd) {
      if (m.chat.type === "private") await this.reply(m, commandReply("Send /clawgate pending, /clawgate show ID, /clawgate approve ID [reason] or /clawgate deny ID REASON.", false));
      return;
    }
    // `/clawgate@OtherBot` in a group is another bot's command.
    if (cmd[1] && cmd[1].toLowerCase() !== ((await this.bot()).username ?? "").toLowerCase()) return;
    try {
      const result = await runVerb(this.deps.decisions, parseVerb(cmd[2] ?? ""), { identity: this.identity(m.from), isChannelApprover: this.isApprover });
      await this.reply(m, commandReply(result.text, result.verb === "pending" || result.verb === "show"));
    } catch (err) {
      if (!(err instanceof ClawgateError)) throw err;
      await this.reply(m, commandReply(toChatReply(err), false));
    }
  }

  /** A reply to a deny prompt: from the approver who pressed Deny, it is the reason. */
  private async denyReason(m: TgMessage, prompt: TgMessage, key: string, asked: DenyPrompt): Promise<void> {
    const from = m.from as TgUser;
    if (String(from.id) !== asked.user) {
      await this.reply(m, commandReply(`this prompt is for the approver who pressed Deny; to deny ${asked.id} yourself, press Deny or send /clawgate deny ${asked.id} REASON`, false));
      return;
    }
    const reason = (m.text ?? "").trim().slice(0, MAX_REASON);
    if (!reason) {
      await this.reply(m, commandReply("a denial needs a reason (the agent sees it); reply again with it", false));
      return;
    }
    const out = await this.decide(this.identity(from), asked.id, "deny", reason);
    await this.deps.redis.del(key);
    if (!out.ok) {
      await this.reply(m, commandReply(out.text, false));
      return;
    }
    try {
      await this.deps.api.call("editMessageText", { chat_id: prompt.chat.id, message_id: prompt.message_id, ...denyPromptDone(asked.id, `denied by ${from.username ? `@${from.username}` : from.first_name}; reason recorded`) });
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, "could not close the Telegram deny prompt");
    }
  }
}
