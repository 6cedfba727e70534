import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditBrokenError, BadRequestError, ConfigInvalidError } from "../../src/errors.ts";
import { GENESIS_HASH, chainHash } from "../../src/audit/chain.ts";
import type { AuditEvent } from "../../src/audit/event.ts";
import { auditKeys } from "../../src/audit/keys.ts";
import { AUDIT_LIMITS } from "../../src/audit/limits.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { verifyChain } from "../../src/audit/verify.ts";
import { connect, deleteKeys, uniquePrefix } from "./helpers.ts";

const HMAC_KEY = "an-audit-key-that-is-long-enough-0123456789";

let redis: Redis;
let prefix: string;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
});

afterEach(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const decision = (i: number): AuditEvent => ({
  type: "decision",
  approvalId: `ap_${i}`,
  actor: "U123",
  channel: "slack",
  decision: "allow-once",
  tool: "exec",
  agentId: "main",
  details: { i },
});

describe("AuditLog", () => {
  it("appends a chain that verifies, and reads it back", async () => {
    let t = 1_700_000_000_000;
    const log = new AuditLog(redis, { prefix, now: () => t++ });
    expect(await log.verify()).toEqual({ ok: true, entries: 0, head: GENESIS_HASH });

    const first = await log.append(decision(1));
    const second = await log.append({ type: "refusal", actor: "mallory", channel: "discord", reason: "not an allowed approver" });
    expect(first.seq).toBe(1);
    expect(second.seq).toBe(2);

    const records = await log.read();
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect(records[0]).toMatchObject({ streamId: "0-1", ts: 1_700_000_000_000, prev: GENESIS_HASH, hash: first.hash, event: decision(1) });
    expect(records[1]).toMatchObject({ prev: first.hash, hash: second.hash, event: { type: "refusal", actor: "mallory" } });

    // The stored hash is the documented formula over the stored strings.
    const entry = await redis.xrange(auditKeys(prefix).stream, "0-1", "0-1");
    const fields = entry[0]?.[1] ?? [];
    const text = fields[fields.indexOf("entry") + 1] as string;
    expect(first.hash).toBe(chainHash(GENESIS_HASH, "1", "1700000000000", text));

    expect(await log.verify()).toEqual({ ok: true, entries: 2, head: second.hash });
    expect(await log.read({ fromSeq: 2, limit: 5 })).toHaveLength(1);
    expect(await log.read({ fromSeq: 1, limit: 1 })).toHaveLength(1);
    expect((await log.latest(1)).map((r) => r.seq)).toEqual([2]);
    expect((await log.latest(10)).map((r) => r.seq)).toEqual([1, 2]);
  });

  it("stores canonical JSON (sorted keys) so the entry bytes are reproducible", async () => {
    const log = new AuditLog(redis, { prefix });
    await log.append({ tool: "write", type: "tool.outcome", details: { z: 1, a: { y: 2, b: 3 } } });
    const [[, fields] = ["", []]] = await redis.xrange(auditKeys(prefix).stream, "-", "+");
    expect(fields[fields.indexOf("entry") + 1]).toBe('{"details":{"a":{"b":3,"y":2},"z":1},"tool":"write","type":"tool.outcome"}');
  });

  it("keeps one valid chain under 200 parallel appends from two connections", async () => {
    const other = connect();
    try {
      const logs = [new AuditLog(redis, { prefix }), new AuditLog(other, { prefix })];
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => logs[i % 2]!.append(decision(i))));
      expect(new Set(results.map((r) => r.seq)).size).toBe(200);
      expect(Math.max(...results.map((r) => r.seq))).toBe(200);
      const verdict = await logs[0]!.verify();
      expect(verdict).toMatchObject({ ok: true, entries: 200 });
    } finally {
      other.disconnect();
    }
  });

  it("verifies across pages and while others keep appending", async () => {
    const log = new AuditLog(redis, { prefix });
    for (let i = 0; i < 25; i++) await log.append(decision(i));
    const keys = auditKeys(prefix);
    expect(await verifyChain(redis, keys, { pageSize: 7 })).toMatchObject({ ok: true, entries: 25 });

    const writer = connect();
    try {
      const writerLog = new AuditLog(writer, { prefix });
      const appending = Promise.all(Array.from({ length: 100 }, (_, i) => writerLog.append(decision(i))));
      const verdicts = await Promise.all([verifyChain(redis, keys, { pageSize: 5 }), verifyChain(redis, keys, { pageSize: 5 })]);
      await appending;
      for (const v of verdicts) expect(v.ok).toBe(true);
      expect(await log.verify()).toMatchObject({ ok: true, entries: 125 });
    } finally {
      writer.disconnect();
    }
  });

  it("HMAC mode verifies with the right key and fails with a wrong or missing key", async () => {
    const log = new AuditLog(redis, { prefix, hmacKey: HMAC_KEY });
    for (let i = 0; i < 3; i++) await log.append(decision(i));
    expect(await log.verify()).toMatchObject({ ok: true, entries: 3 });

    const wrong = await new AuditLog(redis, { prefix, hmacKey: `${HMAC_KEY}x` }).verify();
    expect(wrong).toMatchObject({ ok: false, entries: 0, brokenAt: { seq: 1, streamId: "0-1", problem: "hash_mismatch" } });
    const none = await new AuditLog(redis, { prefix }).verify();
    expect(none).toMatchObject({ ok: false, brokenAt: { seq: 1, problem: "hash_mismatch" } });
  });

  it.each([
    ["short", "k"],
    ["exactly one block", "b".repeat(64)],
    ["longer than a block (hashed first)", "L".repeat(65)],
    ["non-ASCII", "clé-secrète-😀-0123456789"],
  ])("an HMAC chain with a %s key verifies", async (_name, key) => {
    const log = new AuditLog(redis, { prefix, hmacKey: key });
    await log.append({ type: "decision", reason: "ünïcødé ✓ \u0000 nul", details: { emoji: "🦀" } });
    await log.append(decision(2));
    expect(await log.verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it("truncates an oversize reason and details instead of storing them whole", async () => {
    const log = new AuditLog(redis, { prefix });
    await log.append({ type: "refusal", reason: "x".repeat(100_000), details: { dump: "y".repeat(100_000) } });
    const [record] = await log.read();
    expect(Buffer.byteLength(record?.event.reason ?? "")).toBeLessThanOrEqual(AUDIT_LIMITS.reason);
    expect(record?.event.reason).toContain("[truncated 100000 bytes]");
    expect(record?.event.details).toMatchObject({ _truncated: true });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 1 });
  });

  it("rejects events that do not match the schema, unknown properties included", async () => {
    const log = new AuditLog(redis, { prefix });
    await expect(log.append({ type: "nope" } as unknown as AuditEvent)).rejects.toBeInstanceOf(BadRequestError);
    await expect(log.append({ type: "decision", password: "hunter2" } as unknown as AuditEvent)).rejects.toBeInstanceOf(BadRequestError);
    expect(await redis.exists(auditKeys(prefix).stream)).toBe(0);
  });

  it("refuses an empty HMAC key and a prefix that would break the hash tag", () => {
    expect(() => new AuditLog(redis, { prefix, hmacKey: "" })).toThrow(ConfigInvalidError);
    expect(() => new AuditLog(redis, { prefix: "a}b" })).toThrow(ConfigInvalidError);
  });

  it("refuses to append when the head is gone or behind the stream", async () => {
    const log = new AuditLog(redis, { prefix });
    await log.append(decision(1));
    await log.append(decision(2));
    const keys = auditKeys(prefix);

    await redis.hset(keys.head, "seq", "1");
    await expect(log.append(decision(3))).rejects.toBeInstanceOf(AuditBrokenError);

    await redis.del(keys.head);
    await expect(log.append(decision(3))).rejects.toBeInstanceOf(AuditBrokenError);
    expect(await redis.xlen(keys.stream)).toBe(2);
  });
});
