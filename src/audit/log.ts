import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { z } from "zod";
import { AuditBrokenError, BadRequestError, ConfigInvalidError, RedisUnavailableError } from "../errors.ts";
import { ScriptCode, scriptError } from "../lua/codes.ts";
import { loadLuaScript, type LuaScript } from "../lua/script.ts";
import type { AuditAnchor } from "./anchor.ts";
import { canonicalJson } from "./canonicalJson.ts";
import { GENESIS_HASH, chainHash } from "./chain.ts";
import { auditEventSchema } from "./event.ts";
import type { AuditEvent } from "./event.ts";
import { auditKeys } from "./keys.ts";
import type { AuditKeys } from "./keys.ts";
import { capEvent } from "./limits.ts";
import { parseRawEntry, parseSeq, streamIdFor, toAuditRecord } from "./record.ts";
import type { AuditRecord } from "./record.ts";
import { fromRedisError } from "./redisErrors.ts";
import { repairHead, type RepairResult } from "./repair.ts";
import { verifyChain } from "./verify.ts";
import type { VerifyResult } from "./verify.ts";

export interface AuditLogOptions {
  /** `redis.prefix`; keys become `{prefix}:audit`, `{prefix}:audit:head`, `{prefix}:audit:dedupe`. */
  prefix: string;
  /** `audit.hmacKey`; every writer and verifier of one log must use the same key. Stays in this process. */
  hmacKey?: string | undefined;
  /** `audit.dedupeWindow` (ms): how long a dedupe key is remembered. Default 7 days. */
  dedupeWindowMs?: number;
  logger?: Logger;
  /** Clock for entry timestamps (ms); injectable for tests. */
  now?: () => number;
}

export interface AppendOptions {
  /**
   * Makes the append idempotent: if an entry was already appended with this key (within the
   * dedupe window), nothing is appended and that entry's seq and hash come back with
   * `duplicate: true`. Use the id of what is being recorded, e.g. the event stream entry id,
   * so a redelivered event is audited once however often and by however many processes it
   * is handled.
   */
  dedupeKey?: string;
}

export interface AppendResult {
  seq: number;
  hash: string;
  /** True when `dedupeKey` had been used before and nothing was appended. */
  duplicate: boolean;
}

/** The newest entry: what an anchor publishes. */
export interface AuditHead {
  seq: number;
  hash: string;
}

const DEFAULT_DEDUPE_WINDOW_MS = 7 * 86_400_000;
const MAX_DEDUPE_KEY_BYTES = 256;
const DEFAULT_READ_LIMIT = 100;
/** Below this HMAC-SHA1 keys are guessable offline, which defeats the point of keying the chain. */
const MIN_HMAC_KEY_BYTES = 20;
/**
 * Lost compare-and-set races before an append gives up. Each loss means another writer
 * appended, so the log as a whole always progresses; the bound only stops one writer from
 * spinning forever behind a crowd.
 */
const MAX_APPEND_ATTEMPTS = 50;

/**
 * The tamper-evident audit log: a hash chain in a Redis stream. Hashes are computed here, in
 * Node, and appendAudit-3.lua adds an entry only if the head is still the one it was hashed
 * against, so any number of processes can append concurrently and the HMAC key never leaves
 * this process.
 */
