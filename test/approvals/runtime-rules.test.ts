import { createPrivateKey } from "node:crypto";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { RuntimeRulesCache, type RulesMemory, type RulesRefusal } from "../../src/approvals/runtime-rules-cache.ts";
import { RulesWriter, RuntimeRulesStore } from "../../src/approvals/runtime-rules.ts";
import { generateKey } from "../../src/trust/keys.ts";
import { KeySigner } from "../../src/trust/signature.ts";
import { testKeys, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let sub: Redis;
let prefix: string;
let store: RuntimeRulesStore;
let writer: RulesWriter;

beforeEach(() => {
  redis = connect();
  sub = connect();
  prefix = uniquePrefix("rules");
  store = new RuntimeRulesStore(redis, keys(prefix), prefix);
  writer = new RulesWriter(store, testSigner, testKeys);
});
afterEach(async () => {
  sub.disconnect();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

class MemoryFile implements RulesMemory {
  raw: string | null = null;
  read() {
    return this.raw;
  }
  write(raw: string) {
    this.raw = raw;
  }
}

function cache(memory?: RulesMemory) {
  const refused: Array<[RulesRefusal, string]> = [];
  const c = new RuntimeRulesCache(store, sub, testKeys, { onChange: () => undefined, onRefused: (k, why) => refused.push([k, why]), onError: () => undefined }, memory);
  return { c, refused };
}

describe("signed runtime rules", () => {
  it("writes each change as a newer signed snapshot that a reader applies", async () => {
    const first = await writer.setOverride("exec(git push *)", "deny", "api:admin");
    const second = await writer.addAlwaysAllow("exec(npm test)", "api:alice");
    expect(second?.version).toBeGreaterThan(first?.version as number);
    const { c } = cache();
    await c.refresh();
    expect(c.ready).toBe(true);
    expect(Object.fromEntries(c.rules.overrides)).toEqual({ "exec(git push *)": "deny" });
    expect(c.rules.alwaysAllow).toEqual(["exec(npm test)"]);
    // Idempotent: the same change again writes nothing.
    expect(await writer.addAlwaysAllow("exec(npm test)", "api:alice")).toBeNull();
    await expect(writer.unset("exec(never)", "api:admin")).rejects.toThrow(/no runtime override or allow-always rule/);
  });

  it("two writers at once both land (compare-and-set), each on top of the other", async () => {
    const other = new RulesWriter(new RuntimeRulesStore(connect(), keys(prefix), prefix), testSigner, testKeys);
    await Promise.all([writer.setOverride("exec(a)", "deny", "x"), other.setOverride("exec(b)", "deny", "y"), writer.addAlwaysAllow("exec(c)", "z")]);
    const loaded = await store.load(testKeys);
    expect(loaded.kind === "ok" && [...loaded.snapshot.overrides.keys()].sort()).toEqual(["exec(a)", "exec(b)"]);
    expect(loaded.kind === "ok" && loaded.snapshot.alwaysAllow).toEqual(["exec(c)"]);
  });

  it("a reader refuses what Redis write access alone can do: edits, other keys, deletion and replay", async () => {
    await writer.setOverride("exec(rm *)", "deny", "api:admin");
    const { c, refused } = cache();
    await c.refresh();
    const genuine = (await store.read()) as string;
    const k = keys(prefix);

    // An allow added to the genuine snapshot (its signature no longer matches).
    const edited = JSON.parse(genuine) as { v: number; overrides: Array<[string, string]> };
    edited.overrides.push(["exec(*)", "allow"]);
    edited.v += 1;
    await redis.set(k.rules, JSON.stringify(edited));
    await c.refresh();
    // A snapshot signed by someone else's key.
    const mallory = generateKey();
    const forged = await new RulesWriter(new RuntimeRulesStore(redis, keys(`${prefix}-m`), prefix), new KeySigner(mallory.info.id, "decision", createPrivateKey(mallory.privatePem)), testKeys);
    await forged.setOverride("exec(*)", "allow", "mallory");
    await redis.set(k.rules, (await redis.get(keys(`${prefix}-m`).rules)) as string);
    await c.refresh();
    expect(Object.fromEntries(c.rules.overrides)).toEqual({ "exec(rm *)": "deny" });
    // And it put the genuine snapshot back for everyone else.
    expect(await store.read()).toBe(genuine);

    // Deleted, then an older genuine version replayed.
    await writer.setOverride("exec(dd *)", "deny", "api:admin");
    await c.refresh();
    const newest = c.rules.version;
    await redis.del(k.rules);
    await c.refresh();
    expect(JSON.parse((await store.read()) as string).v).toBe(newest);
    await redis.set(k.rules, genuine);
    await c.refresh();
    expect(c.rules.version).toBe(newest);
    expect(Object.keys(Object.fromEntries(c.rules.overrides)).sort()).toEqual(["exec(dd *)", "exec(rm *)"]);
    expect(refused.map(([kind]) => kind)).toEqual(expect.arrayContaining(["forged", "deleted", "rollback"]));
    await deleteKeys(redis, `${prefix}-m`);
  });

  it("after tampering, the next genuine change (or `policy repair`) rebuilds from the newest genuine snapshot, at a version above every genuine one", async () => {
    await writer.setOverride("exec(rm *)", "deny", "api:admin");
    const genuine = JSON.parse((await store.read()) as string) as { v: number };
    await redis.set(keys(prefix).rules, JSON.stringify({ ...genuine, v: genuine.v + 10, overrides: [["exec(*)", "allow"]] }));
    const repaired = await writer.update("api:admin", () => false);
    expect(repaired?.rebuiltFrom).toContain("failed verification");
    expect(repaired?.snapshot.version).toBeGreaterThan(genuine.v);
    expect(Object.fromEntries(repaired?.snapshot.overrides ?? [])).toEqual({ "exec(rm *)": "deny" });
    // And after a deletion, a new version still outranks every one gates have seen.
    await redis.del(keys(prefix).rules, keys(prefix).rulesHistory);
    const next = await writer.setOverride("exec(x)", "deny", "api:admin");
    expect(next?.version).toBeGreaterThan(repaired?.snapshot.version as number);
  });

  it("is not ready, saying why, until a load settles; a forged snapshot at first start keeps it not ready", async () => {
    const { c } = cache();
    expect(c.ready).toBe(false);
    await redis.set(keys(prefix).rules, JSON.stringify({ format: 1, v: 5, at: 1, by: "x", overrides: [["exec(*)", "allow"]], always: [], sig: "" }));
    await c.refresh();
    expect(c.ready).toBe(false);
    expect(c.refusedForgery).toBe(true);
    expect(c.notReadyReason).toMatch(/fail verification.*clawgate policy repair/);
    await redis.del(keys(prefix).rules);
    await c.refresh();
    expect(c.ready).toBe(true);
  });

  it("a change made after the rules were deleted from Redis (history too) builds on what the writer's process saw, dropping no deny", async () => {
    const { c } = cache();
    const seen = new RulesWriter(store, testSigner, testKeys, () => (c.rules.version > 0 ? c.rules : null));
    await seen.setOverride("exec(a)", "deny", "api:admin");
    await c.refresh();
    await redis.del(keys(prefix).rules, keys(prefix).rulesHistory);
    const out = await seen.update("api:admin", (r) => (r.overrides.set("exec(b)", "deny"), true));
    expect(out?.rebuiltFrom).toContain("gone from Redis");
    expect(Object.keys(Object.fromEntries(out?.snapshot.overrides ?? [])).sort()).toEqual(["exec(a)", "exec(b)"]);
  });

  it("remembers the newest snapshot it applied: after a restart, a deleted or rolled-back snapshot is still refused", async () => {
    const memory = new MemoryFile();
    await writer.setOverride("exec(a)", "deny", "api:admin");
    const older = (await store.read()) as string;
    await writer.setOverride("exec(b)", "deny", "api:admin");
    const first = cache(memory);
    await first.c.refresh();
    expect(memory.raw).toBe(await store.read());
    await redis.set(keys(prefix).rules, older);
    // A new process with the same memory.
    const restarted = cache(memory);
    expect(Object.keys(Object.fromEntries(restarted.c.rules.overrides)).sort()).toEqual(["exec(a)", "exec(b)"]);
    await restarted.c.refresh();
    expect(restarted.c.ready).toBe(true);
    expect(Object.keys(Object.fromEntries(restarted.c.rules.overrides)).sort()).toEqual(["exec(a)", "exec(b)"]);
    expect(restarted.refused.map(([k]) => k)).toEqual(["rollback"]);
  });
});
