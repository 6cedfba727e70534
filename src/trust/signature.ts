import { createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from "node:crypto";
import type { KeyUse } from "./keys.ts";

/** What signs: a private key, and the id of its public half (what verifiers look it up by). */
export interface Signer {
  readonly id: string;
  readonly use: KeyUse;
  readonly publicKey: KeyObject;
  sign(payload: Buffer): string;
}

export class KeySigner implements Signer {
  readonly publicKey: KeyObject;

  constructor(
    readonly id: string,
    readonly use: KeyUse,
    private readonly key: KeyObject,
  ) {
    this.publicKey = createPublicKey(key);
  }

  /** `<key id>.<base64url signature>` */
  sign(payload: Buffer): string {
    return `${this.id}.${edSign(null, payload, this.key).toString("base64url")}`;
  }
}

export interface TrustedKey {
  id: string;
  use: KeyUse;
  key: KeyObject;
  /** `ed25519:<base64url>` */
  text: string;
  /** ms; after this its signatures are no longer honoured (the end of a rotation's overlap). */
  until: number | null;
  /** Where it was configured: "keys.trusted[0]" or a file path. */
  origin: string;
}

/** Looks up trusted public keys by id. */
export interface KeyLookup {
  get(id: string): TrustedKey | undefined;
}

export type Verified = { ok: true; key: TrustedKey } | { ok: false; why: string };

const SIG = /^([0-9a-f]{12})\.([A-Za-z0-9_-]{86})$/;

/**
 * Checks `sig` over `payload` against the trusted keys, accepting only keys of the given uses.
 * A pure function of its inputs and `now`, so tests can sign, tamper and age.
 */
export function verifySignature(keys: KeyLookup, payload: Buffer, sig: string | undefined, uses: readonly KeyUse[], now = Date.now()): Verified {
  if (!sig) return { ok: false, why: "unsigned" };
  const m = SIG.exec(sig);
  if (!m) return { ok: false, why: "malformed signature" };
  const key = keys.get(m[1] as string);
  if (!key) return { ok: false, why: `signed by key ${m[1]}, which this process does not trust` };
  if (!uses.includes(key.use)) return { ok: false, why: `signed by ${key.use} key ${key.id}, which may not sign this` };
  if (key.until !== null && now > key.until) return { ok: false, why: `signed by key ${key.id}, retired at ${new Date(key.until).toISOString()}` };
  if (!edVerify(null, payload, key.key, Buffer.from(m[2] as string, "base64url"))) return { ok: false, why: `signature by key ${key.id} does not match` };
  return { ok: true, key };
}
