import type { Redis } from "ioredis";
import { z } from "zod";
import type { Recipient } from "../../src/approvals/events.ts";
import { AuditLog } from "../../src/audit/log.ts";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import type { Logger } from "../../src/log.ts";
import type { Router } from "../../src/http/router.ts";
import { noteMessage, outcomeMessage, requestMessage } from "../../templates/telegram.ts";
import { assertMaySend, type ApprovalContext, type ChannelAdapter, type ChannelDeps, type ChannelPacing, type MessageRef, type NotifyKind, type PostMarker } from "../../src/channel/adapter.ts";
import { saysTelegram, TelegramApi, telegramCall, type TgMessage } from "./api.ts";
import { ALLOWED_UPDATES, TelegramInbound } from "./inbound.ts";
import { TelegramPoller, TelegramWebhook } from "./updates.ts";

type TelegramConfig = NonNullable<ClawgateConfig["telegram"]>;

const telegramRefSchema = z.object({
  chat: z.string().min(1),
  message: z.number().int(),
  /** A reminder or escalation note (a reply to the request card): never edited. */
  note: z.boolean().optional(),
});
type TelegramRef = z.infer<typeof telegramRefSchema>;

/**
 * How long a posted message's ref is kept under its nonce (see `find`): longer than any retry
 * of the post can come, shorter than Redis should hold garbage.
 */
const SENT_KEEP_MS = 24 * 3_600_000;

/** A group's (negative) chat id, as opposed to a user's private chat with the bot. */
const isGroup = (chat: string) => chat.startsWith("-");

/**
 * Telegram: request cards with Approve / Always allow / Deny inline buttons (Deny asks for the
 * reason with ForceReply), decisions from button presses, replies and `/clawgate` commands
 * (by webhook at /telegram/webhook, or by getUpdates long polling under a lease), and edits of
 * every card once the approval is final.
 */
export class TelegramChannel implements ChannelAdapter {
  readonly name = "telegram";
  readonly pacing: ChannelPacing = {
    buckets: {
      // Telegram: about one message a second to a private chat, at most 20 a minute to a group,
      // 30 a second for the bot overall (core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
      private: { intervalMs: 1_000 },
      group: { intervalMs: 3_000 },
      // Edits count against the same chat limits; they are kept apart so closing cards goes first.
      edit: { intervalMs: 1_000, burst: 3 },
    },
    post: (recipient) => ({ bucket: isGroup(recipient.target) ? "group" : "private", key: recipient.target }),
    edit: (ref) => ((ref as TelegramRef).note ? null : { bucket: "edit", key: (ref as TelegramRef).chat }),
  };
  readonly refSchema = telegramRefSchema;
  private readonly cfg: TelegramConfig;
  private readonly api: TelegramApi;
  private readonly log: Logger;
  private readonly redis: Redis;
  private readonly keyTag: string;
  private readonly inbound: TelegramInbound;
  private readonly poller: TelegramPoller | null;
  private readonly webhook: TelegramWebhook | null;
  private readonly webhookUrl: string | undefined;
  private readonly stopping = new AbortController();
  private registering: Promise<void> | undefined;
  private webhookProblem: string | null = null;

  constructor(deps: ChannelDeps) {
    this.cfg = deps.config.telegram as TelegramConfig;
    this.log = deps.log.child({ channel: "telegram" });
    this.api = new TelegramApi(this.cfg.apiUrl, this.cfg.botToken);
    const store = deps.decisions.service.store;
    this.redis = store.redis;
    this.keyTag = store.k.tag;
    this.inbound = new TelegramInbound({ api: this.api, decisions: deps.decisions, approvers: this.cfg.approvers, redis: this.redis, keyTag: this.keyTag, log: this.log });
    const publicUrl = deps.config.server.publicUrl;
    this.webhookUrl = this.cfg.webhookUrl ?? (publicUrl ? `${publicUrl.replace(/\/+$/, "")}/telegram/webhook` : undefined);
    if (this.cfg.updates === "webhook" && !this.webhookUrl) this.webhookProblem = "telegram.updates is webhook but neither telegram.webhookUrl nor server.publicUrl is set: Telegram cannot be told where to send updates";
    this.webhook = this.cfg.webhookSecret
      ? new TelegramWebhook({
          secret: this.cfg.webhookSecret,
          maxBodyBytes: deps.config.server.maxBodyBytes,
          inbound: this.inbound,
          audit: new AuditLog(this.redis, { prefix: deps.config.redis.prefix, hmacKey: deps.config.audit.hmacKey, dedupeWindowMs: deps.config.audit.dedupeWindow, logger: this.log }),
          log: this.log,
        })
      : null;
    this.poller =
      this.cfg.updates === "polling"
        ? new TelegramPoller({ api: this.api, inbound: this.inbound, redis: this.redis, leaseKey: store.k.leader("telegram-updates"), timeoutS: this.cfg.pollTimeout, log: this.log })
        : null;
  }

