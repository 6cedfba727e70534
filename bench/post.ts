import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { z } from "zod";
import type { ApprovalContext, ChannelAdapter, MessageRef } from "../src/channel/adapter.ts";
import { AuditLog } from "../src/audit/log.ts";
import { ApprovalService } from "../src/approvals/service.ts";
import { buildConfig } from "../src/config/load.ts";
import { BENCH_KEYS, benchSigner } from "./fixtures.ts";
import { Gate } from "../src/gate/gate.ts";
import { startLifecycle } from "../src/lifecycle/runtime.ts";
import { createLogger } from "../src/log.ts";
import { openBackend } from "../src/backend/wiring.ts";
import { summarize } from "./stats.ts";

/** A channel whose post() only records when it was called. */
class TimingChannel implements ChannelAdapter {
  readonly name = "log";
  readonly refSchema = z.object({ n: z.number() });
  readonly seen = new Map<string, bigint>();
  onPost: ((id: string) => void) | null = null;
  async post(ctx: ApprovalContext): Promise<MessageRef> {
    this.seen.set(ctx.record.id, process.hrtime.bigint());
    this.onPost?.(ctx.record.id);
    return { n: this.seen.size };
  }
  async update(): Promise<void> {}
}

/** What a key under the prefix is, for the steady-state breakdown: record, refs, events, audit, bullEvents:<queue>, … */
function keyGroup(prefix: string, key: string): string {
  const rest = key.slice(`{${prefix}}:`.length);
  const bull = /^q:([^:]+):(.*)$/.exec(rest);
  if (bull) {
    const [, queue = "", tail = ""] = bull;
    if (tail === "events") return `bullEvents:${queue}`;
    if (/^[^:]+$/.test(tail) && tail.includes(".")) return "bullJobs";
    return "bullOther";
  }
  if (/^approval:[^:]+$/.test(rest)) return "record";
  const sub = /^approval:[^:]+:(.+)$/.exec(rest);
  if (sub) return sub[1] ?? "approvalOther";
  return rest;
}

async function prefixBytes(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const groups = new Map<string, number>();
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1000);
    for (const key of found) {
      const bytes = Number((await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0")) ?? 0);
      const g = keyGroup(prefix, key);
      groups.set(g, (groups.get(g) ?? 0) + bytes);
    }
    cursor = next;
  } while (cursor !== "0");
  return groups;
}

/**
 * Ask → channel post(): from the gate's before_tool_call to the moment `serve`'s notify worker
 * calls the channel, through the event stream, the consumer group, the handler and BullMQ.
 */
/** The server's INFO memory used_memory (every client's, on a shared Redis: run on a quiet one). */
async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? Number.NaN);
}

export async function benchAskToPost(
  iterations = 200,
  pending = 500,
): Promise<{ n: number; p50ms: number; p99ms: number; maxms: number; steadyBytesPerPending: number; steadyUsedMemoryPerPending: number; steadyBreakdown: Record<string, number> }> {
  let steadyBytesPerPending = Number.NaN;
  let steadyUsedMemoryPerPending = Number.NaN;
  const steadyBreakdown: Record<string, number> = {};
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const log = createLogger({ level: "silent" });
  const config = buildConfig(
    { redis: { url, prefix }, keys: BENCH_KEYS, policy: { ask: ["exec(deploy *)"] }, approvals: { timeout: "1m", maxPendingPerSession: 0, maxPendingPerAgent: 0 } },
    {},
  );
  const backend = openBackend(config, url, log, "bench-serve");
  const channel = new TimingChannel();
  const lifecycle = await startLifecycle({ config, redisUrl: url, service: backend.service, channels: [channel], audit: new AuditLog(backend.redis, { prefix }), log });
  const gate = new Gate(config, log);
  await gate.start();
  const service = new ApprovalService(backend.store, log, benchSigner);
  const samples: number[] = [];
  try {
    for (let i = 0; i < iterations; i++) {
      const posted = new Promise<string>((resolve) => (channel.onPost = resolve));
      const t0 = process.hrtime.bigint();
      const call = gate.beforeToolCall({ toolName: "exec", params: { command: `deploy web-${i}` } }, { sessionKey: `bench-${i}` });
      const id = await posted;
      samples.push(Number((channel.seen.get(id) as bigint) - t0) / 1e6);
      await service.decide({ id, decision: "allow-once", actor: "bench", via: "cli" });
      await call;
    }
    // Steady state: `pending` asks left waiting after serve has posted each one (notify jobs
    // done, refs saved, events consumed); every key under the prefix counts, BullMQ's included.
    // Serve trims handled events from the stream once a second: measure after a trim, each time.
    await new Promise((r) => setTimeout(r, 1_500));
    const before = await prefixBytes(backend.redis, prefix);
    const usedBefore = await usedMemory(backend.redis);
    const waits: Promise<unknown>[] = [];
    const aborts: AbortController[] = [];
    for (let i = 0; i < pending; i++) {
      const ac = new AbortController();
      aborts.push(ac);
      waits.push(gate.beforeToolCall({ toolName: "exec", params: { command: `deploy web-${i} --region eu-west-1 --image registry.example.com/app:${i}` } }, { sessionKey: `steady-${i % 50}`, agentId: "bench", abortSignal: ac.signal }));
    }
    const until = Date.now() + 60_000;
    while (channel.seen.size < iterations + pending && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 1_500));
    const after = await prefixBytes(backend.redis, prefix);
    // What MEMORY USAGE of keys never shows (subscriptions, client buffers): the server's own count.
    steadyUsedMemoryPerPending = Math.round(((await usedMemory(backend.redis)) - usedBefore) / pending);
    let total = 0;
    for (const g of new Set([...before.keys(), ...after.keys()])) {
      const delta = (after.get(g) ?? 0) - (before.get(g) ?? 0);
      total += delta;
      if (Math.round(delta / pending) !== 0) steadyBreakdown[g] = Math.round(delta / pending);
    }
    steadyBytesPerPending = Math.round(total / pending);
    for (const ac of aborts) ac.abort();
    await Promise.all(waits);
  } finally {
    await gate.close();
    await lifecycle.close();
    const redis = new Redis(url);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
    await redis.quit();
    backend.close();
  }
  const s = summarize(samples);
  return { n: samples.length, p50ms: s.p50, p99ms: s.p99, maxms: s.max, steadyBytesPerPending, steadyUsedMemoryPerPending, steadyBreakdown };
}