export class AuditLog {
  readonly #redis: Redis | Cluster;
  readonly #keys: AuditKeys;
  readonly #hmacKey: string | undefined;
  readonly #dedupeWindowMs: number;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #append: LuaScript;
  /** The head as of our last append or lost race; a guess, checked by the script. */
  #knownHead: AuditHead | undefined;
  /** Appends from this process run one at a time, so they never race each other. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(redis: Redis | Cluster, opts: AuditLogOptions) {
    // An empty key usually means `${AUDIT_HMAC_KEY}` interpolated to nothing; silently falling
    // back to an unkeyed chain would weaken the log without anyone noticing.
    if (opts.hmacKey === "") {
      throw new ConfigInvalidError("audit.hmacKey is empty: set it to a long random secret or remove it", { path: "audit.hmacKey" });
    }
    const window = opts.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    if (!Number.isSafeInteger(window) || window < 0) {
      throw new ConfigInvalidError(`audit.dedupeWindow must be a non-negative number of ms, got ${window}`, { path: "audit.dedupeWindow" });
    }
    this.#redis = redis;
    this.#keys = auditKeys(opts.prefix);
    this.#hmacKey = opts.hmacKey;
    this.#dedupeWindowMs = window;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
    this.#append = loadLuaScript(redis, "audit/appendAudit-3");
    if (opts.hmacKey !== undefined && Buffer.byteLength(opts.hmacKey, "utf8") < MIN_HMAC_KEY_BYTES) {
      this.#logger?.warn({ path: "audit.hmacKey" }, `audit.hmacKey is shorter than ${MIN_HMAC_KEY_BYTES} bytes; use a long random secret`);
    }
  }

  /**
   * Appends one event. Fields over the size caps are truncated with a marker; callers must
   * pass data that is already redacted. Rejects with RedisUnavailableError when Redis cannot
   * be reached, AuditBrokenError when the stored chain is inconsistent and cannot be extended.
   * If a reply is lost (timeout, dropped connection) the entry may or may not have been
   * appended: retry with the same `dedupeKey` to find out without appending twice.
   */
  async append(event: AuditEvent, opts: AppendOptions = {}): Promise<AppendResult> {
    const parsed = auditEventSchema.safeParse(event);
    if (!parsed.success) {
      throw new BadRequestError(`invalid audit event: ${z.prettifyError(parsed.error)}`);
    }
    const { dedupeKey } = opts;
    if (dedupeKey !== undefined && (dedupeKey === "" || Buffer.byteLength(dedupeKey, "utf8") > MAX_DEDUPE_KEY_BYTES)) {
      throw new BadRequestError(`dedupeKey must be 1–${MAX_DEDUPE_KEY_BYTES} bytes`);
    }
    const entry = canonicalJson(capEvent(parsed.data));
    const run = this.#queue.then(() => this.#appendEntry(entry, dedupeKey ?? ""));
    this.#queue = run.catch(() => undefined);
    const result = await run;
    this.#logger?.debug({ seq: result.seq, type: parsed.data.type, duplicate: result.duplicate }, "audit entry appended");
    return result;
  }

