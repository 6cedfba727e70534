import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { paramsHash } from "../../src/approvals/canonical.ts";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { ScriptCode } from "../../src/lua/codes.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { newApproval } from "../helpers/fixtures.ts";

let redis: Redis;
let prefix: string;
let store: ApprovalStore;

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(() => {
  prefix = uniquePrefix("store");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
});
afterEach(() => deleteKeys(redis, prefix));

describe("ApprovalStore", () => {
  it("creates a pending record with redacted params and a hash of the real ones", async () => {
    const params = { command: "deploy --token=abcdef123456 now", password: "hunter2" };
    const rec = await store.create(newApproval({ params }));
    expect(rec.id).toMatch(/^ap_[0-9a-z]{12}$/);
    const read = await store.require(rec.id);
    expect(read.state).toBe("pending");
    expect(read.params).not.toContain("hunter2");
    expect(read.params).not.toContain("abcdef123456");
    expect(read.params).toContain("[REDACTED]");
    expect(read.paramsHash).toBe(paramsHash(params));
    expect(read.deadline - read.createdAt).toBe(60_000);
    expect(await redis.zscore(keys(prefix).pending, rec.id)).toBe(String(read.deadline));
  });

  it("stores oversized params truncated but hashes them whole", async () => {
    const params = { command: "x".repeat(50_000) };
    const rec = await store.create(newApproval({ params }));
    const read = await store.require(rec.id);
    expect(read.params.length).toBeLessThan(11_000);
    expect(JSON.parse(read.params).truncated).toBe(true);
    expect(read.paramsHash).toBe(paramsHash(params));
  });

  it("lets the first decision win and tells later ones who decided", async () => {
    const rec = await store.create(newApproval());
    const first = await store.resolve(rec.id, { state: "approved", decision: "allow-once", by: "cli:alice", via: "cli", reason: "ok" });
    expect(first.code).toBe(ScriptCode.Done);
    const second = await store.resolve(rec.id, { state: "denied", decision: "deny", by: "slack:U1", via: "slack", reason: "no" });
    expect(second).toMatchObject({ code: ScriptCode.NotPending, resolution: { state: "approved", decidedBy: "cli:alice", decidedVia: "cli" } });
    const read = await store.require(rec.id);
    expect(read).toMatchObject({ state: "approved", decision: "allow-once", decidedBy: "cli:alice", decisionReason: "ok" });
    expect(await redis.zscore(keys(prefix).pending, rec.id)).toBeNull();
  });

  it("resolves exactly once under 20 concurrent deciders on separate connections", async () => {
    const rec = await store.create(newApproval());
    const conns = Array.from({ length: 4 }, () => connect());
    try {
      const stores = conns.map((c) => new ApprovalStore(c, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 }));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (stores[i % 4] as ApprovalStore).resolve(rec.id, i % 2 ? { state: "denied", decision: "deny", by: `u${i}`, via: "cli", reason: "r" } : { state: "approved", decision: "allow-once", by: `u${i}`, via: "cli" }),
        ),
      );
      const winners = results.filter((r) => r.code === ScriptCode.Done);
      expect(winners).toHaveLength(1);
      const winner = winners[0] as { code: ScriptCode.Done; resolution: { decidedBy: string } };
      for (const r of results.filter((x) => x.code === ScriptCode.NotPending)) {
        expect((r as { resolution: { decidedBy: string } }).resolution.decidedBy).toBe(winner.resolution.decidedBy);
      }
    } finally {
      await Promise.all(conns.map((c) => c.quit()));
    }
  });

  it("answers not_found for unknown and malformed ids without creating anything", async () => {
    expect(await store.resolve("ap_000000000000", { state: "approved", decision: "allow-once", by: "x", via: "cli" })).toEqual({ code: ScriptCode.NotFound });
    expect(await store.resolve("../../etc", { state: "approved", decision: "allow-once", by: "x", via: "cli" })).toEqual({ code: ScriptCode.NotFound });
    expect(await redis.exists(keys(prefix).approval("ap_000000000000"))).toBe(0);
    await expect(store.require("ap_000000000000")).rejects.toThrow(/no approval with id/);
  });

  it("refuses to expire before the deadline when asked to check it", async () => {
    const rec = await store.create(newApproval());
    expect(await store.resolve(rec.id, { state: "expired", decision: "", by: "clawgate", via: "clawgate", guard: "due" })).toEqual({ code: ScriptCode.NotDue });
    const late = await store.resolve(rec.id, { state: "expired", decision: "", by: "clawgate", via: "clawgate", guard: "due" }, rec.deadline + 1);
    expect(late.code).toBe(ScriptCode.Done);
  });

  it("stores and publishes an approval's signature with it, and saves no rule itself (serve signs rules)", async () => {
    const sub = connect();
    const k = keys(prefix);
    const rec = await store.create(newApproval());
    // One shared channel for every decision (each message carries its approval's id).
    const got = new Promise<string>((resolve) => sub.on("message", (ch: string, msg: string) => ch === k.decisions && resolve(msg)));
    await sub.subscribe(k.decisions);
    const sig = `aaaaaaaaaaaa.${"s".repeat(86)}`;
    const out = await store.resolve(rec.id, { state: "approved", decision: "allow-always", by: "cli:alice", via: "cli", sig });
    expect(out).toMatchObject({ code: ScriptCode.Done, resolution: { sig } });
    expect((await store.require(rec.id)).sig).toBe(sig);
    expect(JSON.parse(await got)).toMatchObject({ id: rec.id, state: "approved", sig });
    // Kept in ≤ 64-byte pieces so the record stays a compact hash.
    expect(await redis.hget(k.approval(rec.id), "sig")).toBe(sig.slice(0, 64));
    expect(await redis.exists(k.rules)).toBe(0);
    // A later decider learns the earlier signature too (what a gate re-reads after its wait).
    expect(await store.resolve(rec.id, { state: "denied", decision: "deny", by: "x", via: "cli", reason: "late" })).toMatchObject({ code: ScriptCode.NotPending, resolution: { sig } });
    await sub.quit();
  });

  it("refuses allow-always when no rule may be saved, and leaves the approval pending", async () => {
    const rec = await store.create(newApproval({ alwaysAllowRule: null }));
    expect(await store.resolve(rec.id, { state: "approved", decision: "allow-always", by: "a", via: "cli" })).toEqual({ code: ScriptCode.AlwaysRefused });
    expect((await store.require(rec.id)).state).toBe("pending");
    expect(await redis.exists(keys(prefix).rules)).toBe(0);
  });

  it("sets a one-use retry grant on approval when retryGrant is on", async () => {
    const s = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 30_000, maxParamsBytes: 10_000 });
    const input = newApproval();
    const rec = await s.create(input);
    await s.resolve(rec.id, { state: "approved", decision: "allow-once", by: "a", via: "cli" });
    const ttl = await redis.pttl(rec.grantKey);
    expect(ttl).toBeGreaterThan(25_000);
    expect(await s.consumeGrant("agent:main:s1", "exec", { command: "other" })).toBeNull();
    expect(await s.consumeGrant("agent:main:s2", "exec", input.params)).toBeNull();
    expect(await s.consumeGrant("agent:main:s1", "exec", input.params)).toBe(rec.id);
    expect(await s.consumeGrant("agent:main:s1", "exec", input.params)).toBeNull();
  });

  it("sets no grant for denials or when retryGrant is off", async () => {
    const rec = await store.create(newApproval());
    await store.resolve(rec.id, { state: "approved", decision: "allow-once", by: "a", via: "cli" });
    expect(await redis.exists(rec.grantKey)).toBe(0);
  });

  it("keeps decided records for keepFor, then lets them go", async () => {
    const rec = await store.create(newApproval());
    expect(await redis.pttl(keys(prefix).approval(rec.id))).toBe(-1);
    await store.resolve(rec.id, { state: "denied", decision: "deny", by: "a", via: "cli", reason: "r" });
    const ttl = await redis.pttl(keys(prefix).approval(rec.id));
    expect(ttl).toBeGreaterThan(3_500_000);
  });

  it("lists by state, newest first, and drops index entries of records that expired", async () => {
    const a = await store.create(newApproval());
    const b = await store.create(newApproval());
    const c = await store.create(newApproval());
    await store.resolve(b.id, { state: "denied", decision: "deny", by: "a", via: "cli", reason: "r" });
    await redis.del(keys(prefix).approval(c.id));
    expect((await store.list({ state: "pending" })).map((r) => r.id)).toEqual([a.id]);
    expect((await store.list({ state: "denied" })).map((r) => r.id)).toEqual([b.id]);
    expect((await store.list({ state: "all" })).map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
    expect(await redis.zscore(keys(prefix).index, c.id)).toBeNull();
  });

  it("forgets the index entries of the oldest records once they expired, without anyone listing", async () => {
    const recs = [];
    for (let i = 0; i < 5; i++) recs.push(await store.create(newApproval(), { now: 1_000 + i }));
    // The two oldest and the fourth expired; the third is still kept.
    for (const r of [recs[0], recs[1], recs[3]]) await redis.del(keys(prefix).approval(r?.id as string));
    expect(await store.forgetExpired(4)).toBe(3);
    expect(await redis.zrange(keys(prefix).index, "0", "-1")).toEqual([recs[2]?.id, recs[4]?.id]);
    expect(await store.forgetExpired(4)).toBe(0);
  });

  it("keeps message refs per channel, target and tier", async () => {
    const rec = await store.create(newApproval());
    await store.setRef(rec.id, "slack|C1|0", '{"r":{"ts":"1.2","channel":"C1"}}');
    await store.setRef(rec.id, "log|log|0", '{"r":{"printedAt":1,"tier":0}}');
    const refs = await store.refs(rec.id);
    expect(refs["slack|C1|0"]).toBe('{"r":{"ts":"1.2","channel":"C1"}}');
    expect(Object.keys(refs).sort()).toEqual(["log|log|0", "slack|C1|0"]);
  });

  it("appends each state change to the event stream in the same script", async () => {
    const k = keys(prefix);
    const rec = await store.create(newApproval());
    await store.resolve(rec.id, { state: "denied", decision: "deny", by: "slack:U1", via: "slack", reason: "not now" });
    await store.resolve(rec.id, { state: "approved", decision: "allow-once", by: "slack:U2", via: "slack" });
    const events = await redis.xrange(k.events, "-", "+");
    const types = events.map(([, f]) => f[f.indexOf("type") + 1]);
    expect(types).toEqual(["approval.created", "approval.decided"]);
    const decided = events[1]?.[1] as string[];
    expect(JSON.parse(decided[decided.indexOf("data") + 1] as string)).toMatchObject({ state: "denied", by: "slack:U1", via: "slack", reason: "not now" });
  });

  it("refuses a decision after the deadline, expiring the approval instead, with no sweeper or job involved", async () => {
    const rec = await store.create(newApproval());
    const late = await store.resolve(rec.id, { state: "approved", decision: "allow-once", by: "slack:U1", via: "slack" }, rec.deadline + 5);
    expect(late).toMatchObject({ code: ScriptCode.Expired, resolution: { state: "expired", decidedBy: "clawgate" } });
    expect((await store.require(rec.id)).state).toBe("expired");
    expect((await store.require(rec.id)).sig).toBe("");
    const again = await store.resolve(rec.id, { state: "approved", decision: "allow-once", by: "slack:U1", via: "slack" });
    expect(again).toMatchObject({ code: ScriptCode.NotPending, resolution: { state: "expired" } });
  });

  it("leaves a tombstone when an abandoned ask is cancelled before its create lands, so the create never lands", async () => {
    const id = "ap_abcdefghjkmn";
    const out = await store.resolve(id, { state: "cancelled", decision: "", by: "clawgate", via: "clawgate", reason: "gave up", tombstone: true });
    expect(out.code).toBe(ScriptCode.NotFound);
    await expect(store.create(newApproval(), { id })).rejects.toMatchObject({ code: "approval_already_decided", message: expect.stringMatching(/abandoned/) });
    expect(await redis.zcard(keys(prefix).pending)).toBe(0);
    expect(await redis.xlen(keys(prefix).events)).toBe(0);
    expect((await store.require(id)).state).toBe("cancelled");
  });

  it("cancels on a lapsed lease only, and never recreates a lease removed by a decision", async () => {
    const k = keys(prefix);
    const s = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000, leaseMs: 1_000 });
    const rec = await s.create(newApproval(), { lease: true });
    const held = await s.resolve(rec.id, { state: "cancelled", decision: "", by: "clawgate", via: "clawgate", guard: "lease" });
    expect(held.code).toBe(ScriptCode.NotDue);
    await s.renewLeases([rec.id], Date.now() + 5_000);
    expect(Number(await redis.zscore(k.leases, rec.id))).toBeGreaterThan(Date.now() + 5_000);
    const lapsed = await s.resolve(rec.id, { state: "cancelled", decision: "", by: "clawgate", via: "clawgate", guard: "lease" }, Date.now() + 7_000);
    expect(lapsed.code).toBe(ScriptCode.Done);
    await s.renewLeases([rec.id]);
    expect(await redis.zscore(k.leases, rec.id)).toBeNull();
  });

  it("caps pending approvals per session and per agent, and frees a slot on each decision", async () => {
    const s = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000, maxPendingPerSession: 2, maxPendingPerAgent: 3 });
    const a = await s.create(newApproval({ sessionKey: "s1" }));
    await s.create(newApproval({ sessionKey: "s1" }));
    await expect(s.create(newApproval({ sessionKey: "s1" }))).rejects.toThrow(/session "s1" already has 2 approvals waiting/);
    await s.create(newApproval({ sessionKey: "s2" }));
    await expect(s.create(newApproval({ sessionKey: "s3" }))).rejects.toThrow(/agent "main" already has 3/);
    await s.resolve(a.id, { state: "denied", decision: "deny", by: "x", via: "cli", reason: "r" });
    await s.create(newApproval({ sessionKey: "s1" }));
    expect(await redis.zcard(keys(prefix).pending)).toBe(3);
  });

  it("records each escalation tier once, with who it reached", async () => {
    const rec = await store.create(newApproval());
    const recipients = [{ channel: "slack", target: "U0BOB", person: "bob" }];
    expect(await store.escalate(rec.id, 1, recipients, ["person:bob", "slack:U0BOB"])).toBe("escalated");
    expect(await store.escalate(rec.id, 1, recipients, ["person:bob"])).toBe("already");
    expect((await store.notified(rec.id)).sort()).toEqual(["person:bob", "slack:U0BOB"]);
    expect((await store.require(rec.id)).tier).toBe(1);
    await store.resolve(rec.id, { state: "denied", decision: "deny", by: "x", via: "cli", reason: "r" });
    expect(await store.escalate(rec.id, 2, recipients, [])).toBe("final");
  });

  it("fixes facts first-writer-wins, stores each distinct content once for every approval that shares it, and writes nothing for an unknown id", async () => {
    const facts = (chain: string) => ({ v: 1 as const, chain, schedule: { tiers: [{ after: 0, notify: ["slack"] }], repeat: 0, end: "wait" as const }, approvers: null, recipients: [{ channel: "slack", target: "C0APPROVALS" }], requesterPerson: null, requesterIds: [] });
    const a = await store.create(newApproval());
    const b = await store.create(newApproval());
    expect(await store.facts(a.id)).toBeNull();
    expect(await store.fixFacts(a.id, facts("default"))).toEqual(facts("default"));
    expect(await store.fixFacts(b.id, facts("default"))).toEqual(facts("default"));
    // A later writer (another replica, a config reload) gets the facts fixed first.
    expect(await store.fixFacts(a.id, facts("reloaded"))).toEqual(facts("default"));
    expect(await store.facts(a.id)).toEqual(facts("default"));
    const bodies = await redis.keys(`{${prefix}}:facts:*`);
    expect(bodies).toHaveLength(1);
    expect(await redis.hget(keys(prefix).approval(a.id), "facts")).toBe(bodies[0]?.split(":").pop());
    expect(await redis.hget(keys(prefix).approval(b.id), "facts")).toBe(bodies[0]?.split(":").pop());
    // The body outlives the records pointing at it: at least until the deadline plus keepFor.
    expect(await redis.pttl(bodies[0] as string)).toBeGreaterThan(3_600_000);
    expect(await store.fixFacts("ap_000000000000", facts("default"))).toEqual(facts("default"));
    expect(await redis.exists(keys(prefix).approval("ap_000000000000"))).toBe(0);
    expect(await store.facts("ap_000000000000")).toBeNull();
  });
});
