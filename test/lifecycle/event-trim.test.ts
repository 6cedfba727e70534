import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRedis } from "../../src/redis/connection.ts";
import type { LifecycleEvent } from "../../src/approvals/events.ts";
import { keys } from "../../src/approvals/keys.ts";
import { EventConsumer } from "../../src/lifecycle/consumer.ts";
import { silentLog } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

/** More than one stream node (100 entries by default): Redis trims `MINID ~` by whole nodes. */
const EVENTS = 250;

let redis: Redis;
let prefix: string;
let consumer: EventConsumer | undefined;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("trim");
});
afterEach(async () => {
  await consumer?.stop();
  consumer = undefined;
  await deleteKeys(redis, prefix);
  await redis.quit();
});

async function appendEvents(stream: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < EVENTS; i++) ids.push((await redis.xadd(stream, "*", "type", "policy.denied", "id", `ap_${i}`, "at", "1", "data", "{}")) as string);
  return ids;
}

/** A consumer whose handler fails for `failing` (it stays pending), claiming nothing back during the test. */
async function startConsumer(failing: string | null, handled: LifecycleEvent[]): Promise<EventConsumer> {
  const k = keys(prefix);
  const c = new EventConsumer({
    redis,
    blocking: createRedis(REDIS_URL, "bullmq", { logger: silentLog }),
    stream: k.events,
    deadStream: k.deadEvents,
    log: silentLog,
    claimIdleMs: 600_000,
    blockMs: 100,
    handle: async (ev) => {
      if (ev.id === failing) throw new Error("handler down");
      handled.push(ev);
    },
  });
  await c.start();
  return c;
}

describe("the event stream keeps only what some consumer group still needs", () => {
  it("drops acknowledged entries and keeps one still pending (and everything after it)", async () => {
    const k = keys(prefix);
    const handled: LifecycleEvent[] = [];
    consumer = await startConsumer("ap_180", handled);
    const ids = await appendEvents(k.events);
    await expect.poll(() => handled.length, { timeout: 5_000 }).toBe(EVENTS - 1);
    await consumer.trimAcknowledged();
    const left = await redis.xlen(k.events);
    expect(left).toBeLessThan(EVENTS);
    expect(left).toBeGreaterThanOrEqual(EVENTS - 180);
    expect(await redis.xrange(k.events, ids[180] as string, ids[180] as string)).toHaveLength(1);
    expect((await redis.xrange(k.events, "-", "+", "COUNT", 1))[0]?.[0]).not.toBe(ids[0]);
  });

  it("keeps what another consumer group has not read", async () => {
    const k = keys(prefix);
    await redis.xgroup("CREATE", k.events, "operator-export", "0", "MKSTREAM");
    const handled: LifecycleEvent[] = [];
    consumer = await startConsumer(null, handled);
    await appendEvents(k.events);
    await expect.poll(() => handled.length, { timeout: 5_000 }).toBe(EVENTS);
    await consumer.trimAcknowledged();
    expect(await redis.xlen(k.events)).toBe(EVENTS);
  });
});
