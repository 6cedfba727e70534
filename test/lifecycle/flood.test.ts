import type { Redis } from "ioredis";
import { z } from "zod";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApprovalContext, ChannelAdapter, ChannelPacing, MessageRef } from "../../src/channel/adapter.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { Gate } from "../../src/gate/gate.ts";
import { startLifecycle, type Lifecycle } from "../../src/lifecycle/runtime.ts";
import { storeOptions } from "../../src/backend/wiring.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";

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
  /** serve's lifecycle with a channel at Slack's pace, and a gateway asking. */
  async function start(over: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
    const config = testConfig(prefix, { policy: { ask: ["exec(deploy *)"] }, approvals: { timeout: "60s", ...over }, ...top });
    const store = new ApprovalStore(redis, storeOptions(config));
    const service = new ApprovalService(store, silentLog, testSigner);
    const channel = new PacedChannel();
    lifecycle = await startLifecycle({ config, redisUrl: REDIS_URL, service, channels: [channel], audit: new AuditLog(redis, { prefix }), log: silentLog });
    gate = new Gate(config, silentLog, Number.POSITIVE_INFINITY, REDIS_URL);
    await gate.start();
    return { store, service, channel, gate };
  }

  /** Asks once as (agent, session) and returns when its approval exists, with its id. */
  async function askOnce(g: Gate, store: ApprovalStore, agentId: string, sessionKey: string) {
    const askedAt = Date.now();
    const waiting = g.beforeToolCall({ toolName: "exec", params: { command: `deploy ${sessionKey}` } }, { agentId, sessionKey });
    let id = "";
    await expect
      .poll(
        async () => {
          id = (await store.list({ state: "pending", limit: 500 })).find((r) => r.sessionKey === sessionKey)?.id ?? "";
          return id;
        },
        { timeout: 3_000 },
      )
      .toBeTruthy();
    return { id, askedAt, waiting };
  }

  /** Its first card within 5 s of the ask, with at most the post under way (and one tied with it) going first. */
  async function expectPromptCard(channel: PacedChannel, q: { id: string; askedAt: number }) {
    await expect.poll(() => channel.postedAt.has(q.id), { timeout: 5_000 }).toBe(true);
    const at = channel.postedAt.get(q.id) as number;
    expect(at - q.askedAt).toBeLessThan(5_000);
    const overtaking = [...channel.postedAt.entries()].filter(([id, t]) => id !== q.id && t > q.askedAt && t < at);
    expect(overtaking.length).toBeLessThanOrEqual(2);
  }

  async function decideAll(store: ApprovalStore, service: ApprovalService, waiting: Array<Promise<unknown>>) {
    for (;;) {
      const pending = await store.list({ state: "pending", limit: 500 });
      if (!pending.length) break;
      for (const r of pending) await service.decide({ id: r.id, decision: "deny", actor: "cli:t", via: "cli", reason: "flood test" });
    }
    await Promise.all(waiting);
  }

  it("caps one session's burst of 2,000 asks, and another session's first ask is still posted within seconds", async () => {
    const { store, service, channel, gate: g } = await start();
    const burst = Array.from({ length: 2_000 }, (_, i) => g.beforeToolCall({ toolName: "exec", params: { command: `deploy svc-${i}` } }, { agentId: "a1", sessionKey: "noisy" }));
    // The excess is denied at once, saying why, while 20 (the default cap) wait.
    const capped: string[] = [];
    for (const p of burst) void p.then((r) => r?.blockReason && capped.push(r.blockReason));
    await expect.poll(() => capped.length, { timeout: 15_000 }).toBe(1_980);
    expect(capped.every((reason) => reason.includes('session "noisy" already has 20 approvals waiting'))).toBe(true);
    expect(await redis.zcard(keys(prefix).pending)).toBe(20);

    const quiet = await askOnce(g, store, "a2", "quiet");
    // It jumped the noisy session's queue: at most the post already under way (and one that
    // tied with it) went out between the quiet ask and its post, not the backlog.
    await expectPromptCard(channel, quiet);

    // Decide everything so no hook is left waiting; decided approvals' queued posts are dropped.
    await decideAll(store, service, [...burst, quiet.waiting]);
    const postedBefore = channel.postedAt.size;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(channel.postedAt.size).toBe(postedBefore);
  });

  it("one agent spreading 2,000 asks over 200 sessions does not hold back another agent's first card", async () => {
    const { store, service, channel, gate: g } = await start();
    const burst = Array.from({ length: 2_000 }, (_, i) => g.beforeToolCall({ toolName: "exec", params: { command: `deploy svc-${i}` } }, { agentId: "a1", sessionKey: `agent:a1:s${i % 200}` }));
    const capped: string[] = [];
    for (const p of burst) void p.then((r) => r?.blockReason && capped.push(r.blockReason));
    // The per-agent cap (200) holds the flood, one ask per session.
    await expect.poll(() => capped.length, { timeout: 20_000 }).toBe(1_800);
    expect(await redis.zcard(keys(prefix).pending)).toBe(200);
    // Let serve queue the flood's notifications before the other agent asks.
    await expect.poll(() => channel.postedAt.size, { timeout: 5_000 }).toBeGreaterThan(0);

    const other = await askOnce(g, store, "a2", "agent:a2:main");
    await expectPromptCard(channel, other);
    await decideAll(store, service, [...burst, other.waiting]);
  });

  it("asks made without an agent take turns as one agent: 300 of them do not hold back an agent's first card", async () => {
    const { store, service, channel, gate: g } = await start();
    // As an admin API token may ask: no agent, no session, so no flood cap counts them.
    const anonymous = await Promise.all(Array.from({ length: 300 }, (_, i) => store.create(newApproval({ agentId: "", sessionKey: "", params: { command: `deploy anon-${i}` } }))));
    await expect.poll(() => channel.postedAt.size, { timeout: 5_000 }).toBeGreaterThan(1);
    const other = await askOnce(g, store, "a2", "agent:a2:main");
    await expectPromptCard(channel, other);
    expect(anonymous.filter((r) => channel.postedAt.has(r.id)).length).toBeLessThan(10);
    await decideAll(store, service, [other.waiting]);
  });

  it("a flood's escalations, all due at once, do not hold back another agent's first card", async () => {
    const chain = [{ after: "0s", notify: ["log"] }, { after: "2s", notify: ["log"] }];
    const { store, service, channel, gate: g } = await start({}, { escalation: { chains: { default: chain } } });
    const burst = Array.from({ length: 200 }, (_, i) => g.beforeToolCall({ toolName: "exec", params: { command: `deploy svc-${i}` } }, { agentId: "a1", sessionKey: `agent:a1:s${i}` }));
    await expect.poll(() => redis.zcard(keys(prefix).pending), { timeout: 10_000 }).toBe(200);
    // Two seconds on, every flood approval escalates: 200 notes are queued at once.
    await expect.poll(async () => (await store.list({ state: "pending", limit: 1 }))[0]?.tier ?? 0, { timeout: 6_000 }).toBe(1);
    const other = await askOnce(g, store, "a2", "agent:a2:main");
    await expectPromptCard(channel, other);
    await decideAll(store, service, [...burst, other.waiting]);
  });

  it("one session's flood does not hold back a quiet session of the same agent", async () => {
    const { store, service, channel, gate: g } = await start();
    const burst = Array.from({ length: 200 }, (_, i) => g.beforeToolCall({ toolName: "exec", params: { command: `deploy svc-${i}` } }, { agentId: "a1", sessionKey: "agent:a1:noisy" }));
    await expect.poll(() => redis.zcard(keys(prefix).pending), { timeout: 10_000 }).toBe(20);
    await expect.poll(() => channel.postedAt.size, { timeout: 5_000 }).toBeGreaterThan(0);

    const quiet = await askOnce(g, store, "a1", "agent:a1:quiet");
    // The agent's sessions take turns: the quiet session's first card is the agent's next-but-one.
    await expectPromptCard(channel, quiet);
    await decideAll(store, service, [...burst, quiet.waiting]);
  });
});
