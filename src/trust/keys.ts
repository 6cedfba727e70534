import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { ConfigInvalidError } from "../errors.ts";

/**
 * Ed25519 keys as clawgate writes them. A public key is one line, `ed25519:<base64url of the raw
 * 32 bytes>`, short enough for a YAML list; its id is derived from it, so an id can never name
 * another key. Private keys are PKCS#8 PEM, the form `openssl pkey` reads.
 */

/** decision: serve's key, valid for every channel's decision and for rules and tokens. chat: a gateway's key, valid only for `/clawgate` decisions made in OpenClaw chat. */
export const KEY_USES = ["decision", "chat"] as const;
export type KeyUse = (typeof KEY_USES)[number];

const PUBLIC_PREFIX = "ed25519:";

export interface PublicKeyInfo {
  id: string;
  /** `ed25519:<base64url>` */
  text: string;
  key: KeyObject;
}

/** 12 hex characters of the key's SHA-256 (48 bits: ids name keys, they do not protect anything). */
function keyIdOf(raw: Buffer): string {
  return createHash("sha256").update(raw).digest("hex").slice(0, 12);
}

function rawOf(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" }) as { x?: string };
  if (!jwk.x) throw new Error("not an Ed25519 public key");
  return Buffer.from(jwk.x, "base64url");
}

export function publicKeyInfo(key: KeyObject): PublicKeyInfo {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== "ed25519") throw new Error(`expected an Ed25519 key, got ${pub.asymmetricKeyType ?? "unknown"}`);
  const raw = rawOf(pub);
  return { id: keyIdOf(raw), text: `${PUBLIC_PREFIX}${raw.toString("base64url")}`, key: pub };
}

/** Parses `ed25519:<base64url>`; throws a message that says what a public key looks like. */
export function parsePublicKey(text: string, where = "public key"): PublicKeyInfo {
  const t = text.trim();
  const b64 = t.startsWith(PUBLIC_PREFIX) ? t.slice(PUBLIC_PREFIX.length) : "";
  const raw = Buffer.from(b64, "base64url");
  if (!b64 || raw.length !== 32 || raw.toString("base64url") !== b64) {
    throw new ConfigInvalidError(`${where}: "${t.slice(0, 60)}" is not an Ed25519 public key; expected "ed25519:" and 43 base64url characters, as \`clawgate keys create\` prints`);
  }
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64 }, format: "jwk" });
  return { id: keyIdOf(raw), text: `${PUBLIC_PREFIX}${b64}`, key };
}

/** A private key from PEM text; throws naming `where` on anything else. */
export function parsePrivateKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new ConfigInvalidError(`${where}: not a PEM private key (${(err as Error).message}); make one with \`clawgate keys create\``);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new ConfigInvalidError(`${where}: expected an Ed25519 private key, got ${key.asymmetricKeyType ?? "unknown"}`);
  return key;
}

export function generateKey(): { privatePem: string; info: PublicKeyInfo } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privatePem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(), info: publicKeyInfo(publicKey) };
}
