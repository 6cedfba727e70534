import { createHash, createHmac } from "node:crypto";

/** `prev` of the first entry. */
export const GENESIS_HASH = "0".repeat(40);

/**
 * The link hash: H(prev "\n" seq "\n" ts "\n" entry), H = SHA-1, or HMAC-SHA1 keyed with the
 * UTF-8 bytes of `hmacKey`. Computed only here, in Node, for appending and verifying alike, so
 * the key never travels to Redis. Inputs are the strings as stored, so verification never
 * re-serialises anything.
 */
export function chainHash(prev: string, seq: string, ts: string, entry: string, hmacKey?: string): string {
  const message = `${prev}\n${seq}\n${ts}\n${entry}`;
  const h = hmacKey === undefined ? createHash("sha1") : createHmac("sha1", Buffer.from(hmacKey, "utf8"));
  return h.update(message, "utf8").digest("hex");
}
