import type { Cluster, Redis } from "ioredis";
import { AuditBrokenError } from "../errors.ts";
import { newestAnchor, type AuditAnchor } from "./anchor.ts";
import { GENESIS_HASH, chainHash } from "./chain.ts";
import type { AuditKeys } from "./keys.ts";
import { parseRawEntry, parseSeq, streamIdFor } from "./record.ts";
import { fromRedisError } from "./redisErrors.ts";

type AuditProblem = "hash_mismatch" | "prev_mismatch" | "seq_gap" | "head_mismatch" | "malformed" | "anchor_mismatch" | "truncated";

interface AuditBreak {
  /** The entry at which verification stopped (for `seq_gap`, the first entry after the gap). */
  seq: number;
  streamId: string;
  problem: AuditProblem;
  detail: string;
}

/**
 * `entries` counts the entries found intact; on failure, those before the break.
 * An empty log verifies with `head` = GENESIS_HASH. `anchor` is the newest anchor checked, if any.
 */
export type VerifyResult =
  | { ok: true; entries: number; head: string; anchor?: AuditAnchor }
  | { ok: false; entries: number; brokenAt: AuditBreak };

const VERIFY_PAGE_SIZE = 1000;

export interface VerifyOptions {
  /** `audit.hmacKey`, when the log is keyed. */
  hmacKey?: string | undefined;
  /** Entries per XRANGE page. */
  pageSize?: number;
  /**
   * Anchors published earlier. Each must match the hash of the entry at its seq, and the log
   * must reach the newest one: that is what catches deleted newest entries with the head
   * rolled back to match, which leaves a chain that is otherwise intact.
   */
  anchors?: readonly AuditAnchor[];
}

/**
 * Walks the whole stream in pages, recomputing every link, then checks the head.
 *
 * Safe while others append: the head is read only after the stream has been read to its end,
 * and the script moves stream and head together, so a head ahead of what was read means more
 * entries to fetch (read on until caught up), never a false alarm. A head *behind* what was
 * read, or ahead with nothing left to read, is a real inconsistency.
 */
