import type { Cluster, Redis } from "ioredis";
import { AuditBrokenError } from "../errors.ts";
import { ScriptCode, scriptError } from "../lua/codes.ts";
import { loadLuaScript } from "../lua/script.ts";
import type { AuditAnchor } from "./anchor.ts";
import { canonicalJson } from "./canonicalJson.ts";
import { chainHash } from "./chain.ts";
import { auditEventSchema, type AuditEvent } from "./event.ts";
import { capEvent } from "./limits.ts";
import type { AuditKeys } from "./keys.ts";
import { parseRawEntry, parseSeq } from "./record.ts";
import { fromRedisError } from "./redisErrors.ts";
import { verifyChain } from "./verify.ts";

export interface HeadPointer {
  seq: number;
  hash: string;
}

export type RepairResult =
  /** The log verified as it is: nothing to repair. */
  | { repaired: false; head: HeadPointer | null }
  /**
   * The head said `from` (null: missing); the log really ended at `last`; the repair is recorded
   * as the entry after it, which is the head now.
   */
  | { repaired: true; from: { seq: string | null; hash: string | null }; last: HeadPointer; head: HeadPointer };

const REFUSE = "a repair only points the head back at the log's last entry; it never changes, adds or removes entries";

/**
 * `clawgate audit repair`: the head `{prefix}:audit:head` is a pointer to the newest entry, kept
 * beside the stream so appends need not read it. When only that pointer is wrong (rolled back,
 * deleted, garbled) while every entry verifies, appends refuse to fork the chain and wait; this
 * points it at the last entry again, and only then. Anything else — an entry that does not
 * verify, entries missing after the head, entries deleted from the end (the stream's last id is
 * past its last entry, so the chain can never be extended in place) — is refused with what was
 * found: a repair must never paper over a loss.
 */
export async function repairHead(
  redis: Redis | Cluster,
  keys: AuditKeys,
  opts: { hmacKey?: string | undefined; anchors?: readonly AuditAnchor[]; record: (from: { seq: string | null }, last: HeadPointer) => AuditEvent; now?: () => number },
): Promise<RepairResult> {
  const result = await verifyChain(redis, keys, { hmacKey: opts.hmacKey, ...(opts.anchors ? { anchors: opts.anchors } : {}) });
  if (result.ok) {
    // Head and entries agree, yet appends may still be refused: entries deleted from the end.
    await refuseDeletedTail(redis, keys, result.entries, `the log ends at seq ${result.entries}`, {});
    return { repaired: false, head: result.entries ? { seq: result.entries, hash: result.head } : null };
  }
  const b = result.brokenAt;
  if (b.problem !== "head_mismatch") {
    throw new AuditBrokenError(`cannot repair the audit log: entry ${b.seq} (stream id ${b.streamId}) is broken: ${b.problem}: ${b.detail}; ${REFUSE}`, { ...b });
  }
  const last = await lastEntry(redis, keys);
  const [seqText = null, hashText = null] = await call(() => redis.hmget(keys.head, "seq", "hash"), "reading the audit head");
  const headSeq = seqText === null ? undefined : parseSeq(seqText);
  const ends = last ? `the log ends at seq ${last.seq}` : "the log is empty";
  if (last === null || last.seq !== result.entries) {
    throw new AuditBrokenError(`cannot repair the audit log: the head says seq ${seqText} but ${ends}; ${REFUSE}`, { ...b });
  }
  if (headSeq !== undefined && headSeq > last.seq) {
    throw new AuditBrokenError(`cannot repair the audit log: the head says seq ${headSeq} but ${ends}: entries ${last.seq + 1}–${headSeq} are missing; ${REFUSE}`, { ...b });
  }
  await refuseDeletedTail(redis, keys, last.seq, ends, { ...b });
  const from = { seq: seqText, hash: hashText };
  const entry = canonicalJson(capEvent(auditEventSchema.parse(opts.record(from, last))));
  const ts = String(Math.floor((opts.now ?? Date.now)()));
  const seq = String(last.seq + 1);
  const hash = chainHash(last.hash, seq, ts, entry, opts.hmacKey);
  const code = Number(
    await call(() => loadLuaScript(redis, "audit/repairAuditHead-2").run([keys.stream, keys.head], [seqText ?? "", hashText ?? "", String(last.seq), last.hash, ts, entry, hash]), "repairing the audit head"),
  );
  if (code !== ScriptCode.Done) throw scriptError(code, { id: keys.head, subject: "the audit head", retry: "run `clawgate audit repair` again" });
  return { repaired: true, from, last, head: { seq: last.seq + 1, hash } };
}

/** Entries deleted from the end leave the stream's last id past its last entry: XADD refuses the next seq for good. */
async function refuseDeletedTail(redis: Redis | Cluster, keys: AuditKeys, lastSeq: number, ends: string, details: Record<string, unknown>): Promise<void> {
  if (lastSeq === 0 && (await call(() => redis.exists(keys.stream), "reading the audit stream")) === 0) return;
  const lastId = await lastGeneratedId(redis, keys.stream);
  if (lastId === `0-${lastSeq}`) return;
  throw new AuditBrokenError(
    `cannot repair the audit log: the stream's last id is ${lastId} but ${ends}: entries after ${lastSeq} were deleted, and Redis refuses to reuse their ids, so the chain cannot be extended in place. ` +
      "Check what is missing with `clawgate audit verify --anchor FILE`, then start a new log under a new redis.prefix (keep this one for the record)",
    { ...details, lastId },
  );
}

async function lastEntry(redis: Redis | Cluster, keys: AuditKeys): Promise<HeadPointer | null> {
  const page = await call(() => redis.xrevrange(keys.stream, "+", "-", "COUNT", 1), "reading the audit log");
  const top = page[0];
  if (!top) return null;
  const raw = parseRawEntry(top[0], top[1]);
  if (typeof raw === "string") throw new AuditBrokenError(`audit entry ${top[0]} is malformed: ${raw}`, { streamId: top[0] });
  return { seq: parseSeq(raw.seq) as number, hash: raw.hash };
}

async function lastGeneratedId(redis: Redis | Cluster, stream: string): Promise<string> {
  const info = (await call(() => redis.xinfo("STREAM", stream), "reading the audit stream")) as unknown[];
  for (let i = 0; i + 1 < info.length; i += 2) if (info[i] === "last-generated-id") return String(info[i + 1]);
  return "";
}

async function call<T>(fn: () => Promise<T>, doing: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromRedisError(err, doing);
  }
}
