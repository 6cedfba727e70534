import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { RequestStaleError, SignatureInvalidError } from "../../src/errors.ts";

/** Requests older than this are refused as replays (Discord's docs ask for a freshness check). */
const MAX_AGE_SECONDS = 5 * 60;
/** Discord signs when it sends, so a timestamp ahead of our clock is forged or shifted; allow only rounding. */
const MAX_FUTURE_SECONDS = 1;

// SubjectPublicKeyInfo prefix for a raw 32-byte Ed25519 key (RFC 8410).
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** The application's public key (64 hex characters, as the Developer Portal shows it) as a KeyObject. */
export function discordPublicKey(hex: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, "hex")]), format: "der", type: "spki" });
}

/**
 * Verifies a request to /discord/interactions: Ed25519 over `timestamp + raw body`
 * (X-Signature-Ed25519, X-Signature-Timestamp). Signature checks say nothing about freshness,
 * so old and future timestamps are refused here. Pure, with an injectable clock.
 */
export function verifyDiscordSignature(opts: { publicKey: KeyObject; rawBody: Buffer; signature: string | undefined; timestamp: string | undefined; nowMs?: number }): void {
  const now = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  const ts = Number(opts.timestamp);
  if (!opts.signature || !opts.timestamp || !/^\d+$/.test(opts.timestamp) || !/^[0-9a-fA-F]{128}$/.test(opts.signature)) {
    throw new SignatureInvalidError("missing or malformed Discord signature headers");
  }
  if (ts > now + MAX_FUTURE_SECONDS) throw new RequestStaleError("Discord request timestamp is in the future");
  if (ts < now - MAX_AGE_SECONDS) throw new RequestStaleError("Discord request timestamp is too old");
  const ok = verify(null, Buffer.concat([Buffer.from(opts.timestamp, "utf8"), opts.rawBody]), opts.publicKey, Buffer.from(opts.signature, "hex"));
  if (!ok) throw new SignatureInvalidError("Discord signature check failed");
}
