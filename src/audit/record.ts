import { AuditBrokenError } from "../errors.ts";
import { storedAuditEventSchema } from "./event.ts";
import type { StoredAuditEvent } from "./event.ts";

/** One stream entry exactly as stored: the strings the hash was computed over. */
export interface RawAuditEntry {
  streamId: string;
  seq: string;
  ts: string;
  prev: string;
  hash: string;
  entry: string;
}

/** One entry as `AuditLog.read` returns it. */
export interface AuditRecord {
  seq: number;
  streamId: string;
  /** When it was appended, ms since epoch (the appending process's clock). */
  ts: number;
  prev: string;
  hash: string;
  event: StoredAuditEvent;
}

const FIELDS = ["seq", "ts", "prev", "hash", "entry"] as const;

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
  if (fields.length % 2 !== 0 || values.size !== FIELDS.length) {
    return `expected exactly the fields ${FIELDS.join(", ")}; found ${[...values.keys()].join(", ") || "none"}`;
  }
  const raw: Partial<RawAuditEntry> = { streamId };
  for (const name of FIELDS) {
    const value = values.get(name);
    if (value === undefined) return `field "${name}" is missing`;
    raw[name] = value;
  }
  const entry = raw as RawAuditEntry;
  if (parseSeq(entry.seq) === undefined) return `seq "${entry.seq}" is not a positive integer`;
  if (!/^\d+$/.test(entry.ts)) return `ts "${entry.ts}" is not a timestamp`;
  return entry;
}

/** Canonical decimal only: "007" would hash differently from the "7" the script writes. */
export function parseSeq(text: string): number | undefined {
  if (!/^[1-9]\d*$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function toAuditRecord(raw: RawAuditEntry): AuditRecord {
  let event: StoredAuditEvent;
  try {
    event = storedAuditEventSchema.parse(JSON.parse(raw.entry)) as StoredAuditEvent;
  } catch (err) {
    throw new AuditBrokenError(`audit entry ${raw.streamId} does not hold a valid event (run \`clawgate audit verify\`)`, {
      streamId: raw.streamId,
      cause: err instanceof Error ? err.message : String(err),
    });
  }
  return { seq: Number(raw.seq), streamId: raw.streamId, ts: Number(raw.ts), prev: raw.prev, hash: raw.hash, event };
}
