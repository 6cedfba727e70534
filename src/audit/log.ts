import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { z } from "zod";
import { AuditBrokenError, BadRequestError, ConfigInvalidError, ClawgateError } from "../errors.ts";
import { canonicalJson } from "./canonicalJson.ts";
import { auditEventSchema } from "./event.ts";
import type { AuditEvent } from "./event.ts";
import { auditKeys } from "./keys.ts";
import type { AuditKeys } from "./keys.ts";
import { capEvent } from "./limits.ts";
import { loadLuaScript, type LuaScript } from "../lua/script.ts";
import { parseRawEntry, streamIdFor, toAuditRecord } from "./record.ts";
import type { AuditRecord } from "./record.ts";
import { fromRedisError } from "./redisErrors.ts";
import { verifyChain } from "./verify.ts";
import type { VerifyResult } from "./verify.ts";

export interface AuditLogOptions {
  /** `redis.prefix`; keys become `{prefix}:audit` and `{prefix}:audit:head`. */
  prefix: string;
  /** `audit.hmacKey`; every writer and verifier of one log must use the same key. */
  hmacKey?: string;
  logger?: Logger;
  /** Clock for entry timestamps (ms); injectable for tests. */
  now?: () => number;
}

export interface AppendResult {
  seq: number;
  hash: string;
}

const DEFAULT_READ_LIMIT = 100;
/** Below this HMAC-SHA1 keys are guessable offline, which defeats the point of keying the chain. */
const MIN_HMAC_KEY_BYTES = 20;

/**
 * The tamper-evident audit log: a hash chain in a Redis stream, appended atomically by
 * appendAudit-2.lua so any number of gateways and services can write concurrently.
 */
export class AuditLog {
  readonly #redis: Redis | Cluster;
  readonly #keys: AuditKeys;
  readonly #hmacKey: string | undefined;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #append: LuaScript;

  constructor(redis: Redis | Cluster, opts: AuditLogOptions) {
    // An empty key usually means `${AUDIT_HMAC_KEY}` interpolated to nothing; silently falling
    // back to an unkeyed chain would weaken the log without anyone noticing.
    if (opts.hmacKey === "") {
      throw new ConfigInvalidError("audit.hmacKey is empty: set it to a long random secret or remove it", { path: "audit.hmacKey" });
    }
    this.#redis = redis;
    this.#keys = auditKeys(opts.prefix);
    this.#hmacKey = opts.hmacKey;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
    this.#append = loadLuaScript(redis, "audit/appendAudit-2");
    if (opts.hmacKey !== undefined && Buffer.byteLength(opts.hmacKey, "utf8") < MIN_HMAC_KEY_BYTES) {
      this.#logger?.warn({ path: "audit.hmacKey" }, `audit.hmacKey is shorter than ${MIN_HMAC_KEY_BYTES} bytes; use a long random secret`);
    }
  }

  /**
   * Appends one event. Fields over the size caps are truncated with a marker; callers must
   * pass data that is already redacted. Rejects with RedisUnavailableError when Redis cannot
   * be reached, AuditBrokenError when the stored chain is inconsistent and cannot be extended.
   */
  async append(event: AuditEvent): Promise<AppendResult> {
    const parsed = auditEventSchema.safeParse(event);
    if (!parsed.success) {
      throw new BadRequestError(`invalid audit event: ${z.prettifyError(parsed.error)}`);
    }
    const entry = canonicalJson(capEvent(parsed.data));
    const ts = Math.floor(this.#now());
    let reply: unknown;
    try {
      reply = await this.#append.run([this.#keys.stream, this.#keys.head], [entry, String(ts), this.#hmacKey ?? ""]);
    } catch (err) {
      throw fromRedisError(err, "appending to the audit log");
    }
    const result = this.#appendResult(reply);
    this.#logger?.debug({ seq: result.seq, type: parsed.data.type }, "audit entry appended");
    return result;
  }

  /** The newest `limit` entries, oldest first. */
  async latest(limit: number): Promise<AuditRecord[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new BadRequestError(`limit must be a positive integer, got ${limit}`);
    let page: [string, string[]][];
    try {
      page = await this.#redis.xrevrange(this.#keys.stream, "+", "-", "COUNT", limit);
    } catch (err) {
      throw fromRedisError(err, "reading the audit log");
    }
    const first = page.at(-1);
    return first ? this.read({ fromSeq: Number(first[0].split("-")[1]), limit }) : [];
  }

  /** Entries in seq order, from `fromSeq` (default 1), at most `limit` (default 100). */
  async read(opts: { fromSeq?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    const fromSeq = opts.fromSeq ?? 1;
    const limit = opts.limit ?? DEFAULT_READ_LIMIT;
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new BadRequestError(`fromSeq must be a positive integer, got ${fromSeq}`);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new BadRequestError(`limit must be a positive integer, got ${limit}`);
    let page: [string, string[]][];
    try {
      page = await this.#redis.xrange(this.#keys.stream, streamIdFor(fromSeq), "+", "COUNT", limit);
    } catch (err) {
      throw fromRedisError(err, "reading the audit log");
    }
    return page.map(([streamId, fields]) => {
      const raw = parseRawEntry(streamId, fields);
      if (typeof raw === "string") {
        throw new AuditBrokenError(`audit entry ${streamId} is malformed: ${raw} (run \`clawgate audit verify\`)`, { streamId });
      }
      return toAuditRecord(raw);
    });
  }

  /** Recomputes the whole chain; see VerifyResult for how a break is reported. */
  async verify(): Promise<VerifyResult> {
    const result = await verifyChain(this.#redis, this.#keys, this.#hmacKey);
    if (!result.ok) this.#logger?.warn({ brokenAt: result.brokenAt, entries: result.entries }, "audit chain broken");
    return result;
  }

  /** The one place appendAudit's return codes become results or errors. */
  #appendResult(reply: unknown): AppendResult {
    const [code, seq, hash] = Array.isArray(reply) ? (reply as unknown[]) : [];
    if (code === 1 && typeof seq === "number" && typeof hash === "string") return { seq, hash };
    const where = { stream: this.#keys.stream, head: this.#keys.head };
    switch (code) {
      case -1:
        throw new AuditBrokenError(`audit head ${this.#keys.head} is missing or malformed while the log has entries; refusing to start a new chain (run \`clawgate audit verify\`)`, where);
      case -2:
        throw new AuditBrokenError(`audit stream already holds entries past the head ${this.#keys.head}; refusing to fork the chain (run \`clawgate audit verify\`)`, where);
      case -3:
        throw new ClawgateError("internal", "appendAudit rejected the timestamp", where);
      default:
        throw new ClawgateError("internal", `unexpected reply from appendAudit: ${JSON.stringify(reply)}`, where);
    }
  }
}
