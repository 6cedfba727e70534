import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A faithful local fake of the parts of the Telegram Bot API clawgate uses
 * (https://core.telegram.org/bots/api): `POST|GET {base}/bot<token>/<method>` with parameters as
 * JSON, form fields or the query string (objects such as `reply_markup` JSON-serialised in the
 * last two); every answer `{ok: true, result}` or `{ok: false, error_code, description,
 * parameters?}` with Telegram's own texts. Methods: getMe, sendMessage (HTML parse mode checked,
 * inline keyboards with `callback_data` ≤ 64 bytes, ForceReply, replies), editMessageText,
 * editMessageReplyMarkup, deleteMessage, answerCallbackQuery (once, while the query is young),
 * getUpdates (long polling with offset/limit/timeout; 409 while a webhook is set or when a newer
 * poll takes over), setWebhook / deleteWebhook / getWebhookInfo (updates POSTed to the URL with
 * `X-Telegram-Bot-Api-Secret-Token`, redelivered until answered 2xx), and 429 `retry_after` when
 * a chat is written to faster than Telegram allows (about one message a second per chat, 20 a
 * minute in groups). Deviation, on purpose: webhook URLs may be plain http on loopback.
 *
 * Bots run in privacy mode, as by default: in groups they receive commands, replies to their own
 * messages and callback queries only. Everything received is recorded for assertions.
 */

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
}

export interface TgChat {
  id: number;
  type: "private" | "group" | "supergroup" | "channel";
  title?: string;
  first_name?: string;
  username?: string;
}

export interface TgButton {
  text: string;
  callback_data?: string;
  url?: string;
}

export type TgReplyMarkup = { inline_keyboard: TgButton[][] } | { force_reply: true; input_field_placeholder?: string; selective?: boolean };

export interface TgEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
}

export interface TgMessage {
  message_id: number;
  from?: TgUser;
  chat: TgChat;
  date: number;
  edit_date?: number;
  text?: string;
  entities?: TgEntity[];
  reply_markup?: TgReplyMarkup;
  reply_to_message?: TgMessage;
  message_thread_id?: number;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message?: TgMessage;
  chat_instance: string;
  data?: string;
}

export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  callback_query?: TgCallbackQuery;
}

export interface FakeTelegramCall {
  method: string;
  params: Record<string, unknown>;
  ok: boolean;
  errorCode?: number;
  at: number;
}

export interface FakeTelegramPace {
  /** Minimum spacing of messages to one chat after the burst (Telegram: about 1 s). */
  perChatIntervalMs: number;
  perChatBurst: number;
  /** Messages per minute to one group or supergroup (Telegram: 20). */
  groupPerMinute: number;
}

export interface FakeTelegramOptions {
  /** Enforce Telegram's per-chat pace with 429 retry_after (default on); false to switch off. */
  pace?: Partial<FakeTelegramPace> | false;
  /** How long a callback query can be answered (Telegram: a few seconds; default 15 s). */
  callbackAnswerWindowMs?: number;
}

type TgError = { error_code: number; description: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } };

class ApiError extends Error {
  constructor(readonly answer: TgError) {
    super(answer.description);
  }
}

const bad = (description: string) => new ApiError({ error_code: 400, description: `Bad Request: ${description}` });

const HTML_TAGS = new Set(["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"]);

