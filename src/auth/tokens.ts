import type { Redis } from "ioredis";
import { BadRequestError, NoSigningKeyError, TokenExistsError, TokenNotFoundError } from "../errors.ts";
import { tokenPayload } from "../trust/payloads.ts";
import { verifySignature, type KeyLookup, type Signer } from "../trust/signature.ts";
import { tokenKeys } from "./keys.ts";
import { hashSecret, newTokenSecret } from "./secret.ts";

const TOKEN_KINDS = ["person", "agent", "admin"] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** What is known about a token; never its secret. */
export interface TokenInfo {
  name: string;
  kind: TokenKind;
  /** person id, agent id, or `admin:<name>` for admin tokens. */
  subject: string;
  createdAt: number;
  lastUsedAt: number | null;
}

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** No ":" so `api:<subject>` actors cannot be forged to look like `api:admin:x` or `api:agent:x`. */
const TOKEN_SUBJECT = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

interface StoredToken {
  name: string;
  kind: TokenKind;
  subject: string;
  createdAt: number;
  /** serve's signature over the record and the secret's hash (src/trust): a record written to Redis by anyone else authenticates nobody. */
  sig?: string;
}

/**
 * How token records are signed and checked. Only serve signs (it holds the decision key); every
 * lookup verifies, so Redis write access cannot mint a token or turn an agent token into an admin one.
 */
export interface TokenTrust {
  signer?: Signer | null;
  keys: KeyLookup;
  /** A record that exists for a presented secret but does not verify: reported, and it authenticates nobody. */
  onForged?: (info: { name: string; why: string }) => void;
}

function parseStored(json: string): StoredToken | null {
  try {
    const v = JSON.parse(json) as Partial<StoredToken>;
    if (typeof v.name !== "string" || typeof v.subject !== "string" || typeof v.createdAt !== "number") return null;
    if (!TOKEN_KINDS.includes(v.kind as TokenKind)) return null;
    return v as StoredToken;
  } catch {
    return null;
  }
}

/**
 * Per-person / per-agent / admin API tokens in Redis. The secret is returned once by `create`
 * and only its SHA-256 is stored, so a Redis dump does not hand out API access.
 */
export class TokenStore {
  private readonly k: ReturnType<typeof tokenKeys>;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly trust: TokenTrust,
    private readonly now: () => number = Date.now,
  ) {
    this.k = tokenKeys(prefix);
  }

  private facts(hash: string, t: StoredToken) {
    return { prefix: this.prefix, hash, name: t.name, kind: t.kind, subject: t.subject, createdAt: t.createdAt };
  }

  async create(input: { name: string; kind: TokenKind; subject?: string }): Promise<{ token: TokenInfo; secret: string }> {
    const { name, kind } = input;
    if (!TOKEN_NAME.test(name)) throw new BadRequestError(`token name "${name}" is invalid: use 1-64 letters, digits, . _ - (starting with a letter or digit)`);
    if (!TOKEN_KINDS.includes(kind)) throw new BadRequestError(`token kind must be one of ${TOKEN_KINDS.join(", ")}`);
    let subject: string;
    if (kind === "admin") {
      subject = `admin:${name}`;
    } else {
      subject = input.subject ?? "";
      if (!TOKEN_SUBJECT.test(subject)) throw new BadRequestError(`${kind} id "${subject}" is invalid: use 1-128 letters, digits, . _ @ + - (no ":")`);
      if (kind === "person" && subject === "admin") throw new BadRequestError('person id "admin" is reserved for admin tokens: use --admin, or another id');
    }
    if (!this.trust.signer) throw new NoSigningKeyError("only `clawgate serve` creates tokens (it signs them): use `clawgate token create` with an admin token, or POST /api/v1/tokens");
    const secret = newTokenSecret();
    const hash = hashSecret(secret);
    const unsigned: StoredToken = { name, kind, subject, createdAt: this.now() };
    const stored: StoredToken = { ...unsigned, sig: this.trust.signer.sign(tokenPayload(this.facts(hash, unsigned))) };
    // The hash entry goes first: if the name turns out to be taken (HSETNX is the uniqueness
    // gate) or the process dies in between, what is left is a record for a secret nobody has.
    await this.redis.hset(this.k.byHash, hash, JSON.stringify(stored));
    if ((await this.redis.hsetnx(this.k.names, name, hash)) === 0) {
      await this.redis.hdel(this.k.byHash, hash);
      throw new TokenExistsError(name);
    }
    return { token: { name, kind, subject, createdAt: stored.createdAt, lastUsedAt: null }, secret };
  }

  async list(): Promise<TokenInfo[]> {
    const names = await this.redis.hgetall(this.k.names);
    const entries = Object.entries(names);
    if (entries.length === 0) return [];
    const hashes = entries.map(([, h]) => h);
    const [records, used] = await Promise.all([this.redis.hmget(this.k.byHash, ...hashes), this.redis.hmget(this.k.lastUsed, ...hashes)]);
    const out: TokenInfo[] = [];
    entries.forEach((_entry, i) => {
      const stored = records[i] ? parseStored(records[i] as string) : null;
      if (stored && this.verified(hashes[i] as string, stored) === null) out.push({ name: stored.name, kind: stored.kind, subject: stored.subject, createdAt: stored.createdAt, lastUsedAt: used[i] ? Number(used[i]) : null });
    });
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Revoke by name; the next request with its secret gets 401. */
  async revoke(name: string): Promise<void> {
    const hash = await this.redis.hget(this.k.names, name);
    if (!hash) throw new TokenNotFoundError(name);
    const results = await this.redis.multi().hdel(this.k.names, name).hdel(this.k.byHash, hash).hdel(this.k.lastUsed, hash).exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0] as Error;
  }

  /** The token a presented secret belongs to, or null; records the use. */
  async lookup(secret: string): Promise<TokenInfo | null> {
    // Looking up the hash (not the secret) makes the comparison independent of the secret's
    // content: Redis compares digests of equal length.
    const hash = hashSecret(secret);
    const json = await this.redis.hget(this.k.byHash, hash);
    const stored = json ? parseStored(json) : null;
    if (!stored) return null;
    const why = this.verified(hash, stored);
    if (why) {
      this.trust.onForged?.({ name: stored.name, why });
      return null;
    }
    const at = this.now();
    await this.redis.hset(this.k.lastUsed, hash, String(at));
    return { name: stored.name, kind: stored.kind, subject: stored.subject, createdAt: stored.createdAt, lastUsedAt: at };
  }

  /** null when the record is signed by a trusted decision key for this secret's hash, else why not. */
  private verified(hash: string, t: StoredToken): string | null {
    const v = verifySignature(this.trust.keys, tokenPayload(this.facts(hash, t)), t.sig, ["decision"]);
    return v.ok ? null : v.why;
  }
}