  /** The newest entry's seq and hash, or null for an empty log. */
  async head(): Promise<AuditHead | null> {
    const head = await this.#readHead();
    if (head.seq > 0) return head;
    const length = await this.#call(() => this.#redis.xlen(this.#keys.stream), "reading the audit log");
    if (length > 0) {
      throw new AuditBrokenError(`audit head ${this.#keys.head} is missing while the log has entries (run \`clawgate audit verify\`)`, { head: this.#keys.head });
    }
    return null;
  }

  async #appendEntry(entry: string, dedupeKey: string): Promise<AppendResult> {
    try {
      return await this.#compareAndAppend(entry, dedupeKey);
    } catch (err) {
      this.#knownHead = undefined;
      throw err;
    }
  }

  async #compareAndAppend(entry: string, dedupeKey: string): Promise<AppendResult> {
    let head = this.#knownHead ?? (await this.#readHead());
    for (let attempt = 1; ; attempt++) {
      const ts = String(Math.floor(this.#now()));
      const seq = String(head.seq + 1);
      const hash = chainHash(head.hash, seq, ts, entry, this.#hmacKey);
      let reply: unknown;
      try {
        reply = await this.#append.run(
          [this.#keys.stream, this.#keys.head, this.#keys.dedupe],
          [String(head.seq), head.hash, ts, entry, hash, dedupeKey, String(this.#dedupeWindowMs)],
        );
      } catch (err) {
        throw fromRedisError(err, "appending to the audit log");
      }
      const outcome = this.#appendOutcome(reply);
      if (outcome.kind === "appended") {
        this.#knownHead = { seq: outcome.seq, hash: outcome.hash };
        return { seq: outcome.seq, hash: outcome.hash, duplicate: false };
      }
      if (outcome.kind === "duplicate") return { seq: outcome.seq, hash: outcome.hash, duplicate: true };
      head = this.#knownHead = { seq: outcome.seq, hash: outcome.hash };
      if (attempt >= MAX_APPEND_ATTEMPTS) {
        throw new RedisUnavailableError(`audit log busy: lost ${attempt} appends in a row to other writers; try again`);
      }
      // Two writers that keep colliding would otherwise retry in lockstep.
      if (attempt >= 3) await sleep(Math.random() * Math.min(2 ** (attempt - 3), 32));
    }
  }

  /**
   * The head as stored. An absent head reads as the empty log (the script then refuses to
   * append if the stream has entries); a malformed one is an AuditBrokenError.
   */
  async #readHead(): Promise<AuditHead> {
    const [seqText, hash] = await this.#call(() => this.#redis.hmget(this.#keys.head, "seq", "hash"), "reading the audit head");
    if (seqText == null && hash == null) return { seq: 0, hash: GENESIS_HASH };
    const seq = seqText == null ? undefined : parseSeq(seqText);
    if (seq === undefined || hash == null || !/^[0-9a-f]{40}$/.test(hash)) {
      throw new AuditBrokenError(`audit head ${this.#keys.head} is malformed: seq=${String(seqText)} hash=${String(hash)} (run \`clawgate audit verify\`)`, { head: this.#keys.head });
    }
    return { seq, hash };
  }

  async #call<T>(fn: () => Promise<T>, doing: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fromRedisError(err, doing);
    }
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
    // One entry more, from fromSeq - 1: its hash is the first entry's prev, which is not stored again.
    let page: [string, string[]][];
    try {
      page = await this.#redis.xrange(this.#keys.stream, streamIdFor(Math.max(1, fromSeq - 1)), "+", "COUNT", fromSeq > 1 ? limit + 1 : limit);
    } catch (err) {
      throw fromRedisError(err, "reading the audit log");
    }
    const records: AuditRecord[] = [];
    let before = { seq: 0, hash: GENESIS_HASH };
    for (const [streamId, fields] of page) {
      const raw = parseRawEntry(streamId, fields);
      if (typeof raw === "string") {
        // The entry before fromSeq was only read for its hash.
        if (fromSeq > 1 && streamId === streamIdFor(fromSeq - 1)) continue;
        throw new AuditBrokenError(`audit entry ${streamId} is malformed: ${raw} (run \`clawgate audit verify\`)`, { streamId });
      }
      const seq = Number(raw.seq);
      // "" when the entry before is gone: the chain is broken there, and verify says so.
      if (seq >= fromSeq && records.length < limit) records.push(toAuditRecord(raw, before.seq === seq - 1 ? before.hash : ""));
      before = { seq, hash: raw.hash };
    }
    return records;
  }

  /**
   * Recomputes the whole chain; see VerifyResult for how a break is reported. With `anchor`
   * (one, or all from an anchor file), the log must also match each anchor and reach the
   * newest, which catches deleted newest entries even when the head was rolled back to match.
   */
  async verify(opts: { anchor?: AuditAnchor | readonly AuditAnchor[] } = {}): Promise<VerifyResult> {
    const anchors = opts.anchor === undefined ? [] : Array.isArray(opts.anchor) ? opts.anchor : [opts.anchor as AuditAnchor];
    const result = await verifyChain(this.#redis, this.#keys, { hmacKey: this.#hmacKey, anchors });
    if (!result.ok) this.#logger?.warn({ brokenAt: result.brokenAt, entries: result.entries }, "audit chain broken");
    return result;
  }

  /**
   * Points a head that is behind, missing or malformed back at the last entry, once every entry
   * verifies (see repairHead). Appends waiting on a broken head go through again afterwards.
   */
  async repair(actor: string, opts: { anchor?: AuditAnchor | readonly AuditAnchor[] } = {}): Promise<RepairResult> {
    const anchors = opts.anchor === undefined ? [] : Array.isArray(opts.anchor) ? opts.anchor : [opts.anchor as AuditAnchor];
    const result = await repairHead(this.#redis, this.#keys, {
      hmacKey: this.#hmacKey,
      anchors,
      now: this.#now,
      // The repair is on the record, in the chain it repaired, before anything else is appended.
      record: (from, last) => ({
        type: "audit.repaired",
        actor,
        reason: `the head said seq ${from.seq ?? "(missing)"} but the log ends at seq ${last.seq}, which verifies: head pointed back at it`,
        details: { headWas: from.seq ?? null, lastEntry: last.seq },
      }),
    });
    this.#knownHead = undefined;
    return result;
  }

  /** The one place appendAudit's return codes become outcomes or errors. */
  #appendOutcome(reply: unknown): { kind: "appended" | "duplicate" | "conflict"; seq: number; hash: string } {
    const [code, seq, hash] = Array.isArray(reply) ? (reply as unknown[]) : [];
    if (typeof seq === "number" && typeof hash === "string") {
      if (code === ScriptCode.Done) return { kind: "appended", seq, hash };
      if (code === ScriptCode.Duplicate) return { kind: "duplicate", seq, hash };
      if (code === ScriptCode.Conflict) return { kind: "conflict", seq, hash };
    }
    const details = { stream: this.#keys.stream, head: this.#keys.head, ...(seq === undefined ? {} : { seq }) };
    throw scriptError(typeof code === "number" ? code : NaN, { id: this.#keys.head, details: typeof code === "number" ? details : { ...details, reply } });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
