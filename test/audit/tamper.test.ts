import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditBrokenError } from "../../src/errors.ts";
import { GENESIS_HASH, chainHash } from "../../src/audit/chain.ts";
import { auditKeys } from "../../src/audit/keys.ts";
import type { AuditKeys } from "../../src/audit/keys.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { assertAuditIntact } from "../../src/audit/verify.ts";
import { connect, deleteKeys, rewriteStream, uniquePrefix } from "./helpers.ts";

let redis: Redis;
let prefix: string;
let keys: AuditKeys;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
  keys = auditKeys(prefix);
});

afterEach(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

async function chainOf(n: number, hmacKey?: string): Promise<AuditLog> {
  const log = new AuditLog(redis, hmacKey === undefined ? { prefix } : { prefix, hmacKey });
  for (let i = 1; i <= n; i++) {
    await log.append({ type: "decision", approvalId: `ap_${i}`, decision: "deny", reason: `entry ${i}` });
  }
  return log;
}

/** Edits entry `seq`'s event the way an attacker would, optionally re-hashing it in plain SHA-1. */
function forge(target: number, rehash: boolean) {
  let prev = GENESIS_HASH;
  return (seq: number, f: Record<string, string>) => {
    const before = prev;
    prev = f.hash as string;
    if (seq !== target) return f;
    const entry = (f.entry as string).replace(/"decision":"deny"/, '"decision":"allow-always"');
    const hash = rehash ? chainHash(f.prev ?? before, String(seq), f.ts as string, entry) : (f.hash as string);
    return { ...f, entry, hash };
  };
}

/** Rewrites the log in the five-field form earlier versions wrote (seq and prev stored too). */
async function toOlderForm(upTo: number): Promise<void> {
  let prev = GENESIS_HASH;
  await rewriteStream(redis, keys.stream, (seq, f) => {
    const older = seq <= upTo ? { seq: String(seq), ts: f.ts as string, prev, hash: f.hash as string, entry: f.entry as string } : f;
    prev = f.hash as string;
    return older;
  });
}

describe("AuditLog.verify finds tampering", () => {
  it("a deleted middle entry is a seq_gap at the entry after it", async () => {
    const log = await chainOf(5);
    await redis.xdel(keys.stream, "0-3");
    const result = await log.verify();
    expect(result).toMatchObject({ ok: false, entries: 2, brokenAt: { seq: 4, streamId: "0-4", problem: "seq_gap" } });
    expect(!result.ok && result.brokenAt.detail).toContain("entry 3 is missing");
  });

  it("a deleted first entry is a seq_gap at seq 2", async () => {
    const log = await chainOf(3);
    await redis.xdel(keys.stream, "0-1");
    expect(await log.verify()).toMatchObject({ ok: false, entries: 0, brokenAt: { seq: 2, problem: "seq_gap" } });
  });

  it("a deleted last entry is a head_mismatch", async () => {
    const log = await chainOf(4);
    await redis.xdel(keys.stream, "0-4");
    const result = await log.verify();
    expect(result).toMatchObject({ ok: false, entries: 3, brokenAt: { seq: 3, streamId: "0-3", problem: "head_mismatch" } });
    expect(!result.ok && result.brokenAt.detail).toContain("entry 4 is missing");
  });

  it("a deleted stream is a head_mismatch, and the next append shows as a seq_gap", async () => {
    const log = await chainOf(2);
    await redis.del(keys.stream);
    expect(await log.verify()).toMatchObject({ ok: false, entries: 0, brokenAt: { problem: "head_mismatch" } });
    await log.append({ type: "decision" });
    expect(await log.verify()).toMatchObject({ ok: false, brokenAt: { seq: 3, problem: "seq_gap" } });
  });

  it("a deleted or altered head is a head_mismatch", async () => {
    const log = await chainOf(3);
    await redis.hset(keys.head, "hash", "f".repeat(40));
    expect(await log.verify()).toMatchObject({ ok: false, entries: 3, brokenAt: { seq: 3, problem: "head_mismatch" } });
    await redis.del(keys.head);
    expect(await log.verify()).toMatchObject({ ok: false, entries: 3, brokenAt: { problem: "head_mismatch" } });
  });

  it("an edited entry is a hash_mismatch at that entry", async () => {
    const log = await chainOf(5);
    await rewriteStream(redis, keys.stream, forge(3, false));
    const result = await log.verify();
    expect(result).toMatchObject({ ok: false, entries: 2, brokenAt: { seq: 3, streamId: "0-3", problem: "hash_mismatch" } });
  });

  it("an edited and re-hashed entry (plain SHA-1) breaks the next link: hash_mismatch at the entry after it", async () => {
    const log = await chainOf(5);
    await rewriteStream(redis, keys.stream, forge(3, true));
    expect(await log.verify()).toMatchObject({ ok: false, entries: 3, brokenAt: { seq: 4, streamId: "0-4", problem: "hash_mismatch" } });
  });

  it("stores neither seq nor prev: they are the stream id and the previous entry's hash", async () => {
    const log = await chainOf(2);
    const [[, first], [, second]] = (await redis.xrange(keys.stream, "-", "+")) as [[string, string[]], [string, string[]]];
    expect(first.filter((_, i) => i % 2 === 0)).toEqual(["ts", "hash", "entry"]);
    const records = await log.read({ fromSeq: 2 });
    expect(records).toMatchObject([{ seq: 2, prev: first[first.indexOf("hash") + 1], hash: second[second.indexOf("hash") + 1] }]);
    expect((await log.read())[0]).toMatchObject({ seq: 1, prev: GENESIS_HASH });
  });

  it("entries in the older form (seq and prev stored) still verify and read, before newer ones", async () => {
    const log = await chainOf(3);
    const before = await log.read();
    await toOlderForm(2);
    await log.append({ type: "decision", decision: "deny" });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 4 });
    expect((await log.read()).slice(0, 3)).toEqual(before);
    expect((await log.read({ fromSeq: 3 }))[0]).toMatchObject({ seq: 3, prev: before[1]!.hash });
  });

  it("in the older form, an edited and re-hashed entry is still a prev_mismatch at the next one", async () => {
    const log = await chainOf(5);
    await toOlderForm(5);
    await rewriteStream(redis, keys.stream, forge(3, true));
    expect(await log.verify()).toMatchObject({ ok: false, entries: 3, brokenAt: { seq: 4, streamId: "0-4", problem: "prev_mismatch" } });
  });

  it("in the older form, a stored seq out of place is a seq_gap", async () => {
    const log = await chainOf(3);
    await toOlderForm(3);
    await rewriteStream(redis, keys.stream, (seq, f) => (seq === 2 ? { ...f, seq: "7" } : f));
    expect(await log.verify()).toMatchObject({ ok: false, entries: 1, brokenAt: { problem: "seq_gap" } });
  });

  it("with an HMAC key, re-hashing without the key is caught at the edited entry", async () => {
    const log = await chainOf(5, "audit-hmac-key-for-tamper-tests-0123456789");
    await rewriteStream(redis, keys.stream, forge(3, true));
    expect(await log.verify()).toMatchObject({ ok: false, entries: 2, brokenAt: { seq: 3, problem: "hash_mismatch" } });
  });

  it("an entry with a missing field is malformed", async () => {
    const log = await chainOf(3);
    await rewriteStream(redis, keys.stream, (seq, f) => {
      if (seq !== 2) return f;
      const { ts: _ts, ...rest } = f;
      return rest;
    });
    expect(await log.verify()).toMatchObject({ ok: false, entries: 1, brokenAt: { seq: 2, streamId: "0-2", problem: "malformed" } });
    await expect(log.read()).rejects.toBeInstanceOf(AuditBrokenError);
  });

  it("assertAuditIntact turns a broken result into AuditBrokenError", async () => {
    const log = await chainOf(3);
    await redis.xdel(keys.stream, "0-2");
    const result = await log.verify();
    expect(() => assertAuditIntact(result)).toThrow(AuditBrokenError);
    expect(() => assertAuditIntact(result)).toThrow(/seq 3 \(0-3\): seq_gap/);
  });
});