export async function verifyChain(redis: Redis | Cluster, keys: AuditKeys, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const { hmacKey, pageSize = VERIFY_PAGE_SIZE, anchors = [] } = opts;
  const anchorsAt = new Map<number, AuditAnchor[]>();
  for (const a of anchors) anchorsAt.set(a.seq, [...(anchorsAt.get(a.seq) ?? []), a]);
  const newest = newestAnchor(anchors);
  let entries = 0;
  let prevHash = GENESIS_HASH;
  let lastSeq = 0;
  let lastId = "";
  let start = "-";
  let mustReach = 0;
  const broken = (brokenAt: AuditBreak): VerifyResult => ({ ok: false, entries, brokenAt });

  for (;;) {
    const page = await call(() => redis.xrange(keys.stream, start, "+", "COUNT", pageSize), "reading the audit log");
    for (const [streamId, fields] of page) {
      const raw = parseRawEntry(streamId, fields);
      if (typeof raw === "string") {
        return broken({ seq: lastSeq + 1, streamId, problem: "malformed", detail: raw });
      }
      const seq = parseSeq(raw.seq) as number;
      const expected = lastSeq + 1;
      if (seq !== expected) {
        const detail =
          seq > expected
            ? `expected seq ${expected} but found ${seq}: ${describeMissing(expected, seq - 1)} missing`
            : `expected seq ${expected} but found ${seq}: seq went backwards`;
        return broken({ seq, streamId, problem: "seq_gap", detail });
      }
      if (streamId !== streamIdFor(seq)) {
        return broken({ seq, streamId, problem: "malformed", detail: `seq ${seq} is stored at id ${streamId}, not ${streamIdFor(seq)}` });
      }
      // Only older entries store prev; the others are chained to the previous entry's hash by construction.
      if (raw.storedPrev !== undefined && raw.storedPrev !== prevHash) {
        return broken({ seq, streamId, problem: "prev_mismatch", detail: `prev is ${raw.storedPrev} but entry ${seq - 1} hashes to ${prevHash}` });
      }
      const expectedHash = chainHash(prevHash, raw.seq, raw.ts, raw.entry, hmacKey);
      if (raw.hash !== expectedHash) {
        const why = hmacKey === undefined ? "written with an audit.hmacKey" : "written with a different audit.hmacKey";
        return broken({
          seq,
          streamId,
          problem: "hash_mismatch",
          detail: `stored hash ${raw.hash} but the content hashes to ${expectedHash}: entry altered, or the log was ${why}`,
        });
      }
      for (const a of anchorsAt.get(seq) ?? []) {
        if (a.hash !== raw.hash) {
          return broken({
            seq,
            streamId,
            problem: "anchor_mismatch",
            detail: `entry ${seq} has hash ${raw.hash} but the anchor${publishedAt(a)} says ${a.hash}: the log was rewritten at or before seq ${seq}`,
          });
        }
      }
      entries++;
      prevHash = raw.hash;
      lastSeq = seq;
      lastId = streamId;
    }
    if (page.length === pageSize) {
      start = `(${lastId}`;
      continue;
    }

    const at = { seq: lastSeq, streamId: lastId, problem: "head_mismatch" as const };
    if (lastSeq < mustReach) {
      const where = lastSeq === 0 ? "the stream is empty" : `the stream ends at ${lastSeq}: ${describeMissing(lastSeq + 1, mustReach)} missing`;
      return broken({ ...at, detail: `the head is at seq ${mustReach} but ${where}` });
    }
    const head = await call(() => redis.hmget(keys.head, "seq", "hash"), "reading the audit head");
    const headSeqText = head[0] ?? null;
    const headHash = head[1] ?? null;
    if (headSeqText === null && headHash === null) {
      if (entries === 0) return anchored(at, 0, GENESIS_HASH);
      return broken({ ...at, detail: `the head is missing but the stream holds ${entries} entries` });
    }
    const headSeq = headSeqText === null ? undefined : parseSeq(headSeqText);
    if (headSeq === undefined || headHash === null) {
      return broken({ ...at, detail: `the head is malformed: seq=${String(headSeqText)} hash=${String(headHash)}` });
    }
    if (headSeq < lastSeq) {
      return broken({ ...at, detail: `the head is at seq ${headSeq} but the stream goes on to ${lastSeq}` });
    }
    if (headSeq > lastSeq) {
      // Appended since our read, or the tail was deleted: the next read must reach headSeq.
      mustReach = headSeq;
      start = lastId === "" ? "-" : `(${lastId}`;
      continue;
    }
    if (headHash !== prevHash) {
      return broken({ ...at, detail: `the head hash ${headHash} differs from entry ${lastSeq}'s hash ${prevHash}` });
    }
    return anchored(at, lastSeq, prevHash);
  }

  /** The stream and head agree; the last word is the newest anchor's. */
  function anchored(at: Omit<AuditBreak, "detail">, lastSeq: number, head: string): VerifyResult {
    if (newest === undefined) return { ok: true, entries, head };
    if (lastSeq < newest.seq) {
      // Head and stream agree, so the newest entries were deleted *and* the head moved back.
      const ends = lastSeq === 0 ? "the log is empty" : `the log ends at seq ${lastSeq}`;
      return broken({
        ...at,
        problem: "truncated",
        detail: `${ends} but the anchor${publishedAt(newest)} says ${newest.seq} existed with hash ${newest.hash}: ${describeMissing(lastSeq + 1, newest.seq)} missing`,
      });
    }
    return { ok: true, entries, head, anchor: newest };
  }
}

function publishedAt(anchor: AuditAnchor): string {
  return anchor.at === undefined ? "" : ` published ${anchor.at}`;
}

/** For callers that treat a broken chain as an error, e.g. the CLI (exit code 7). */
export function assertAuditIntact(result: VerifyResult): void {
  if (result.ok) return;
  const { seq, streamId, problem, detail } = result.brokenAt;
  throw new AuditBrokenError(`audit log broken at seq ${seq} (${streamId}): ${problem}: ${detail}`, { ...result.brokenAt, entries: result.entries });
}

function describeMissing(from: number, to: number): string {
  return from === to ? `entry ${from} is` : `entries ${from}–${to} are`;
}

async function call<T>(fn: () => Promise<T>, doing: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromRedisError(err, doing);
  }
}
