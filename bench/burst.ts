import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { keys } from "../src/approvals/keys.ts";
import { ApprovalStore } from "../src/approvals/store.ts";
import { buildConfig } from "../src/config/load.ts";
import { BENCH_KEYS } from "./fixtures.ts";
import { Gate } from "../src/gate/gate.ts";
import { createLogger } from "../src/log.ts";

export interface BurstResult {
  asks: number;
  sessions: number;
  pending: number;
  failedClosed: number;
  /** First ask to the last one pending, ms. */
  ms: number;
  /** Approval records left in Redis that are not pending (an ask that failed must leave none). */
  orphans: number;
  failReasons: Record<string, number>;
  /** Redis bytes per pending approval: its hash + its share of the pending, index and lease zsets, the counts hash and the event stream. */
  bytesPerPending: number;
  bytesBreakdown: Record<string, number>;
  listLimit20Ms: number;
}

async function deleteAll(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1000);
    if (found.length) await redis.del(...found);
    cursor = next;
  } while (cursor !== "0");
}

async function memoryUsage(redis: Redis, key: string): Promise<number> {
  return Number((await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0")) ?? 0);
}

/**
 * `asks` asks at once from `sessions` sessions through one real Gate (one Redis connection),
 * as a busy gateway sees them. Every ask must become pending; then Redis bytes per pending
 * are measured key by key (MEMORY USAGE, immune to other tenants of a shared Redis).
 */
export async function benchBurst(asks = 10_000, sessions = 100): Promise<BurstResult> {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const log = createLogger({ level: "silent" });
  const perSession = Math.ceil(asks / sessions);
  const config = buildConfig(
    {
      redis: { url, prefix },
      keys: BENCH_KEYS,
      policy: { ask: ["exec(deploy *)"] },
      approvals: { timeout: "10m", maxPendingPerSession: perSession, maxPendingPerAgent: asks },
      log: { enabled: false },
    },
    {},
  );
  const gate = new Gate(config, log);
  await gate.start();
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  const k = keys(prefix);
  const aborts: AbortController[] = [];
  let failedClosed = 0;
  const reasons = new Map<string, number>();
  try {
    const t0 = performance.now();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < asks; i++) {
      const ac = new AbortController();
      aborts.push(ac);
      const session = `s${i % sessions}`;
      calls.push(
        gate
          .beforeToolCall({ toolName: "exec", params: { command: `deploy web-${i} --region eu-west-1 --image registry.example.com/app:${i}` } }, { sessionKey: session, agentId: "bench-agent", abortSignal: ac.signal })
          .then((r) => {
            // Returning before a decision means the ask failed (closed) rather than waiting.
            if (r !== undefined && !ac.signal.aborted) {
              failedClosed++;
              reasons.set(r.blockReason ?? "", (reasons.get(r.blockReason ?? "") ?? 0) + 1);
            }
          }),
      );
    }
    let pending = 0;
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      pending = await redis.zcard(k.pending);
      if (pending + failedClosed >= asks) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = performance.now() - t0;

    const ids = await redis.zrange(k.pending, "0", "-1");
    const sample = ids.slice(0, 200);
    let hashBytes = 0;
    for (const id of sample) hashBytes += await memoryUsage(redis, k.approval(id));
    const n = Math.max(1, pending);
    const breakdown: Record<string, number> = {
      approvalHash: Math.round(hashBytes / Math.max(1, sample.length)),
      pendingZset: Math.round((await memoryUsage(redis, k.pending)) / n),
      indexZset: Math.round((await memoryUsage(redis, k.index)) / n),
      leasesZset: Math.round((await memoryUsage(redis, k.leases)) / n),
      eventsStream: Math.round((await memoryUsage(redis, k.events)) / n),
      pendingCounts: Math.round((await memoryUsage(redis, k.pendingCounts)) / n),
    };
    const encoding = String(await redis.call("OBJECT", "ENCODING", k.approval(sample[0] ?? "")));
    breakdown[`hashEncoding=${encoding}`] = 0;
    const bytesPerPending = Object.values(breakdown).reduce((a, b) => a + b, 0);

    const store = new ApprovalStore(redis, { prefix, keepForMs: 600_000, retryGrantMs: 0, maxParamsBytes: 100_000 });
    const l0 = performance.now();
    const listed = await store.list({ state: "pending", limit: 20 });
    const listLimit20Ms = performance.now() - l0;
    if (listed.length !== Math.min(20, pending)) throw new Error(`list --limit 20 returned ${listed.length}`);

    // Asks that failed cancel their record in the background: let them land, then every
    // pending record must have a live waiter (no orphan).
    await new Promise((r) => setTimeout(r, 500));
    const orphans = (await redis.zcard(k.pending)) - (asks - failedClosed);
    // End every wait.
    for (const ac of aborts) ac.abort();
    await Promise.all(calls);
    return { asks, sessions, pending, failedClosed, ms: Math.round(ms), orphans, failReasons: Object.fromEntries([...reasons].slice(0, 3)), bytesPerPending, bytesBreakdown: breakdown, listLimit20Ms: Math.round(listLimit20Ms * 100) / 100 };
  } finally {
    await gate.close();
    await deleteAll(redis, prefix);
    await redis.quit();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchBurst(Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 100)));
  process.exit(0);
}
