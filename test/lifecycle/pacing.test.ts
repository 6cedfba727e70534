import type { Redis } from "ioredis";
import { z } from "zod";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApprovalContext, ChannelAdapter, ChannelPacing, MessageRef } from "../../src/channel/adapter.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { startLifecycle, type Lifecycle } from "../../src/lifecycle/runtime.ts";
import { createMetrics, type Metrics } from "../../src/metrics/metrics.ts";
import { storeOptions } from "../../src/backend/wiring.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { newApproval, silentLog as quietLog, testConfig, testSigner } from "../helpers/fixtures.ts";
import { createLogger } from "../../src/log.ts";
const silentLog = process.env.DEBUG_PACING ? createLogger({ level: "debug", destination: 2 }) : quietLog;

/** A channel that records when it posts and edits, paced as the test says. */
class RecordingChannel implements ChannelAdapter {
  readonly refSchema = z.object({ id: z.string() });
  readonly posts = new Map<string, number>();
  readonly edits: Array<{ id: string; at: number }> = [];
  readonly pacing: ChannelPacing;
  constructor(
    readonly name: string,
    post: { intervalMs: number },
    edit: { intervalMs: number },
  ) {
    this.pacing = { buckets: { post, edit }, post: () => ({ bucket: "post", key: "c" }), edit: () => ({ bucket: "edit", key: "w" }) };
  }
  async post(ctx: ApprovalContext): Promise<MessageRef> {
    this.posts.set(ctx.record.id, Date.now());
    return { id: ctx.record.id };
  }
  async update(ctx: ApprovalContext): Promise<void> {
    this.edits.push({ id: ctx.record.id, at: Date.now() });
  }
}

let redis: Redis;
let prefix: string;
let lifecycle: Lifecycle | undefined;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("pacing");
});
afterEach(async () => {
  await lifecycle?.close();
  lifecycle = undefined;
  await deleteKeys(redis, prefix);
  await redis.quit();
});

async function start(channels: ChannelAdapter[]) {
  // The test channels stand in for the log channel and a Slack workspace (so the request goes to both).
  const config = testConfig(prefix, { slack: { botToken: "xoxb-test", signingSecret: "s".repeat(32), channel: "C0APPROVALS", approvers: { users: ["U0ALICE"] } } });
  const store = new ApprovalStore(redis, storeOptions(config));
  const service = new ApprovalService(store, silentLog, testSigner);
  const metrics = createMetrics(() => redis.zcard(store.k.pending));
  lifecycle = await startLifecycle({ config, redisUrl: REDIS_URL, service, channels, audit: new AuditLog(redis, { prefix }), log: silentLog, metrics });
  const deny = (id: string) => service.decide({ id, decision: "deny", actor: "cli:t", via: "cli", reason: "pacing test" });
  return { store, service, metrics, deny };
}

/** A metric's value for one label set, as /metrics shows it. */
async function metric(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const json = await metrics.registry.getMetricsAsJSON();
  const m = json.find((x) => x.name === name);
  const v = (m?.values ?? []).find((x) => Object.entries(labels).every(([k, val]) => (x.labels as Record<string, unknown>)[k] === val));
  return Number(v?.value ?? 0);
}

describe("edits proportional to cards", () => {
  it("an ended approval gets an edit job only in channels that have a message for it", async () => {
    const open = new RecordingChannel("log", { intervalMs: 1 }, { intervalMs: 1 });
    // One post a minute: its first card goes at once, the next waits (parked).
    const slow = new RecordingChannel("slack", { intervalMs: 60_000 }, { intervalMs: 1 });
    const { store, metrics, deny } = await start([open, slow]);
    const first = await store.create(newApproval({ sessionKey: "s1" }));
    await expect.poll(() => open.posts.has(first.id) && slow.posts.has(first.id), { timeout: 5_000 }).toBe(true);
    const rest = await Promise.all([2, 3, 4].map((n) => store.create(newApproval({ sessionKey: `s${n}` }))));
    await expect.poll(() => rest.every((r) => open.posts.has(r.id)), { timeout: 5_000 }).toBe(true);

    for (const r of [first, ...rest]) await deny(r.id);
    await expect.poll(() => open.edits.length, { timeout: 5_000 }).toBe(4);
    await expect.poll(() => metric(metrics, "clawgate_jobs_total", { queue: "update-log", outcome: "completed" }), { timeout: 5_000 }).toBe(4);
    // The slow channel showed one card: one edit job, not four.
    await expect.poll(() => metric(metrics, "clawgate_jobs_total", { queue: "update-slack", outcome: "completed" }), { timeout: 5_000 }).toBe(1);
    expect(slow.edits.map((e) => e.id)).toEqual([first.id]);
    // Its parked posts went with their approvals: nothing waits in either slow queue.
    expect(await metric(metrics, "clawgate_queue_waiting", { queue: "notify-slack" })).toBe(0);
    expect(await metric(metrics, "clawgate_queue_waiting", { queue: "update-slack" })).toBe(0);
    expect([...slow.posts.keys()]).toEqual([first.id]);
  });
});

describe("edits first, and queue lag in /metrics", () => {
  it("a channel that cannot edit as fast as it posts closes decided cards before it shows new ones", async () => {
    // Posts every 50 ms, edits only every 400 ms.
    const ch = new RecordingChannel("log", { intervalMs: 50 }, { intervalMs: 400 });
    const { store, metrics, deny } = await start([ch]);
    const early = await Promise.all([1, 2, 3, 4, 5].map((n) => store.create(newApproval({ sessionKey: `early${n}` }))));
    await expect.poll(() => early.every((r) => ch.posts.has(r.id)), { timeout: 5_000 }).toBe(true);
    for (const r of early) await deny(r.id);
    // Once the first edit went and the others wait their turn, new asks arrive.
    const edits = async () => (await metric(metrics, "clawgate_queue_waiting", { queue: "update-log" })) + (await metric(metrics, "clawgate_queue_active", { queue: "update-log" }));
    await expect.poll(async () => ch.edits.length > 0 && (await edits()) >= 2, { timeout: 5_000 }).toBe(true);
    const late = await Promise.all([1, 2, 3].map((n) => store.create(newApproval({ sessionKey: `late${n}` }))));

    // Meanwhile /metrics shows the new posts waiting (queued, or held by serve for their turn), and for how long.
    const backlog = async () => (await metric(metrics, "clawgate_queue_waiting", { queue: "notify-log" })) + (await metric(metrics, "clawgate_queue_active", { queue: "notify-log" }));
    await expect.poll(backlog, { timeout: 2_000 }).toBe(3);
    await expect.poll(() => metric(metrics, "clawgate_queue_oldest_waiting_seconds", { queue: "notify-log" }), { timeout: 2_000 }).toBeGreaterThan(0.2);

    await expect.poll(() => late.every((r) => ch.posts.has(r.id)), { timeout: 10_000 }).toBe(true);
    expect(ch.edits).toHaveLength(5);
    const lastEdit = Math.max(...ch.edits.map((e) => e.at));
    for (const r of late) expect(ch.posts.get(r.id)).toBeGreaterThanOrEqual(lastEdit);
    // Drained: nothing waits, and the lag is back to zero.
    await expect.poll(() => metric(metrics, "clawgate_queue_waiting", { queue: "notify-log" }), { timeout: 3_000 }).toBe(0);
    expect(await metric(metrics, "clawgate_queue_oldest_waiting_seconds", { queue: "notify-log" })).toBe(0);
    expect(await metric(metrics, "clawgate_queue_oldest_waiting_seconds", { queue: "update-log" })).toBe(0);
  });
});
