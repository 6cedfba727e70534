import type { Redis } from "ioredis";
import { z } from "zod";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApprovalContext, ChannelAdapter, ChannelPacing, MessageRef } from "../../bots/channel.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { Gate } from "../../src/gate/gate.ts";
import { startLifecycle, type Lifecycle } from "../../src/lifecycle/runtime.ts";
import { storeOptions } from "../../src/wiring.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";

/** A channel with Slack's pace: about one message a second. */
class PacedChannel implements ChannelAdapter {
  readonly name = "log";
  readonly pacing: ChannelPacing = { buckets: { post: { intervalMs: 1_000 } }, post: () => ({ bucket: "post", key: "c" }), edit: () => null };
  readonly refSchema = z.object({ n: z.number() });
  readonly postedAt = new Map<string, number>();
  async post(ctx: ApprovalContext): Promise<MessageRef> {
    this.postedAt.set(ctx.record.id, Date.now());
    return { n: this.postedAt.size };
  }
  async update(): Promise<void> {}
}

let redis: Redis;
let prefix: string;
let lifecycle: Lifecycle | undefined;
let gate: Gate | undefined;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("flood");
});
afterEach(async () => {
  await gate?.close();
  await lifecycle?.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("flood protection", () => {
  it("caps one session's burst of 2,000 asks, and another session's first ask is still posted within seconds", async () => {
    const config = testConfig(prefix, { policy: { ask: ["exec(deploy *)"] }, approvals: { timeout: "60s" } });
    const store = new ApprovalStore(redis, storeOptions(config));
    const service = new ApprovalService(store, silentLog, testSigner);
    const channel = new PacedChannel();
    lifecycle = await startLifecycle({ config, redisUrl: REDIS_URL, service, channels: [channel], audit: new AuditLog(redis, { prefix }), log: silentLog });
    gate = new Gate(config, silentLog, Number.POSITIVE_INFINITY, REDIS_URL);
    await gate.start();
    const g = gate;

    const burst = Array.from({ length: 2_000 }, (_, i) => g.beforeToolCall({ toolName: "exec", params: { command: `deploy svc-${i}` } }, { agentId: "a1", sessionKey: "noisy" }));
    // The excess is denied at once, saying why, while 20 (the default cap) wait.
    const capped: string[] = [];
    for (const p of burst) void p.then((r) => r?.blockReason && capped.push(r.blockReason));
    await expect.poll(() => capped.length, { timeout: 15_000 }).toBe(1_980);
    expect(capped.every((reason) => reason.includes('session "noisy" already has 20 approvals waiting'))).toBe(true);
    expect(await redis.zcard(keys(prefix).pending)).toBe(20);

    const askedAt = Date.now();
    const quiet = g.beforeToolCall({ toolName: "exec", params: { command: "deploy web" } }, { agentId: "a2", sessionKey: "quiet" });
    const quietId = await expect
      .poll(async () => (await store.list({ state: "pending", limit: 50 })).find((r) => r.sessionKey === "quiet")?.id, { timeout: 3_000 })
      .toBeTruthy()
      .then(async () => (await store.list({ state: "pending", limit: 50 })).find((r) => r.sessionKey === "quiet")?.id as string);
    await expect.poll(() => channel.postedAt.has(quietId), { timeout: 5_000 }).toBe(true);
    const quietAt = channel.postedAt.get(quietId) as number;
    expect(quietAt - askedAt).toBeLessThan(5_000);
    // It jumped the noisy session's queue: at most the post already under way (and one that
    // tied with it) went out between the quiet ask and its post, not the backlog.
    const overtaking = [...channel.postedAt.entries()].filter(([id, at]) => id !== quietId && at > askedAt && at < quietAt);
    expect(overtaking.length).toBeLessThanOrEqual(2);

    // Decide everything so no hook is left waiting; decided approvals' queued posts are dropped.
    for (const r of await store.list({ state: "pending", limit: 100 })) await service.decide({ id: r.id, decision: "deny", actor: "cli:t", via: "cli", reason: "flood test" });
    await Promise.all([...burst, quiet]);
    const postedBefore = channel.postedAt.size;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(channel.postedAt.size).toBe(postedBefore);
  });
});
