import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApprovalContext, ChannelAdapter, MessageRef, PostMarker } from "../../src/channel/adapter.ts";
import { QUEUE_EVENTS_MAXLEN } from "../../queue/jobs.ts";
import { bullPrefix, queueName } from "../../queue/names.ts";
import { decodeRefEntry } from "../../queue/refEntry.ts";
import { AuditLog } from "../../src/audit/log.ts";
import type { Recipient } from "../../src/approvals/events.ts";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { startLifecycle, type Lifecycle } from "../../src/lifecycle/runtime.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";

/** A channel that records calls and fails its first `failPosts` posts like a flaky API. */
class RecordingChannel implements ChannelAdapter {
  readonly refSchema = z.object({ messageId: z.string() });
  posts: Array<{ id: string; target: string; kind: string; tier: number }> = [];
  updates: Array<{ id: string; state: string; ref: MessageRef }> = [];
  attempts = 0;
  constructor(
    readonly name: string,
    private failPosts = 0,
  ) {}
  async post(ctx: ApprovalContext, recipient: Recipient, kind: "request" | "reminder" | "escalated", tier: number, _m: PostMarker): Promise<MessageRef> {
    this.attempts++;
    if (this.failPosts-- > 0) throw new Error("503 from the provider");
    this.posts.push({ id: ctx.record.id, target: recipient.target, kind, tier });
    return { messageId: `m${this.posts.length}` };
  }
  async update(ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    this.updates.push({ id: ctx.record.id, state: ctx.record.state, ref });
  }
}

let redis: Redis;
let prefix: string;
let store: ApprovalStore;
let service: ApprovalService;
let lifecycle: Lifecycle | undefined;

/** Runs the lifecycle as `serve` does, with `channels` standing in for log/slack. */
async function start(channels: ChannelAdapter[], over: Record<string, unknown> = {}, deps: { leaseGraceMs?: number } = {}) {
  // The recording channels take the place of the built-in "log" channel's tier-0 target.
  const config = testConfig(prefix, { log: { enabled: true }, ...over });
  lifecycle = await startLifecycle({ config, redisUrl: REDIS_URL, service, channels, audit: new AuditLog(redis, { prefix }), log: silentLog, sweepIntervalMs: 100, ...deps });
  return config;
}

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("life");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  service = new ApprovalService(store, silentLog, testSigner);
});
afterEach(async () => {
  await lifecycle?.close();
  lifecycle = undefined;
  await deleteKeys(redis, prefix);
  await redis.quit();
});

const auditTypes = async () => (await new AuditLog(redis, { prefix }).read({ limit: 100 })).map((e) => e.event.type);

