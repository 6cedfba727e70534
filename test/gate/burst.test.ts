import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { Gate } from "../../src/gate/gate.ts";
import { silentLog, testConfig } from "../helpers/fixtures.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let prefix: string;
let gate: Gate | undefined;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("burst");
});

afterEach(async () => {
  await gate?.close();
  gate = undefined;
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("a burst of asks", () => {
  it("1,000 asks at once from 10 sessions all become pending, none fails closed, and none is left behind once they stop waiting", async () => {
    // The default redis.commandTimeout (1,500 ms): the shared test Redis is briefly paused by
    // other suites (CLIENT PAUSE), which a tighter timeout would rightly report as unavailable.
    const config = testConfig(prefix, { policy: { ask: ["exec(deploy *)"] }, approvals: { timeout: "5m", maxPendingPerSession: 100, maxPendingPerAgent: 1_000 } });
    const g = new Gate(config, silentLog);
    gate = g;
    await g.start();
    const aborts = Array.from({ length: 1_000 }, () => new AbortController());
    const returned: string[] = [];
    const calls = aborts.map((ac, i) =>
      g.beforeToolCall({ toolName: "exec", params: { command: `deploy web-${i}` } }, { sessionKey: `s${i % 10}`, agentId: "a1", abortSignal: ac.signal }).then((r) => {
        if (!ac.signal.aborted) returned.push(r?.blockReason ?? "allowed");
      }),
    );
    const k = keys(prefix);
    await expect.poll(async () => (await redis.zcard(k.pending)) + returned.length, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(1_000);
    // Every ask is pending with its hook still waiting: none returned early (failed closed).
    expect(returned.slice(0, 3)).toEqual([]);
    expect(await redis.zcard(k.pending)).toBe(1_000);
    const counts = await redis.hgetall(k.pendingCounts);
    for (let s = 0; s < 10; s++) expect(Number(counts[`s:s${s}`])).toBe(100);

    for (const ac of aborts) ac.abort();
    await Promise.all(calls);
    await expect.poll(() => redis.zcard(k.pending), { timeout: 30_000, interval: 50 }).toBe(0);
    const states = new Set<string>();
    for (const id of (await redis.zrange(k.index, "0", "-1")).slice(0, 200)) states.add((await redis.hget(k.approval(id), "state")) ?? "gone");
    expect([...states]).toEqual(["cancelled"]);
  }, 120_000);
});
