import { canonicalJson } from "./canonicalJson.ts";
import type { AuditEvent } from "./event.ts";

/** Byte caps (UTF-8) that keep one entry small however much text a caller hands over. */
export const AUDIT_LIMITS = {
  reason: 2048,
  /** `details`, measured as its canonical JSON. */
  details: 8192,
  /** Every other string field: ids, names, channel, decision. */
  field: 512,
} as const;

const SHORT_FIELDS = ["approvalId", "actor", "channel", "decision", "tool", "agentId"] as const;

/** Cuts `text` to at most `maxBytes` UTF-8 bytes, ending with a marker that says how much was cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  const marker = `…[truncated ${bytes.length} bytes]`;
  let end = Math.max(0, maxBytes - Buffer.byteLength(marker, "utf8"));
  // Back off to a character boundary: cutting inside a multi-byte sequence would store U+FFFD.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8") + marker;
}

/**
 * Returns a copy of `event` with every field within AUDIT_LIMITS. Oversized `details` are
 * replaced by a marker object holding a preview of their JSON, so the entry stays valid JSON.
 */
export function capEvent(event: AuditEvent): AuditEvent {
  const out: AuditEvent = { ...event };
  for (const key of SHORT_FIELDS) {
    const value = out[key];
    if (value !== undefined) out[key] = truncateUtf8(value, AUDIT_LIMITS.field);
  }
  if (out.reason !== undefined) out.reason = truncateUtf8(out.reason, AUDIT_LIMITS.reason);
  if (out.details !== undefined) out.details = capDetails(out.details);
  return out;
}

function capDetails(details: Record<string, unknown>): Record<string, unknown> {
  const json = canonicalJson(details);
  const size = Buffer.byteLength(json, "utf8");
  if (size <= AUDIT_LIMITS.details) return details;
  // JSON-escaping the preview can grow it (quotes, control characters), so shrink until it fits.
  let budget = AUDIT_LIMITS.details - 128;
  for (;;) {
    const capped = { _truncated: true, _originalBytes: size, _preview: truncateUtf8(json, budget) };
    const over = Buffer.byteLength(canonicalJson(capped), "utf8") - AUDIT_LIMITS.details;
    if (over <= 0 || budget <= 0) return capped;
    budget -= over;
  }
}
