import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { ApprovalService } from "../src/approvals/service.ts";
import { ApprovalStore } from "../src/approvals/store.ts";
import { createLogger } from "../src/log.ts";
import { benchSigner, newApprovalForBench } from "./fixtures.ts";
import { summarize } from "./stats.ts";

/**
 * The baseline for approve → resume: a waiter that polls the record every 500 ms, as
 * poll-based approval tools do. Decisions land at a random moment of the poll cycle.
 */
export async function benchPoller(iterations = 16, intervalMs = 500): Promise<{ n: number; p50ms: number; p99ms: number }> {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  const store = new ApprovalStore(redis, { prefix, keepForMs: 600_000, retryGrantMs: 0, maxParamsBytes: 100_000 });
  const service = new ApprovalService(store, createLogger({ level: "silent" }), benchSigner);
  const samples: number[] = [];
  try {
    for (let i = 0; i < iterations; i++) {
      const rec = await store.create(newApprovalForBench(i));
      let decidedAt = 0n;
      const seen = new Promise<bigint>((resolve) => {
        const timer = setInterval(() => {
          void store.get(rec.id).then((r) => {
            if (r && r.state !== "pending") {
              clearInterval(timer);
              resolve(process.hrtime.bigint());
            }
          });
        }, intervalMs);
      });
      await new Promise((r) => setTimeout(r, Math.random() * intervalMs));
      decidedAt = process.hrtime.bigint();
      await service.decide({ id: rec.id, decision: "allow-once", actor: "bench", via: "cli" });
      samples.push(Number((await seen) - decidedAt) / 1e6);
    }
  } finally {
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1000);
      if (found.length) await redis.del(...found);
      cursor = next;
    } while (cursor !== "0");
    await redis.quit();
  }
  const s = summarize(samples);
  return { n: s.n, p50ms: s.p50, p99ms: s.p99 };
}
