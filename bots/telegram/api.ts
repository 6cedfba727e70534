import { UnrecoverableError } from "bullmq";
import { ChannelRateLimitedError } from "../../src/channel/adapter.ts";

/** Telegram's answer to a failed method call: `{ ok: false, error_code, description, parameters? }`. */
export class TelegramApiError extends Error {
  constructor(
    readonly method: string,
    /** The HTTP status, which Telegram sets to error_code (read by failedPostLeft). */
    readonly statusCode: number,
    readonly description: string,
    readonly retryAfterS?: number,
    readonly migrateToChatId?: number,
  ) {
    super(`Telegram ${method} failed (${statusCode}): ${description}`);
    this.name = "TelegramApiError";
  }
}

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
}

export interface TgMessage {
  message_id: number;
  from?: TgUser;
  chat: { id: number; type: string };
  text?: string;
  entities?: Array<{ type: string; offset: number; length: number }>;
  reply_to_message?: TgMessage;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message?: TgMessage;
  data?: string;
}

export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  callback_query?: TgCallbackQuery;
}

/**
 * The Bot API over fetch (https://core.telegram.org/bots/api#making-requests): `POST
 * {apiUrl}/bot<token>/<method>` with a JSON body, answered `{ ok, result }` or `{ ok: false,
 * error_code, description, parameters }`. No client library: a handful of methods, and the
 * retrying is the queue's (the client never waits out a 429 itself).
 */
export class TelegramApi {
  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
  ) {}

  /** Calls `method`; gives up after `timeoutMs` (default 30 s) or when `signal` aborts. */
  async call<T>(method: string, params: Record<string, unknown> = {}, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
    // AbortSignal.any needs Node 20.3; clawgate runs on any Node 20.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException(`Telegram ${method} timed out`, "TimeoutError")), opts.timeoutMs ?? 30_000);
    const stop = () => abort.abort(opts.signal?.reason);
    if (opts.signal?.aborted) stop();
    opts.signal?.addEventListener("abort", stop, { once: true });
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.apiUrl.replace(/\/+$/, "")}/bot${this.token}/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(params),
        signal: abort.signal,
      });
      text = await res.text();
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", stop);
    }
    let body: { ok?: boolean; result?: T; error_code?: number; description?: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new TelegramApiError(method, res.status, `not a Bot API answer: ${text.slice(0, 200)}`);
    }
    if (body.ok === true) return body.result as T;
    throw new TelegramApiError(method, body.error_code ?? res.status, body.description ?? "no description", body.parameters?.retry_after, body.parameters?.migrate_to_chat_id);
  }
}

/**
 * Maps Bot API failures onto the queue's retry rules: 429 → hold back the bucket the call drew
 * from for `retry_after` seconds; 5xx and network errors → retry with backoff; other 4xx (a bad
 * token, a chat the bot is not in, a user who never started the bot) → fail the job for
 * inspection, since retrying cannot fix them.
 */
export async function telegramCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof TelegramApiError)) throw err;
    if (err.statusCode === 429) throw new ChannelRateLimitedError(Math.max(1, err.retryAfterS ?? 1) * 1000, `Telegram rate limit on ${err.method}: ${err.description}`);
    if (err.statusCode >= 400 && err.statusCode < 500) {
      const hint = err.migrateToChatId ? ` (the group became a supergroup: use chat id ${err.migrateToChatId})` : /bot can't initiate|bot was blocked/.test(err.description) ? " (the user must open the bot and press Start first)" : "";
      throw Object.assign(new UnrecoverableError(`Telegram refused ${err.method} (${err.statusCode}): ${err.description}${hint}`), { cause: err, statusCode: err.statusCode });
    }
    throw err;
  }
}

/** True when `err` (or its cause) is Telegram saying `fragment` in its description. */
export function saysTelegram(err: unknown, fragment: string): boolean {
  const e = (err as { cause?: unknown }).cause ?? err;
  return e instanceof TelegramApiError && e.description.includes(fragment);
}
