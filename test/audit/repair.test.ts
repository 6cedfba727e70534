import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditKeys, type AuditKeys } from "../../src/audit/keys.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { AuditBrokenError } from "../../src/errors.ts";
import { connect, deleteKeys, rewriteStream, uniquePrefix } from "./helpers.ts";

const KEY = "repair-test-hmac-key-0123456789abcdef";
let redis: Redis;
let prefix: string;
let keys: AuditKeys;
let log: AuditLog;

beforeEach(async () => {
  redis = connect();
  prefix = uniquePrefix();
  keys = auditKeys(prefix);
  log = new AuditLog(redis, { prefix, hmacKey: KEY });
  for (let i = 1; i <= 5; i++) await log.append({ type: "decision", approvalId: `ap_${i}`, decision: "deny", reason: `entry ${i}` });
});

afterEach(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

/** Sets the head to entry `seq` as stored: a rollback that itself looks consistent. */
async function rollHeadTo(seq: number): Promise<void> {
  const [[, fields] = ["", []]] = await redis.xrange(keys.stream, `0-${seq}`, `0-${seq}`);
  await redis.hset(keys.head, "seq", String(seq), "hash", fields[fields.indexOf("hash") + 1] as string);
}

const appendFails = (l: AuditLog) => l.append({ type: "decision", approvalId: "ap_next", decision: "deny" }).then(() => null, (err: unknown) => err);

describe("clawgate audit repair", () => {
  it("points a rolled-back head at the last entry, records the repair as the next entry, and appends go on", async () => {
    await rollHeadTo(3);
    expect(await appendFails(new AuditLog(redis, { prefix, hmacKey: KEY }))).toBeInstanceOf(AuditBrokenError);
    expect(await log.verify()).toMatchObject({ ok: false, brokenAt: { problem: "head_mismatch" } });

    const out = await log.repair("cli:ops");
    expect(out).toMatchObject({ repaired: true, from: { seq: "3" }, last: { seq: 5 }, head: { seq: 6 } });
    const [repairEntry] = await log.read({ fromSeq: 6 });
    expect(repairEntry?.event).toMatchObject({ type: "audit.repaired", actor: "cli:ops", details: { headWas: "3", lastEntry: 5 } });
    await log.append({ type: "decision", approvalId: "ap_7", decision: "deny" });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 7 });
  });

  it("restores a deleted or garbled head the same way", async () => {
    await redis.del(keys.head);
    expect(await log.repair("cli:ops")).toMatchObject({ repaired: true, from: { seq: null }, last: { seq: 5 } });
    await redis.hset(keys.head, "seq", "banana", "junk", "1");
    expect(await log.repair("cli:ops")).toMatchObject({ repaired: true, from: { seq: "banana" }, last: { seq: 6 } });
    expect(await redis.hgetall(keys.head)).toEqual({ seq: "7", hash: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 7 });
  });

  it("has nothing to do on an intact log", async () => {
    expect(await log.repair("cli:ops")).toMatchObject({ repaired: false, head: { seq: 5 } });
    expect(await redis.xlen(keys.stream)).toBe(5);
  });

  // A repair must never paper over a loss: each of these leaves the log exactly as it found it.
  const refusals: Array<[string, () => Promise<void>, RegExp]> = [
    [
      "an edited entry",
      () => rewriteStream(redis, keys.stream, (seq, f) => (seq === 2 ? { ...f, entry: f.entry?.replace("entry 2", "entry two") ?? "" } : f)).then(() => rollHeadTo(3)),
      /entry 2 .* is broken: hash_mismatch/,
    ],
    ["newest entries deleted with the head rolled back to match", () => redis.xdel(keys.stream, "0-4", "0-5").then(() => rollHeadTo(3)), /stream's last id is 0-5 but the log ends at seq 3: entries after 3 were deleted/],
    ["newest entries deleted with the head rolled back behind them", () => redis.xdel(keys.stream, "0-5").then(() => rollHeadTo(3)), /stream's last id is 0-5 but the log ends at seq 4: entries after 4 were deleted/],
    ["newest entries deleted, head left ahead", () => redis.xdel(keys.stream, "0-4", "0-5").then(() => undefined), /the head says seq 5 but the log ends at seq 3: entries 4–5 are missing/],
    ["a stream entry forged past the head", () => redis.xadd(keys.stream, "0-9", "ts", "1", "hash", "0".repeat(40), "entry", "{}").then(() => undefined), /entry 9 .* is broken: seq_gap/],
  ];
  for (const [what, tamper, said] of refusals) {
    it(`refuses to repair ${what}`, async () => {
      await tamper();
      const head = await redis.hgetall(keys.head);
      const length = await redis.xlen(keys.stream);
      const out = await log.repair("cli:ops").then(() => null, (err: unknown) => err);
      expect(out).toBeInstanceOf(AuditBrokenError);
      expect((out as Error).message).toMatch(said);
      expect(await redis.hgetall(keys.head)).toEqual(head);
      expect(await redis.xlen(keys.stream)).toBe(length);
    });
  }
});
