import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { runCliInProcess as runCli } from "../helpers/cli-inprocess.ts";
import { newApproval } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

const N = 10_000;
let redis: Redis;
let prefix: string;
let store: ApprovalStore;
const created: string[] = [];

beforeAll(async () => {
  redis = connect();
  prefix = uniquePrefix("list");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  // Distinct creation times (and so deadlines), oldest first, in concurrent batches.
  const base = Date.now();
  for (let start = 0; start < N; start += 500) {
    const batch = Array.from({ length: Math.min(500, N - start) }, (_, j) => start + j);
    const records = await Promise.all(batch.map((i) => store.create(newApproval({ params: { command: `git push origin b${i}` }, sessionKey: `s${i % 50}` }), { now: base + i })));
    created.push(...records.map((r) => r.id));
  }
}, 120_000);

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("listing with many pending", () => {
  it("list --limit returns the newest N with 10,000 pending", async () => {
    expect(await redis.zcard(`{${prefix}}:pending`)).toBe(N);
    const newest = created.slice(-20).reverse();
    expect((await store.list({ state: "pending", limit: 20 })).map((r) => r.id)).toEqual(newest);
    expect((await store.list({ state: "pending", limit: 1 })).map((r) => r.id)).toEqual([created[N - 1]]);

    const dir = mkdtempSync(join(tmpdir(), "clawgate-list-"));
    const configPath = join(dir, "clawgate.yaml");
    writeFileSync(configPath, `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }\n`);
    const res = await runCli(["list", "--limit", "20", "--json"], { REDIS_URL, CLAWGATE_CONFIG: configPath });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect((JSON.parse(res.stdout) as Array<{ id: string; state: string }>).map((r) => r.id)).toEqual(newest);
  }, 90_000);
});