  /** POST /telegram/webhook, served whenever a webhook secret is configured (requests without it are refused). */
  routes(router: Router): void {
    const webhook = this.webhook;
    if (webhook) router.on("POST", "/telegram/webhook", (req, res) => webhook.handle(req, res));
  }

  async start(): Promise<void> {
    if (this.poller) return this.poller.start();
    if (this.webhookUrl && this.cfg.webhookSecret) this.registering = this.setWebhook(this.webhookUrl, this.cfg.webhookSecret);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.registering;
    await this.poller?.stop();
  }

  problem(): string | null {
    return this.poller?.problem ?? this.webhookProblem;
  }

  /** setWebhook in the background (every replica sets the same URL and secret), retried until Telegram takes it. */
  private async setWebhook(url: string, secret: string): Promise<void> {
    for (let wait = 1_000; !this.stopping.signal.aborted; wait = Math.min(wait * 2, 60_000)) {
      try {
        await this.api.call("setWebhook", { url, secret_token: secret, allowed_updates: ALLOWED_UPDATES }, { signal: this.stopping.signal });
        this.webhookProblem = null;
        this.log.info({ url }, "Telegram webhook set");
        return;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        this.webhookProblem = `could not set the Telegram webhook to ${url}: ${(err as Error).message}`;
        this.log.error({ err: (err as Error).message, url }, "could not set the Telegram webhook; retrying");
        await new Promise((r) => setTimeout(r, wait).unref());
      }
    }
  }

  private sentKey(nonce: string): string {
    return `${this.keyTag}:telegram:sent:${nonce}`;
  }

  /** The request card already posted to this chat, for replying reminders and escalation notes to it. */
  private parent(ctx: ApprovalContext, target: string): TelegramRef | undefined {
    return ctx.refs.find((r) => r.target === target && !(r.ref as TelegramRef).note)?.ref as TelegramRef | undefined;
  }

  /**
   * Posts to the chat of `recipient`: a group or user chat id (`telegram:<id>`, the configured
   * chat), or a person's user id — their private chat with the bot, which they must have started.
   * The ref is saved under the marker's nonce right after Telegram answers (see `find`).
   */
  async post(ctx: ApprovalContext, recipient: Recipient, kind: NotifyKind, _tier: number, marker: PostMarker): Promise<MessageRef> {
    const chat = recipient.target;
    const parent = kind === "request" ? undefined : this.parent(ctx, chat);
    // An escalation target that never got the card gets the card itself (with its buttons).
    const body = parent ? { ...noteMessage(ctx.record, kind), reply_parameters: { message_id: parent.message, allow_sending_without_reply: true } } : requestMessage(ctx.record);
    assertMaySend(marker);
    const msg = await telegramCall(() => this.api.call<TgMessage>("sendMessage", { chat_id: chat, ...body }));
    const ref: TelegramRef = { chat: String(msg.chat.id), message: msg.message_id, ...(parent ? { note: true } : {}) };
    await this.redis.set(this.sentKey(marker.nonce), JSON.stringify(ref), "PX", SENT_KEEP_MS);
    return ref;
  }

  /**
   * Bots cannot read a chat's history, so a message cannot be searched for by its nonce.
   * Instead `post` writes the ref under the nonce the moment Telegram answers, and this reads
   * it back: a retry after a crash between that write and the worker saving the ref finds the
   * message. What it cannot find is a message whose answer never arrived (a connection cut
   * after Telegram created it): the retry posts a second card, which works like the first and
   * is edited with it only if its ref was saved (docs/telegram.md, "Limits").
   */
  async find(_ctx: ApprovalContext, _recipient: Recipient, _kind: NotifyKind, _tier: number, marker: PostMarker): Promise<MessageRef | null> {
    const raw = await this.redis.get(this.sentKey(marker.nonce));
    if (!raw) return null;
    const parsed = telegramRefSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  }

  /** Shows the outcome; an edit without reply_markup removes the inline keyboard. */
  async update(ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    const r = ref as TelegramRef;
    if (r.note) return;
    try {
      await telegramCall(() => this.api.call("editMessageText", { chat_id: r.chat, message_id: r.message, ...outcomeMessage(ctx.record) }));
    } catch (err) {
      // Already showing the outcome (an earlier attempt got through), or deleted by someone in the chat.
      if (saysTelegram(err, "message is not modified")) return;
      if (saysTelegram(err, "message to edit not found")) return ctx.log.warn({ chat: r.chat, message: r.message }, "Telegram card was deleted before it could show the outcome");
      throw err;
    }
  }

  async retract(_ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    const r = ref as TelegramRef;
    try {
      await telegramCall(() => this.api.call("deleteMessage", { chat_id: r.chat, message_id: r.message }));
    } catch (err) {
      if (!saysTelegram(err, "message to delete not found")) throw err;
    }
  }
}
