import { AuditBrokenError } from "../errors.ts";
import { storedAuditEventSchema } from "./event.ts";
import type { StoredAuditEvent } from "./event.ts";

/**
 * One stream entry: the strings the hash was computed over. Entries are stored as `ts, hash,
 * entry` at stream id `0-<seq>`; `seq` comes from the id and `prev` is the previous entry's
 * hash, neither stored again. Entries written by earlier versions also store `seq` and `prev`
 * (`storedPrev`), which verification checks against the id and the chain.
 */
export interface RawAuditEntry {
  streamId: string;
  seq: string;
  ts: string;
  /** The `prev` field of an entry written in the older five-field form, else undefined. */
  storedPrev: string | undefined;
  hash: string;
  entry: string;
}

/** One entry as `AuditLog.read` returns it. */
export interface AuditRecord {
  seq: number;
  streamId: string;
  /** When it was appended, ms since epoch (the appending process's clock). */
  ts: number;
  /** The hash this entry is chained to: the previous entry's (forty 0s for seq 1); "" if that entry is gone. */
  prev: string;
  hash: string;
  event: StoredAuditEvent;
}

/** What appendAudit-3.lua writes. */
const FIELDS = ["ts", "hash", "entry"] as const;
/** The older form, still read and verified. */
const FIELDS_V1 = ["seq", "ts", "prev", "hash", "entry"] as const;

export function streamIdFor(seq: number): string {
  return `0-${seq}`;
}

/** Returns the entry, or why it is malformed. Only appendAudit writes here, so anything else is foreign. */
export function parseRawEntry(streamId: string, fields: readonly string[]): RawAuditEntry | string {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    if (values.has(name)) return `field "${name}" appears twice`;
    values.set(name, fields[i + 1] as string);
  }
  const expected = values.has("prev") || values.has("seq") ? FIELDS_V1 : FIELDS;
  if (fields.length % 2 !== 0 || values.size !== expected.length) {
    return `expected exactly the fields ${FIELDS.join(", ")} (or ${FIELDS_V1.join(", ")}); found ${[...values.keys()].join(", ") || "none"}`;
  }
  for (const name of expected) {
    if (!values.has(name)) return `field "${name}" is missing`;
  }
  const idSeq = /^0-(\d+)$/.exec(streamId)?.[1];
  const entry: RawAuditEntry = {
    streamId,
    seq: values.get("seq") ?? idSeq ?? "",
    ts: values.get("ts") as string,
    storedPrev: values.get("prev"),
    hash: values.get("hash") as string,
    entry: values.get("entry") as string,
  };
  if (parseSeq(entry.seq) === undefined) return values.has("seq") ? `seq "${entry.seq}" is not a positive integer` : `stream id ${streamId} is not 0-<seq>`;
  if (!/^\d+$/.test(entry.ts)) return `ts "${entry.ts}" is not a timestamp`;
  return entry;
}

/** Canonical decimal only: "007" would hash differently from the "7" the script writes. */
export function parseSeq(text: string): number | undefined {
  if (!/^[1-9]\d*$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `prev`: the previous entry's hash (GENESIS_HASH for seq 1), or "" when that entry is gone. */
export function toAuditRecord(raw: RawAuditEntry, prev: string): AuditRecord {
  let event: StoredAuditEvent;
  try {
    event = storedAuditEventSchema.parse(JSON.parse(raw.entry)) as StoredAuditEvent;
  } catch (err) {
    throw new AuditBrokenError(`audit entry ${raw.streamId} does not hold a valid event (run \`clawgate audit verify\`)`, {
      streamId: raw.streamId,
      cause: err instanceof Error ? err.message : String(err),
    });
  }
  return { seq: Number(raw.seq), streamId: raw.streamId, ts: Number(raw.ts), prev: raw.storedPrev ?? prev, hash: raw.hash, event };
}