/** The text a reader sees of an HTML-mode message, or Telegram's "can't parse entities" error. */
export function parseTelegramHtml(html: string): string {
  const open: string[] = [];
  let text = "";
  for (let i = 0; i < html.length; ) {
    const c = html[i] as string;
    if (c === "<") {
      const end = html.indexOf(">", i);
      if (end < 0) throw bad(`can't parse entities: Unclosed start tag at byte offset ${i}`);
      const inner = html.slice(i + 1, end);
      const closing = inner.startsWith("/");
      const name = (closing ? inner.slice(1) : inner).split(/\s/)[0]?.toLowerCase() ?? "";
      if (!HTML_TAGS.has(name)) throw bad(`can't parse entities: Unsupported start tag "${name}" at byte offset ${i}`);
      if (closing) {
        if (open.pop() !== name) throw bad(`can't parse entities: Unmatched end tag at byte offset ${i}, expected "</${open.at(-1) ?? ""}>", found "</${name}>"`);
      } else open.push(name);
      i = end + 1;
    } else if (c === "&") {
      const m = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/i.exec(html.slice(i, i + 12));
      if (!m) throw bad(`can't parse entities: Character '&' is reserved and must be escaped at byte offset ${i}`);
      const e = (m[1] as string).toLowerCase();
      text += e === "lt" ? "<" : e === "gt" ? ">" : e === "amp" ? "&" : e === "quot" ? '"' : String.fromCodePoint(e.startsWith("#x") ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
      i += m[0].length;
    } else {
      text += c;
      i += 1;
    }
  }
  if (open.length) throw bad(`can't parse entities: Can't find end tag corresponding to start tag "${open.at(-1)}"`);
  return text;
}

function checkMarkup(markup: unknown): TgReplyMarkup | undefined {
  if (markup === undefined || markup === null) return undefined;
  if (typeof markup !== "object") throw bad("can't parse reply keyboard markup JSON object");
  if ("force_reply" in markup) {
    if ((markup as { force_reply: unknown }).force_reply !== true) throw bad("can't parse reply keyboard markup JSON object");
    return markup as TgReplyMarkup;
  }
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (!Array.isArray(rows)) throw bad("can't parse reply keyboard markup JSON object");
  for (const row of rows) {
    if (!Array.isArray(row)) throw bad("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays");
    for (const b of row as TgButton[]) {
      if (typeof b?.text !== "string" || b.text === "") throw bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
      const kinds = [b.callback_data, b.url].filter((v) => v !== undefined).length;
      if (kinds !== 1) throw bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
      if (b.callback_data !== undefined && (typeof b.callback_data !== "string" || Buffer.byteLength(b.callback_data) < 1 || Buffer.byteLength(b.callback_data) > 64)) throw bad("BUTTON_DATA_INVALID");
    }
  }
  return markup as TgReplyMarkup;
}

/** A parameter given as JSON, or as a form/query string holding JSON (how Telegram reads objects there). */
function objectParam(v: unknown): unknown {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    throw bad("can't parse reply keyboard markup JSON object");
  }
}

