import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Redis } from "ioredis";

const B32 = "0123456789abcdefghjkmnpqrstvwxyz";

function base32(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/** A reply token's parts: the approval id's 12 characters, then a 128-bit signature. */
export interface ParsedToken {
  approvalId: string;
  sig: string;
}

const TOKEN = /^([0-9a-z]{12})-([0-9a-z]{26})$/;

/**
 * Reply-address tokens: `<id>-<sig>` where sig = HMAC-SHA256(key, id · recipient · deadline)
 * cut to 128 bits, lower-case base32 (mail systems may change the case of a local part).
 * The token names the approval, but only its key-holder can make one, and a token is only
 * good from the address it was issued to, until the approval's deadline.
 */
export class ReplyTokens {
  constructor(private readonly key: Buffer) {}

  /**
   * The configured `email.tokenSecret`, else a random key created once in Redis (SET NX), so
   * every `serve` replica and restart signs and checks with the same key.
   */
  static async load(redis: Redis, keyName: string, secret: string | undefined): Promise<ReplyTokens> {
    if (secret) return new ReplyTokens(createHmac("sha256", "clawgate-email-token").update(secret).digest());
    await redis.set(keyName, randomBytes(32).toString("hex"), "NX");
    const stored = await redis.get(keyName);
    if (!stored) throw new Error(`could not read the email token key ${keyName}`);
    return new ReplyTokens(Buffer.from(stored, "hex"));
  }

  issue(approvalId: string, recipient: string, deadline: number): string {
    return `${approvalId.replace(/^ap_/, "")}-${this.sig(approvalId, recipient, deadline)}`;
  }

  /** True when `token` was issued for this approval, to `recipient`, with this deadline. */
  valid(token: ParsedToken, recipient: string, deadline: number): boolean {
    const want = Buffer.from(this.sig(token.approvalId, recipient, deadline));
    const got = Buffer.from(token.sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  private sig(approvalId: string, recipient: string, deadline: number): string {
    const mac = createHmac("sha256", this.key).update(`${approvalId}\n${recipient.toLowerCase()}\n${deadline}`).digest();
    return base32(mac.subarray(0, 16));
  }
}

export function parseToken(raw: string): ParsedToken | null {
  const m = TOKEN.exec(raw.toLowerCase());
  return m ? { approvalId: `ap_${m[1]}`, sig: m[2] as string } : null;
}
