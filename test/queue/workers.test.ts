import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApprovalContext, ChannelAdapter, MessageRef } from "../../bots/channel.ts";
import { JobProducer } from "../../queue/producer.ts";
import { bullPrefix, jobIds, queueName } from "../../queue/names.ts";
import { startWorkers } from "../../queue/workers.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { newApproval, silentLog, testConfig } from "../helpers/fixtures.ts";

/** A channel that records calls and fails its first `failPosts` posts like a flaky API. */
class RecordingChannel implements ChannelAdapter {
  posts: Array<{ id: string; kind: string; tier: number }> = [];
  updates: Array<{ id: string; state: string; ref: MessageRef }> = [];
  attempts = 0;
  constructor(
    readonly name: string,
    private failPosts = 0,
  ) {}
  async post(ctx: ApprovalContext, kind: "request" | "reminder" | "escalated", tier: number): Promise<MessageRef> {
    this.attempts++;
    if (this.failPosts-- > 0) throw new Error("503 from the provider");
    this.posts.push({ id: ctx.record.id, kind, tier });
    return { messageId: `m${this.posts.length}` };
  }
  async update(ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    this.updates.push({ id: ctx.record.id, state: ctx.record.state, ref });
  }
}

let redis: Redis;
let bull: Redis;
let prefix: string;
let producer: JobProducer;
let store: ApprovalStore;
let service: ApprovalService;
let stop: () => Promise<void>;

function start(channels: ChannelAdapter[], over: Record<string, unknown> = {}) {
  const config = testConfig(prefix, over);
  service = new ApprovalService(store, { audit: new AuditLog(redis, { prefix }), producer, channels: channels.map((c) => c.name), log: silentLog });
  const w = startWorkers({ config, connection: bull, service, producer, channels, log: silentLog });
  stop = () => w.close();
  return config;
}

beforeEach(() => {
  redis = connect();
  bull = connect();
  prefix = uniquePrefix("queue");
  producer = new JobProducer(redis, prefix);
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
});
afterEach(async () => {
  await stop?.();
  await producer.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
  await bull.quit();
});

describe("queue workers", () => {
  it("retries a failing post with backoff and delivers it exactly once; one failing channel does not hold up another", async () => {
    const flaky = new RecordingChannel("flaky", 1);
    const steady = new RecordingChannel("steady");
    start([flaky, steady]);
    const rec = await store.create(newApproval());
    await producer.notify(rec.id, ["flaky", "steady"], 0, "request");
    await expect.poll(() => steady.posts.length, { timeout: 2_000 }).toBe(1);
    expect(flaky.posts).toHaveLength(0);
    await expect.poll(() => flaky.posts.length, { timeout: 6_000 }).toBe(1);
    expect(flaky.attempts).toBe(2);
    expect(Object.keys(await store.refs(rec.id)).sort()).toEqual(["flaky:0", "steady:0"]);
  });

  it("uses idempotent job ids: enqueueing the same notification twice posts once", async () => {
    const ch = new RecordingChannel("c");
    start([ch]);
    const rec = await store.create(newApproval());
    await producer.notify(rec.id, ["c"], 0, "request");
    await producer.notify(rec.id, ["c"], 0, "request");
    await expect.poll(() => ch.posts.length, { timeout: 2_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(ch.posts).toHaveLength(1);
    const q = new Queue(queueName("notify", "c"), { connection: redis, prefix: bullPrefix(prefix) });
    expect((await q.getJob(jobIds.notify(rec.id, "c", 0)))?.id).toBe(`notify.${rec.id}.c.0`);
    expect(await q.getJobCountByTypes("completed", "waiting", "active", "failed")).toBe(1);
    await q.close();
  });

  it("edits every posted message once the approval is decided", async () => {
    const ch = new RecordingChannel("c");
    start([ch]);
    const rec = await store.create(newApproval());
    await producer.notify(rec.id, ["c"], 0, "request");
    await expect.poll(() => ch.posts.length, { timeout: 2_000 }).toBe(1);
    await service.decide({ id: rec.id, decision: "deny", actor: "cli:x", via: "cli", reason: "no" });
    await expect.poll(() => ch.updates, { timeout: 2_000 }).toEqual([{ id: rec.id, state: "denied", ref: { messageId: "m1" } }]);
  });

  it("never posts a fresh request for an approval decided before its job ran", async () => {
    const ch = new RecordingChannel("c");
    const rec = await store.create(newApproval());
    await store.resolve(rec.id, { state: "approved", decision: "allow-once", by: "a", via: "cli" });
    start([ch]);
    await producer.notify(rec.id, ["c"], 0, "request");
    const q = new Queue(queueName("notify", "c"), { connection: redis, prefix: bullPrefix(prefix) });
    await expect.poll(async () => (await q.getJob(jobIds.notify(rec.id, "c", 0)))?.returnvalue, { timeout: 2_000 }).toEqual({ skipped: "approved" });
    expect(ch.posts).toHaveLength(0);
    await q.close();
  });

  it("fails malformed jobs at once and keeps them for inspection", async () => {
    const ch = new RecordingChannel("c");
    start([ch]);
    const q = new Queue(queueName("notify", "c"), { connection: redis, prefix: bullPrefix(prefix) });
    await q.add("notify", { approvalId: "nope" }, { jobId: "bad-1", attempts: 5 });
    await expect.poll(async () => (await q.getJob("bad-1"))?.failedReason ?? "", { timeout: 2_000 }).toContain("malformed job");
    const job = await q.getJob("bad-1");
    expect(job?.attemptsMade).toBe(1);
    expect(await q.getFailedCount()).toBe(1);
    await q.close();
  });

  it("escalates a still-pending approval to the next tier's channels, and not a decided one", async () => {
    const ch = new RecordingChannel("c");
    const config = start([ch], { escalation: { tiers: [{ after: "1s", notify: ["c"] }] } });
    const pending = await store.create(newApproval());
    const decided = await store.create(newApproval());
    await producer.timers(pending.id, pending.createdAt, pending.deadline, config);
    await producer.timers(decided.id, decided.createdAt, decided.deadline, config);
    await store.resolve(decided.id, { state: "approved", decision: "allow-once", by: "a", via: "cli" });
    await expect.poll(() => ch.posts, { timeout: 5_000 }).toEqual([{ id: pending.id, kind: "escalated", tier: 1 }]);
  });
});
