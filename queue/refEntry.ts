import { randomBytes } from "node:crypto";
import { z } from "zod";

/** What the refs hash holds per message: a post under way, or the posted message's ref. */
export type RefEntry = { s: "posting"; nonce: string; at: number } | { s: "posted"; ref: Record<string, unknown> };

/**
 * Stored compactly, `{"n":nonce,"at":ms}` and `{"r":ref}`: Redis keeps a hash in its small
 * listpack encoding only while every value is at most 64 bytes (`hash-max-listpack-value`), and
 * one longer value (the old `{"s":"posting","nonce":"<uuid>",…}` was 77) more than doubles the
 * refs hash for the life of the approval. The older `{"s":…}` form is still read.
 */
const storedSchema = z.union([
  z.strictObject({ n: z.string(), at: z.number() }),
  z.strictObject({ r: z.record(z.string(), z.unknown()) }),
  z.strictObject({ s: z.literal("posting"), nonce: z.string(), at: z.number() }),
  z.strictObject({ s: z.literal("posted"), ref: z.record(z.string(), z.unknown()) }),
]);

export function encodeRefEntry(entry: RefEntry): string {
  return JSON.stringify(entry.s === "posting" ? { n: entry.nonce, at: entry.at } : { r: entry.ref });
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
  if ("r" in parsed) return { s: "posted", ref: parsed.r };
  return parsed;
}

/** A post's nonce: 96 random bits, 16 characters (short enough for every channel's marker). */
export function newNonce(): string {
  return randomBytes(12).toString("base64url");
}