describe("approval lifecycle in serve", () => {
  it("turns a created approval into a notification, retries a failing post, and posts exactly once", async () => {
    const flaky = new RecordingChannel("log", 1);
    await start([flaky]);
    const rec = await store.create(newApproval());
    await expect.poll(() => flaky.posts.length, { timeout: 6_000 }).toBe(1);
    expect(flaky.attempts).toBe(2);
    expect(flaky.posts[0]).toEqual({ id: rec.id, target: "log", kind: "request", tier: 0 });
    expect(Object.keys(await store.refs(rec.id))).toEqual(["log|log|0"]);
    await new Promise((r) => setTimeout(r, 300));
    expect(flaky.posts).toHaveLength(1);
    await expect.poll(auditTypes, { timeout: 2_000 }).toContain("approval.created");
  });

  it("edits every posted message once the approval is decided, and audits the decision", async () => {
    const ch = new RecordingChannel("log");
    await start([ch]);
    const rec = await store.create(newApproval());
    await expect.poll(async () => Object.values(await store.refs(rec.id)).map((v) => decodeRefEntry(v)?.s), { timeout: 2_000 }).toEqual(["posted"]);
    await service.decide({ id: rec.id, decision: "deny", actor: "cli:x", via: "cli", reason: "no" });
    await expect.poll(() => ch.updates, { timeout: 2_000 }).toEqual([{ id: rec.id, state: "denied", ref: { messageId: "m1" } }]);
    await expect.poll(auditTypes, { timeout: 2_000 }).toEqual(["approval.created", "decision"]);
  });

  it("never posts a fresh request for an approval decided before serve saw it, and audits both events once", async () => {
    const ch = new RecordingChannel("log");
    const rec = await store.create(newApproval());
    await store.resolve(rec.id, { state: "approved", decision: "allow-once", by: "a", via: "cli" });
    await start([ch]);
    await expect.poll(auditTypes, { timeout: 3_000 }).toEqual(["approval.created", "decision"]);
    expect(ch.posts).toHaveLength(0);
  });

  it("escalates a still-pending approval to the next tier, and not a decided one", async () => {
    const ch = new RecordingChannel("log");
    await start([ch], { escalation: { tiers: [{ after: "1s", notify: ["log"] }] } });
    const pending = await store.create(newApproval());
    const decided = await store.create(newApproval());
    await store.resolve(decided.id, { state: "approved", decision: "allow-once", by: "a", via: "cli" });
    await expect.poll(() => ch.posts.filter((p) => p.tier === 1), { timeout: 5_000 }).toEqual([{ id: pending.id, target: "log", kind: "escalated", tier: 1 }]);
    await expect.poll(auditTypes, { timeout: 2_000 }).toContain("approval.escalated");
    const escalate = new Queue(queueName("escalate"), { connection: redis, prefix: bullPrefix(prefix) });
    expect(await escalate.getJobCounts("delayed", "waiting")).toEqual({ delayed: 0, waiting: 0 });
    await escalate.close();
  });

  it("expires an approval whose deadline passed with nobody waiting (the sweeper, on the leader)", async () => {
    const ch = new RecordingChannel("log");
    await start([ch]);
    const rec = await store.create(newApproval({ timeoutMs: 1_000 }));
    await expect.poll(async () => (await store.require(rec.id)).state, { timeout: 4_000 }).toBe("expired");
    await expect.poll(() => ch.updates.map((u) => u.state), { timeout: 2_000 }).toEqual(["expired"]);
  });

  it("forgets expired records in the creation index (the sweeper), so it shrinks without anyone listing", async () => {
    await start([new RecordingChannel("log")]);
    const kept = await store.create(newApproval());
    const gone = await store.create(newApproval());
    // As approvals.keepFor would: the decided record expired.
    await redis.del(store.k.approval(gone.id));
    await expect.poll(() => redis.zrange(store.k.index, "0", "-1"), { timeout: 3_000 }).toEqual([kept.id]);
  });

  it("cancels an approval whose waiting gateway stopped renewing its lease and no longer listens", async () => {
    const ch = new RecordingChannel("log");
    const short = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000, leaseMs: 300 });
    await start([ch], {}, { leaseGraceMs: 300 });
    const rec = await short.create(newApproval(), { lease: true });
    await expect.poll(async () => (await store.require(rec.id)).state, { timeout: 4_000 }).toBe("cancelled");
    expect((await store.require(rec.id)).decisionReason).toMatch(/^lease lapsed: the gateway waiting for this decision went away/);
    await expect.poll(() => ch.updates.map((u) => u.state), { timeout: 2_000 }).toEqual(["cancelled"]);
  });

  it("keeps an approval whose gateway stopped renewing but still listens (paused), and cancels it once that connection closes", async () => {
    const ch = new RecordingChannel("log");
    const short = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000, leaseMs: 300 });
    await start([ch], {}, { leaseGraceMs: 300 });
    const rec = await short.create(newApproval(), { lease: true });
    // What a paused gateway looks like from Redis: its subscriber socket is open, nothing renews.
    const paused = connect();
    await paused.subscribe(store.k.decisionChannel(rec.id));
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await store.require(rec.id)).state, "5 lease terms without renewal, still listening").toBe("pending");
    paused.disconnect();
    await expect.poll(async () => (await store.require(rec.id)).state, { timeout: 3_000 }).toBe("cancelled");
  });

  it("a new sweeper leader waits one lease before judging leases (gateways renew after an outage first)", async () => {
    const ch = new RecordingChannel("log");
    const short = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000, leaseMs: 300 });
    const rec = await short.create(newApproval(), { lease: true });
    await start([ch], {}, { leaseGraceMs: 1_500 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await store.require(rec.id)).state).toBe("pending");
    await expect.poll(async () => (await store.require(rec.id)).state, { timeout: 3_000 }).toBe("cancelled");
  });

  it("dead-letters a malformed event instead of crashing, and keeps handling the next ones", async () => {
    const ch = new RecordingChannel("log");
    await start([ch]);
    const k = keys(prefix);
    await redis.xadd(k.events, "*", "type", "approval.exploded", "id", "ap_x", "at", "1", "data", "{}");
    await redis.xadd(k.events, "*", "type", "approval.created", "id", "ap_000000000000", "at", "1", "data", "not json");
    const rec = await store.create(newApproval());
    await expect.poll(() => ch.posts.length, { timeout: 3_000 }).toBe(1);
    expect(ch.posts[0]?.id).toBe(rec.id);
    await expect.poll(() => redis.xlen(k.deadEvents), { timeout: 2_000 }).toBe(2);
  });

  it("caps BullMQ's own event stream of each queue it adds jobs to (nothing reads it)", async () => {
    const ch = new RecordingChannel("log");
    await start([ch]);
    await store.create(newApproval());
    await expect.poll(() => ch.posts.length, { timeout: 3_000 }).toBe(1);
    const meta = `${bullPrefix(prefix)}:${queueName("notify", "log")}:meta`;
    expect(await redis.hget(meta, "opts.maxLenEvents")).toBe(String(QUEUE_EVENTS_MAXLEN));
  });

  it("fails malformed jobs at once and keeps them for inspection", async () => {
    const ch = new RecordingChannel("log");
    await start([ch]);
    const q = new Queue(queueName("notify", "log"), { connection: redis, prefix: bullPrefix(prefix) });
    await q.add("notify", { approvalId: "nope" }, { jobId: "bad-1", attempts: 5 });
    await expect.poll(async () => (await q.getJob("bad-1"))?.failedReason ?? "", { timeout: 2_000 }).toContain("malformed job");
    const job = await q.getJob("bad-1");
    expect(job?.attemptsMade).toBe(1);
    await q.close();
  });
});
