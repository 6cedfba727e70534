import { randomBytes } from "node:crypto";
import { z } from "zod";

/**
 * What the refs hash holds per message (docs/architecture.md, "Posting exactly once"):
 * - `posting`: a post under way (or interrupted) with this nonce, written at `at` (Redis's clock);
 * - `posted`: the message's ref; `closed` once it has been edited to the final outcome;
 * - `unposted`: no message with the intent's nonce exists, nor can one still appear: its post
 *   failed in a way that left nothing (a retry then posts under a fresh intent), or the approval
 *   ended and the intent settled (older than INTENT_SETTLE_MS) without one.
 */
export type RefEntry =
  | { s: "posting"; nonce: string; at: number }
  | { s: "posted"; ref: Record<string, unknown>; closed?: true }
  | { s: "unposted"; at: number };

/**
 * Stored compactly, `{"n":nonce,"at":ms}`, `{"r":ref}`, `{"r":ref,"c":1}` and `{"u":ms}`: Redis
 * keeps a hash in its small listpack encoding only while every value is at most 64 bytes
 * (`hash-max-listpack-value`), and one longer value (the old `{"s":"posting","nonce":"<uuid>",…}`
 * was 77) more than doubles the refs hash for the life of the approval. The older `{"s":…}`
 * form is still read.
 */
const storedSchema = z.union([
  z.strictObject({ n: z.string(), at: z.number() }),
  z.strictObject({ r: z.record(z.string(), z.unknown()) }),
  z.strictObject({ r: z.record(z.string(), z.unknown()), c: z.literal(1) }),
  z.strictObject({ u: z.number() }),
  z.strictObject({ s: z.literal("posting"), nonce: z.string(), at: z.number() }),
  z.strictObject({ s: z.literal("posted"), ref: z.record(z.string(), z.unknown()) }),
]);

export function encodeRefEntry(entry: RefEntry): string {
  switch (entry.s) {
    case "posting":
      return JSON.stringify({ n: entry.nonce, at: entry.at });
    case "posted":
      return JSON.stringify(entry.closed ? { r: entry.ref, c: 1 } : { r: entry.ref });
    case "unposted":
      return JSON.stringify({ u: entry.at });
  }
}

/** The entry, or null when absent or malformed. */
export function decodeRefEntry(text: string | null | undefined): RefEntry | null {
  if (!text) return null;
  let parsed: z.infer<typeof storedSchema>;
  try {
    const r = storedSchema.safeParse(JSON.parse(text));
    if (!r.success) return null;
    parsed = r.data;
  } catch {
    return null;
  }
  if ("n" in parsed) return { s: "posting", nonce: parsed.n, at: parsed.at };
  if ("r" in parsed) return "c" in parsed ? { s: "posted", ref: parsed.r, closed: true } : { s: "posted", ref: parsed.r };
  if ("u" in parsed) return { s: "unposted", at: parsed.u };
  return parsed;
}

/** Whether two refs name the same message: refs are small flat JSON objects; key order does not matter. */
export function sameRef(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const canon = (r: Record<string, unknown>) => JSON.stringify(Object.keys(r).sort().map((k) => [k, r[k]]));
  return canon(a) === canon(b);
}

/** A post's nonce: 96 random bits, 16 characters (short enough for every channel's marker). */
export function newNonce(): string {
  return randomBytes(12).toString("base64url");
}
