import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { DecisionWaiter } from "../../src/approvals/waiter.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { newApproval } from "../helpers/fixtures.ts";

let redis: Redis;
let sub: Redis;
let prefix: string;
let store: ApprovalStore;
let waiter: DecisionWaiter;

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(() => {
  prefix = uniquePrefix("wait");
  sub = connect();
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  waiter = new DecisionWaiter(sub, store);
});
afterEach(async () => {
  await sub.quit();
  await deleteKeys(redis, prefix);
});

describe("DecisionWaiter", () => {
  it("returns the decision published by another connection", async () => {
    const rec = await store.create(newApproval());
    const other = new ApprovalStore(connect(), { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
    const waiting = waiter.wait(rec.id, rec.deadline);
    await new Promise((r) => setTimeout(r, 50));
    await other.resolve(rec.id, { state: "denied", decision: "deny", by: "cli:bob", via: "cli", reason: "change freeze" });
    await expect(waiting).resolves.toMatchObject({ kind: "decided", resolution: { state: "denied", decidedBy: "cli:bob", reason: "change freeze" } });
    await other.redis.quit();
  });

  it("does not miss a decision made before it started waiting", async () => {
    const rec = await store.create(newApproval());
    await store.resolve(rec.id, { state: "approved", decision: "allow-once", by: "a", via: "cli" });
    await expect(waiter.wait(rec.id, rec.deadline)).resolves.toMatchObject({ kind: "decided", resolution: { state: "approved" } });
  });

  it("catches decisions racing the subscription (subscribe, then read)", async () => {
    for (let i = 0; i < 20; i++) {
      const rec = await store.create(newApproval());
      const [result] = await Promise.all([waiter.wait(rec.id, Date.now() + 5_000), store.resolve(rec.id, { state: "approved", decision: "allow-once", by: "a", via: "cli" })]);
      expect(result.kind).toBe("decided");
    }
    expect(waiter.size).toBe(0);
  });

  it("times out at the deadline and unsubscribes", async () => {
    const rec = await store.create(newApproval());
    const started = Date.now();
    await expect(waiter.wait(rec.id, started + 300)).resolves.toEqual({ kind: "timeout" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(waiter.size).toBe(0);
  });

  it("stops when the abort signal fires", async () => {
    const rec = await store.create(newApproval());
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(waiter.wait(rec.id, rec.deadline, ac.signal)).resolves.toEqual({ kind: "aborted" });
  });

  it("serves many waiters on one approval and on many approvals at once", async () => {
    const recs = await Promise.all(Array.from({ length: 30 }, () => store.create(newApproval())));
    const waits = recs.flatMap((r) => [waiter.wait(r.id, r.deadline), waiter.wait(r.id, r.deadline)]);
    await Promise.all(recs.map((r, i) => store.resolve(r.id, i % 2 ? { state: "approved", decision: "allow-once", by: "a", via: "cli" } : { state: "denied", decision: "deny", by: "a", via: "cli", reason: "no" })));
    const results = await Promise.all(waits);
    results.forEach((r, i) => expect(r).toMatchObject({ kind: "decided", resolution: { id: recs[Math.floor(i / 2)]?.id } }));
    expect(waiter.size).toBe(0);
  });

  it("re-reads after the subscriber reconnects, so a decision published while it was away is not lost", async () => {
    const rec = await store.create(newApproval());
    const waiting = waiter.wait(rec.id, rec.deadline);
    await new Promise((r) => setTimeout(r, 50));
    const subId = await sub.client("ID");
    expect(await redis.client("KILL", "ID", String(subId))).toBe(1);
    // Published while the subscriber is disconnected: nobody receives this message.
    await store.resolve(rec.id, { state: "approved", decision: "allow-once", by: "cli:carol", via: "cli" });
    await expect(waiting).resolves.toMatchObject({ kind: "decided", resolution: { decidedBy: "cli:carol" } });
  });
});
