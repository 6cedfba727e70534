import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { Leader } from "../../src/redis/leader.ts";
import { silentLog } from "../helpers/fixtures.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let prefix: string;
let leaders: Leader[];

const make = (conn: Redis, ttlMs = 600) => {
  const l = new Leader(conn, { key: keys(prefix).leader("test"), ttlMs, renewMs: 100, log: silentLog });
  leaders.push(l);
  return l;
};

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(() => {
  prefix = uniquePrefix("leader");
  leaders = [];
});
afterEach(async () => {
  await Promise.all(leaders.map((l) => l.stop()));
  await deleteKeys(redis, prefix);
});

describe("Leader (run-once work across serve replicas)", () => {
  it("elects exactly one of several contenders, each on its own connection", async () => {
    const conns = [connect(), connect(), connect()];
    const ls = conns.map((c) => make(c));
    await Promise.all(ls.map((l) => l.ready()));
    expect(ls.filter((l) => l.isLeader)).toHaveLength(1);
    await Promise.all(ls.map((l) => l.stop()));
    await Promise.all(conns.map((c) => c.quit()));
  });

  it("hands over at once on stop, with a higher fencing token", async () => {
    const a = make(redis);
    await a.ready();
    const b = make(redis);
    await b.ready();
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    const first = a.fence;
    await a.stop();
    await b.ready();
    expect(b.isLeader).toBe(true);
    expect(b.fence).toBeGreaterThan(first);
  });

  it("takes over when the holder stops renewing (it died), and the old holder learns it lost", async () => {
    const a = make(redis, 300);
    await a.ready();
    // Simulate a holder that stalled: its lease lapses while it is not renewing.
    await redis.pexpire(keys(prefix).leader("test"), 1);
    await new Promise((r) => setTimeout(r, 20));
    const b = make(redis, 300);
    await b.ready();
    expect(b.isLeader).toBe(true);
    expect(await a.stillLeader()).toBe(false);
    expect(a.isLeader).toBe(false);
  });
});
