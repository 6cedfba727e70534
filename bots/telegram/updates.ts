import type { IncomingMessage, ServerResponse } from "node:http";
import type { Redis } from "ioredis";
import { sameSecret } from "../../src/auth/secret.ts";
import type { AuditLog } from "../../src/audit/log.ts";
import { BadRequestError, UnauthorizedError } from "../../src/errors.ts";
import type { Logger } from "../../src/log.ts";
import { readBody, sendJson } from "../../src/http/router.ts";
import { Leader } from "../../src/redis/leader.ts";
import { TelegramApiError, type TelegramApi, type TgUpdate } from "./api.ts";
import { ALLOWED_UPDATES, type TelegramInbound } from "./inbound.ts";

const SECRET_HEADER = "x-telegram-bot-api-secret-token";
/** Refused webhook requests are audited at most this often (with a count), so a flood cannot fill the audit log. */
const REFUSAL_AUDIT_EVERY_MS = 10_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/**
 * `POST /telegram/webhook`: Telegram sends every update with the secret given to setWebhook in
 * X-Telegram-Bot-Api-Secret-Token. A request without it, or with another, is refused (401),
 * logged and audited, and changes nothing; the secret is compared in constant time. An update
 * that could not be handled is answered 500, so Telegram delivers it again.
 */
export class TelegramWebhook {
  private refusedSince = 0;
  private lastAudit = 0;

  constructor(
    private readonly opts: { secret: string; maxBodyBytes: number; inbound: TelegramInbound; audit: AuditLog; log: Logger },
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const given = req.headers[SECRET_HEADER];
    if (typeof given !== "string" || !sameSecret(given, this.opts.secret)) {
      await this.refuse(typeof given === "string" ? "wrong X-Telegram-Bot-Api-Secret-Token" : "no X-Telegram-Bot-Api-Secret-Token");
      throw new UnauthorizedError("Telegram webhook request without the secret token set with setWebhook");
    }
    const raw = await readBody(req, this.opts.maxBodyBytes);
    let update: TgUpdate;
    try {
      update = JSON.parse(raw.toString("utf8")) as TgUpdate;
    } catch {
      throw new BadRequestError("Telegram update is not valid JSON");
    }
    if (typeof update !== "object" || update === null || !Number.isSafeInteger(update.update_id)) throw new BadRequestError("Telegram update has no update_id");
    await this.opts.inbound.handle(update);
    sendJson(res, 200, { ok: true });
  }

  private async refuse(why: string): Promise<void> {
    this.refusedSince += 1;
    const now = Date.now();
    this.opts.log.warn({ why }, "refused a Telegram webhook request");
    if (now - this.lastAudit < REFUSAL_AUDIT_EVERY_MS) return;
    const count = this.refusedSince;
    this.lastAudit = now;
    this.refusedSince = 0;
    await this.opts.audit
      .append({ type: "refusal", channel: "telegram", actor: "telegram:webhook", reason: why, details: { what: "webhook request", refused: count } })
      .catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message }, "could not audit a refused Telegram webhook request"));
  }
}

/**
 * Long polling (getUpdates) when Telegram cannot reach serve: one replica at a time polls,
 * under a Redis lease (Telegram ends a second poller's request with 409 anyway). The leader
 * first deletes any webhook (getUpdates is refused while one is set), then asks for updates
 * with `offset` = the last handled update_id + 1, which confirms everything before it.
 */
export class TelegramPoller {
  private readonly leader: Leader;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private offset: number | undefined;
  private fatal: string | null = null;

  constructor(
    private readonly opts: { api: TelegramApi; inbound: TelegramInbound; redis: Redis; leaseKey: string; timeoutS: number; log: Logger; leaseMs?: number },
  ) {
    this.leader = new Leader(opts.redis, { key: opts.leaseKey, ttlMs: opts.leaseMs ?? 10_000, log: opts.log });
  }

  get problem(): string | null {
    return this.fatal;
  }

  /** Returns at once: an unreachable Telegram must not hold up `serve`. */
  start(): void {
    this.leader.start();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.leader.stop();
  }

  private async run(): Promise<void> {
    const { api, log } = this.opts;
    const signal = this.abort.signal;
    let webhookCleared = false;
    while (!signal.aborted) {
      if (!this.leader.isLeader) {
        webhookCleared = false;
        await sleep(500, signal);
        continue;
      }
      try {
        if (!webhookCleared) {
          await api.call("deleteWebhook", { drop_pending_updates: false }, { signal, timeoutMs: 30_000 });
          webhookCleared = true;
          log.info("polling Telegram for updates (getUpdates)");
        }
        const updates = await api.call<TgUpdate[]>(
          "getUpdates",
          { ...(this.offset !== undefined ? { offset: this.offset } : {}), timeout: this.opts.timeoutS, allowed_updates: ALLOWED_UPDATES },
          { signal, timeoutMs: (this.opts.timeoutS + 15) * 1000 },
        );
        for (const u of updates) {
          try {
            await this.opts.inbound.handle(u);
          } catch (err) {
            // Confirming it anyway: a poison update must not stop every later one.
            log.error({ err: (err as Error).message, update: u.update_id }, "could not handle a Telegram update");
          }
          this.offset = Math.max(this.offset ?? 0, u.update_id + 1);
        }
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof TelegramApiError && err.statusCode === 401) {
          this.fatal = "Telegram refused the bot token (401): telegram.botToken is wrong or was revoked (BotFather → /revoke gives a new one)";
          log.error(this.fatal);
          break;
        }
        if (err instanceof TelegramApiError && err.statusCode === 409) {
          // A webhook was set meanwhile, or another poller runs with this token.
          log.warn({ err: err.description }, "Telegram getUpdates conflict; retrying");
          webhookCleared = !/webhook/i.test(err.description);
          await sleep(1_000, signal);
          continue;
        }
        const retry = err instanceof TelegramApiError && err.statusCode === 429 ? (err.retryAfterS ?? 1) * 1000 : 2_000;
        log.warn({ err: (err as Error).message }, "Telegram getUpdates failed; retrying");
        await sleep(retry, signal);
      }
    }
  }
}
