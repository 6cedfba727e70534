import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { keys } from "../src/approvals/keys.ts";
import { ApprovalService } from "../src/approvals/service.ts";
import { ApprovalStore } from "../src/approvals/store.ts";
import { buildConfig } from "../src/config/load.ts";
import { BENCH_KEYS, benchSigner } from "./fixtures.ts";
import { Gate } from "../src/gate/gate.ts";
import { createLogger } from "../src/log.ts";
import { summarize } from "./stats.ts";

/**
 * approve → waiting hook returns, on loopback: a Gate waits on an ask; another connection
 * decides through the ApprovalService (Lua + audit + publish); we time from the decide call
 * to the moment the hook's promise resolves.
 */
export async function benchApproval(iterations = 300): Promise<{ n: number; p50ms: number; p99ms: number; maxms: number }> {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const log = createLogger({ level: "silent" });
  const config = buildConfig(
    { redis: { url, prefix }, keys: BENCH_KEYS, policy: { ask: ["exec(deploy *)"] }, approvals: { timeout: "1m" }, log: { enabled: false } },
    {},
  );
  const gate = new Gate(config, log);
  await gate.start();
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  const store = new ApprovalStore(redis, { prefix, keepForMs: 600_000, retryGrantMs: 0, maxParamsBytes: 100_000 });
  const service = new ApprovalService(store, log, benchSigner);
  const k = keys(prefix);
  const samples: number[] = [];
  try {
    for (let i = 0; i < iterations; i++) {
      const call = gate.beforeToolCall({ toolName: "exec", params: { command: `deploy web-${i}` } }, { sessionKey: "bench" });
      let id: string | undefined;
      while (!id) {
        [id] = await redis.zrange(k.pending, 0, "0");
        if (!id) await new Promise((r) => setImmediate(r));
      }
      // Let the waiter finish subscribing, as it would have long before a human clicks.
      await new Promise((r) => setTimeout(r, 2));
      const t0 = process.hrtime.bigint();
      await service.decide({ id, decision: "allow-once", actor: "bench", via: "cli" });
      const result = await call;
      const t1 = process.hrtime.bigint();
      if (result !== undefined) throw new Error(`approved call was blocked: ${result.blockReason}`);
      samples.push(Number(t1 - t0) / 1e6);
    }
  } finally {
    await gate.close();
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1000);
      if (found.length) await redis.del(...found);
      cursor = next;
    } while (cursor !== "0");
    await redis.quit();
  }
  const s = summarize(samples);
  return { n: s.n, p50ms: s.p50, p99ms: s.p99, maxms: s.max };
}