function intParam(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

export class FakeTelegram {
  readonly token = `${100000 + Math.floor(Math.random() * 899999)}:${randomBytes(17).toString("base64url")}`;
  readonly bot: TgUser = { id: 7000000001, is_bot: true, first_name: "clawgate", username: "clawgate_test_bot" };
  readonly calls: FakeTelegramCall[] = [];
  readonly chats = new Map<number, TgChat>();
  /** "chatId:messageId" → the message as it is now. */
  readonly messages = new Map<string, TgMessage>();
  readonly callbackAnswers: Array<{ id: string; text?: string; show_alert?: boolean }> = [];
  /** Webhook deliveries: what was POSTed and how the receiver answered. */
  readonly deliveries: Array<{ updateId: number; status: number; secret: string | undefined }> = [];
  webhook: { url: string; secret?: string; allowed?: string[] } | null = null;
  port = 0;
  private readonly pace: FakeTelegramPace | null;
  private readonly answerWindowMs: number;
  private readonly pending: TgUpdate[] = [];
  private readonly queries = new Map<string, { at: number; answered: boolean }>();
  private readonly nextId = new Map<number, number>();
  private readonly sentAt = new Map<number, number[]>();
  private readonly faults: Array<{ method: string; error: TgError }> = [];
  private readonly waiters = new Set<() => void>();
  private poll: { id: number; wake: () => void } | null = null;
  private pollSeq = 0;
  private updateSeq = 100_000;
  private delivering = false;
  private closed = false;
  private readonly server: Server;

  constructor(opts: FakeTelegramOptions = {}) {
    this.pace = opts.pace === false ? null : { perChatIntervalMs: 1_000, perChatBurst: 3, groupPerMinute: 20, ...opts.pace };
    this.answerWindowMs = opts.callbackAnswerWindowMs ?? 15_000;
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** The API base to configure (`telegram.apiUrl`): methods live at `${apiUrl}/bot<token>/<method>`. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.poll?.wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addChat(chat: TgChat): TgChat {
    this.chats.set(chat.id, chat);
    return chat;
  }

  user(id: number, first_name: string, username?: string): TgUser {
    return { id, is_bot: false, first_name, ...(username ? { username } : {}) };
  }

  /** The next `count` calls of `method` fail with `error` (e.g. 429 with retry_after, or a 502). */
  failNext(method: string, error: TgError, count = 1): void {
    for (let i = 0; i < count; i++) this.faults.push({ method, error });
  }

  callsTo(method: string): FakeTelegramCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  messagesIn(chatId: number): TgMessage[] {
    return [...this.messages.values()].filter((m) => m.chat.id === chatId).sort((a, b) => a.message_id - b.message_id);
  }

  /** Resolves with the first value `probe` returns that is not undefined, checked on every change. */
  waitFor<T>(probe: () => T | undefined, what = "condition", timeoutMs = 5_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const v = probe();
        if (v === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`fake Telegram: timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** A person writes `text` in `chat` (a command such as "/clawgate@bot approve ap_x", or a reply to `replyTo`). */
  userSends(chatId: number, from: TgUser, text: string, replyTo?: TgMessage): TgMessage {
    const chat = this.requireChat(chatId);
    const message: TgMessage = { message_id: this.messageId(chat.id), from, chat, date: Math.floor(Date.now() / 1000), text };
    const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
    if (command) message.entities = [{ type: "bot_command", offset: 0, length: command[0].length }];
    if (replyTo) message.reply_to_message = replyTo;
    this.messages.set(`${chat.id}:${message.message_id}`, message);
    // Privacy mode: in groups a bot sees commands (to it, or to no bot in particular) and replies to its own messages.
    const addressed = command && (!command[1] || command[1].slice(1).toLowerCase() === this.bot.username?.toLowerCase());
    const visible = chat.type === "private" || addressed || replyTo?.from?.id === this.bot.id;
    if (visible) this.enqueue({ message });
    this.changed();
    return message;
  }

  /** A person presses an inline button of `message` (the callback query Telegram sends the bot); returns the query id. */
  press(message: TgMessage, from: TgUser, data: string): string {
    const id = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    this.queries.set(id, { at: Date.now(), answered: false });
    const current = this.messages.get(`${message.chat.id}:${message.message_id}`) ?? message;
    this.enqueue({ callback_query: { id, from, message: current, chat_instance: String(-message.chat.id * 7), data } });
    return id;
  }

  /** Presses the button labelled `label` on the bot's message. */
  pressButton(message: TgMessage, from: TgUser, label: string | RegExp): string {
    const current = this.messages.get(`${message.chat.id}:${message.message_id}`) ?? message;
    const markup = current.reply_markup;
    const buttons = markup && "inline_keyboard" in markup ? markup.inline_keyboard.flat() : [];
    const button = buttons.find((b) => (typeof label === "string" ? b.text === label : label.test(b.text)));
    if (!button?.callback_data) throw new Error(`fake Telegram: no button ${String(label)} on message ${current.message_id} (${buttons.map((b) => b.text).join(", ") || "no buttons"})`);
    return this.press(current, from, button.callback_data);
  }

  /** Updates not yet taken by getUpdates or delivered to the webhook. */
  get pendingUpdates(): number {
    return this.pending.length;
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    let method = "";
    let params: Record<string, unknown> = {};
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      if (!m) throw new ApiError({ error_code: 404, description: "Not Found" });
      method = m[2] as string;
      params = await this.params(req, url);
      if (m[1] !== this.token) throw new ApiError({ error_code: 401, description: "Unauthorized" });
      const fault = this.faults.findIndex((f) => f.method === method);
      if (fault >= 0) throw new ApiError((this.faults.splice(fault, 1)[0] as { error: TgError }).error);
      const result = await this.call(method, params);
      this.calls.push({ method, params, ok: true, at: Date.now() });
      this.changed();
      answer(200, { ok: true, result });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.calls.push({ method, params, ok: false, errorCode: err.answer.error_code, at: Date.now() });
      this.changed();
      answer(err.answer.error_code, { ok: false, ...err.answer });
    }
  }

  private async params(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = Object.fromEntries(url.searchParams);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    if (!body) return out;
    const type = req.headers["content-type"] ?? "";
    if (type.startsWith("application/json")) {
      try {
        Object.assign(out, JSON.parse(body) as Record<string, unknown>);
      } catch {
        throw bad("can't parse JSON object");
      }
    } else if (type.startsWith("application/x-www-form-urlencoded")) Object.assign(out, Object.fromEntries(new URLSearchParams(body)));
    return out;
  }

  private call(method: string, p: Record<string, unknown>): unknown {
    switch (method) {
      case "getMe":
        return this.bot;
      case "sendMessage":
        return this.sendMessage(p);
      case "editMessageText":
        return this.editMessageText(p);
      case "editMessageReplyMarkup":
        return this.editMessageReplyMarkup(p);
      case "deleteMessage": {
        const msg = this.requireMessage(p, "message to delete not found");
        this.messages.delete(`${msg.chat.id}:${msg.message_id}`);
        return true;
      }
      case "answerCallbackQuery":
        return this.answerCallbackQuery(p);
      case "getUpdates":
        return this.getUpdates(p);
      case "setWebhook":
        return this.setWebhook(p);
      case "deleteWebhook":
        this.webhook = null;
        if (p.drop_pending_updates === true || p.drop_pending_updates === "true") this.pending.length = 0;
        return true;
      case "getWebhookInfo":
        return { url: this.webhook?.url ?? "", has_custom_certificate: false, pending_update_count: this.pending.length, ...(this.webhook?.allowed ? { allowed_updates: this.webhook.allowed } : {}) };
      default:
        throw new ApiError({ error_code: 404, description: "Not Found: method not found" });
    }
  }

  private requireChat(id: unknown): TgChat {
    const n = intParam(id);
    const chat = n === undefined || Number.isNaN(n) ? undefined : this.chats.get(n);
    if (!chat) throw bad("chat not found");
    return chat;
  }

  private requireMessage(p: Record<string, unknown>, missing: string): TgMessage {
    const chat = this.requireChat(p.chat_id);
    const id = intParam(p.message_id);
    const msg = id === undefined || Number.isNaN(id) ? undefined : this.messages.get(`${chat.id}:${id}`);
    if (!msg) throw bad(missing);
    return msg;
  }

  private messageId(chatId: number): number {
    const next = (this.nextId.get(chatId) ?? 0) + 1;
    this.nextId.set(chatId, next);
    return next;
  }

  private render(p: Record<string, unknown>): string {
    if (typeof p.text !== "string" || p.text.trim() === "") throw bad("message text is empty");
    const text = p.parse_mode === "HTML" ? parseTelegramHtml(p.text) : p.text;
    if (p.parse_mode !== undefined && p.parse_mode !== "HTML" && p.parse_mode !== "MarkdownV2" && p.parse_mode !== "Markdown") throw bad("unsupported parse_mode");
    if (text.trim() === "") throw bad("message text is empty");
    if (text.length > 4096) throw bad("message is too long");
    return text;
  }

  /** Telegram's pace per chat: 429 with retry_after when a chat is written to too fast. */
  private paced(chat: TgChat): void {
    if (!this.pace) return;
    const now = Date.now();
    const times = (this.sentAt.get(chat.id) ?? []).filter((t) => now - t < 60_000);
    const group = chat.type === "group" || chat.type === "supergroup";
    const recent = times.filter((t) => now - t < this.pace!.perChatIntervalMs * this.pace!.perChatBurst);
    let waitMs = 0;
    if (recent.length >= this.pace.perChatBurst) waitMs = (recent[recent.length - this.pace.perChatBurst] as number) + this.pace.perChatIntervalMs * this.pace.perChatBurst - now;
    if (group && times.length >= this.pace.groupPerMinute) waitMs = Math.max(waitMs, (times[times.length - this.pace.groupPerMinute] as number) + 60_000 - now);
    if (waitMs > 0) {
      const retry = Math.max(1, Math.ceil(waitMs / 1000));
      throw new ApiError({ error_code: 429, description: `Too Many Requests: retry after ${retry}`, parameters: { retry_after: retry } });
    }
    times.push(now);
    this.sentAt.set(chat.id, times);
  }

  private sendMessage(p: Record<string, unknown>): TgMessage {
    const chat = this.requireChat(p.chat_id);
    const text = this.render(p);
    const markup = checkMarkup(objectParam(p.reply_markup));
    const replyParams = objectParam(p.reply_parameters) as { message_id?: number } | undefined;
    const replyId = intParam(replyParams?.message_id ?? p.reply_to_message_id);
    const replyTo = replyId === undefined ? undefined : this.messages.get(`${chat.id}:${replyId}`);
    if (replyId !== undefined && !replyTo) throw bad("message to be replied not found");
    this.paced(chat);
    const message: TgMessage = { message_id: this.messageId(chat.id), from: this.bot, chat, date: Math.floor(Date.now() / 1000), text };
    if (markup) message.reply_markup = markup;
    if (replyTo) message.reply_to_message = replyTo;
    this.messages.set(`${chat.id}:${message.message_id}`, message);
    return message;
  }

  private editMessageText(p: Record<string, unknown>): TgMessage {
    const msg = this.requireMessage(p, "message to edit not found");
    if (msg.from?.id !== this.bot.id) throw bad("message can't be edited");
    const text = this.render(p);
    const markup = checkMarkup(objectParam(p.reply_markup));
    if (text === msg.text && JSON.stringify(markup ?? null) === JSON.stringify(msg.reply_markup ?? null)) {
      throw bad("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
    }
    msg.text = text;
    // An edit without reply_markup removes the inline keyboard, as on Telegram.
    if (markup) msg.reply_markup = markup;
    else delete msg.reply_markup;
    msg.edit_date = Math.floor(Date.now() / 1000);
    return msg;
  }

  private editMessageReplyMarkup(p: Record<string, unknown>): TgMessage {
    const msg = this.requireMessage(p, "message to edit not found");
    const markup = checkMarkup(objectParam(p.reply_markup));
    if (JSON.stringify(markup ?? null) === JSON.stringify(msg.reply_markup ?? null)) throw bad("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
    if (markup) msg.reply_markup = markup;
    else delete msg.reply_markup;
    msg.edit_date = Math.floor(Date.now() / 1000);
    return msg;
  }

  private answerCallbackQuery(p: Record<string, unknown>): true {
    const id = typeof p.callback_query_id === "string" ? p.callback_query_id : "";
    const q = this.queries.get(id);
    if (!q || q.answered || Date.now() - q.at > this.answerWindowMs) throw bad("query is too old and response timeout expired or query ID is invalid");
    if (typeof p.text === "string" && p.text.length > 200) throw bad("MESSAGE_TOO_LONG");
    q.answered = true;
    this.callbackAnswers.push({ id, ...(typeof p.text === "string" ? { text: p.text } : {}), ...(p.show_alert === true || p.show_alert === "true" ? { show_alert: true } : {}) });
    return true;
  }

  private setWebhook(p: Record<string, unknown>): true {
    if (typeof p.url !== "string") throw bad("bad webhook: Failed to resolve host: Name or service not known");
    if (p.url === "") {
      this.webhook = null;
      return true;
    }
    if (!/^https?:\/\//.test(p.url)) throw bad("bad webhook: An HTTPS URL must be provided for webhook");
    const secret = p.secret_token;
    if (secret !== undefined && (typeof secret !== "string" || !/^[A-Za-z0-9_-]{1,256}$/.test(secret))) throw bad("secret token contains unallowed characters");
    const allowed = objectParam(p.allowed_updates) as string[] | undefined;
    this.webhook = { url: p.url, ...(typeof secret === "string" ? { secret } : {}), ...(Array.isArray(allowed) ? { allowed } : {}) };
    if (p.drop_pending_updates === true || p.drop_pending_updates === "true") this.pending.length = 0;
    // A waiting getUpdates ends: updates now go to the webhook.
    this.poll?.wake();
    void this.deliver();
    return true;
  }

  private async getUpdates(p: Record<string, unknown>): Promise<TgUpdate[]> {
    if (this.webhook) throw new ApiError({ error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" });
    const offset = intParam(p.offset);
    if (offset !== undefined && !Number.isNaN(offset)) {
      // Updates below the offset are confirmed and forgotten (a negative offset counts from the end).
      if (offset >= 0) this.drop((u) => u.update_id < offset);
      else this.drop((_, i, all) => i < all.length + offset);
    }
    const limit = Math.min(100, Math.max(1, intParam(p.limit) ?? 100));
    const timeoutS = Math.min(50, Math.max(0, intParam(p.timeout) ?? 0));
    const allowed = objectParam(p.allowed_updates) as string[] | undefined;
    const wanted = (u: TgUpdate) => !Array.isArray(allowed) || allowed.length === 0 || allowed.some((k) => k in u);
    // A newer getUpdates ends the one waiting, as Telegram's "terminated by other getUpdates request".
    const previous = this.poll;
    const me = { id: ++this.pollSeq, wake: () => {} };
    this.poll = me;
    previous?.wake();
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      if (this.poll !== me) throw new ApiError({ error_code: 409, description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" });
      const ready = this.pending.filter(wanted).slice(0, limit);
      if (ready.length || Date.now() >= deadline || this.closed || this.webhook) {
        if (this.poll === me) this.poll = null;
        return ready;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        me.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  private drop(which: (u: TgUpdate, i: number, all: TgUpdate[]) => boolean): void {
    const keep = this.pending.filter((u, i, all) => !which(u, i, all));
    this.pending.length = 0;
    this.pending.push(...keep);
  }

  private enqueue(update: Omit<TgUpdate, "update_id">): void {
    this.pending.push({ update_id: ++this.updateSeq, ...update });
    this.poll?.wake();
    void this.deliver();
  }

  /** Webhook mode: POSTs pending updates in order; one not answered 2xx is sent again later. */
  private async deliver(): Promise<void> {
    if (this.delivering || !this.webhook) return;
    this.delivering = true;
    try {
      while (this.webhook && this.pending.length && !this.closed) {
        const update = this.pending[0] as TgUpdate;
        const hook = this.webhook;
        let status = 0;
        try {
          const res = await fetch(hook.url, {
            method: "POST",
            headers: { "content-type": "application/json", ...(hook.secret ? { "x-telegram-bot-api-secret-token": hook.secret } : {}) },
            body: JSON.stringify(update),
            signal: AbortSignal.timeout(10_000),
          });
          status = res.status;
          await res.arrayBuffer();
        } catch {
          status = 0;
        }
        this.deliveries.push({ updateId: update.update_id, status, secret: hook.secret });
        this.changed();
        if (status >= 200 && status < 300) {
          if (this.pending[0] === update) this.pending.shift();
        } else {
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  private changed(): void {
    for (const w of [...this.waiters]) w();
  }
}

export async function startFakeTelegram(opts: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  return new FakeTelegram(opts).listen();
}
