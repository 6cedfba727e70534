import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRedis } from "../../src/redis/connection.ts";
import type { LifecycleEvent } from "../../src/approvals/events.ts";
import { keys } from "../../src/approvals/keys.ts";
import { EventConsumer } from "../../src/lifecycle/consumer.ts";
import { silentLog } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

/** Short enough for a quick test, long enough that a consumer cannot claim its own failure back before the test stops it. */
const CLAIM_IDLE_MS = 600;
const MAX = 3;

let redis: Redis;
let prefix: string;
const running = new Set<EventConsumer>();
const children = new Set<ChildProcess>();

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("deliveries");
});
afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
  await Promise.all([...running].map((c) => c.stop()));
  running.clear();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

const k = () => keys(prefix);
const append = async (id: string) => (await redis.xadd(k().events, "*", "type", "policy.denied", "id", id, "at", "1", "data", "{}")) as string;
/** XPENDING's extended form: [id, consumer, idle ms, times delivered] per pending entry. */
const pending = async () => (await redis.xpending(k().events, "serve", "-", "+", 100)) as Array<[string, string, number, number]>;
const dead = async () => (await redis.xrange(k().deadEvents, "-", "+")).map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh consumer (a new name in the group, as a restarted serve has). */
async function start(handle: (ev: LifecycleEvent) => Promise<void>, holds?: (err: unknown) => boolean): Promise<EventConsumer> {
  const c = new EventConsumer({
    redis,
    blocking: createRedis(REDIS_URL, "bullmq", { logger: silentLog }),
    stream: k().events,
    deadStream: k().deadEvents,
    log: silentLog,
    maxDeliveries: MAX,
    claimIdleMs: CLAIM_IDLE_MS,
    blockMs: 100,
    holdRetryMs: 100,
    handle,
    ...(holds ? { holds } : {}),
  });
  await c.start();
  running.add(c);
  return c;
}

async function stop(c: EventConsumer): Promise<void> {
  running.delete(c);
  await c.stop();
}

describe("the event consumer counts deliveries in Redis, not in memory", () => {
  it("dead-letters a poison event after N deliveries even when every delivery went to a freshly restarted consumer", { timeout: 30_000 }, async () => {
    const streamId = await append("ap_poison");
    const calls: number[] = [];
    for (let life = 0; life < MAX; life++) {
      calls.push(0);
      const c = await start(async () => {
        calls[life] = (calls[life] ?? 0) + 1;
        throw new Error("cannot handle this one");
      });
      await expect.poll(() => calls[life], { timeout: 10_000, interval: 10 }).toBe(1);
      if (life < MAX - 1) {
        // Restart before this consumer could claim its own failure back.
        await sleep(50);
        await stop(c);
        expect(await dead()).toEqual([]);
      }
    }
    await expect.poll(dead, { timeout: 5_000 }).toEqual([expect.objectContaining({ source: streamId, id: "ap_poison", why: `cannot handle this one (delivery ${MAX})` })]);
    expect(calls).toEqual([1, 1, 1]);
    expect(await pending()).toEqual([]);
    // Gone for good: nobody handles it again.
    await sleep(3 * CLAIM_IDLE_MS);
    expect(calls).toEqual([1, 1, 1]);
  });

  it("dead-letters it after N deliveries when each consumer process is killed right after its delivery", { timeout: 60_000 }, async () => {
    const streamId = await append("ap_poison");
    const script = fileURLToPath(new URL("./fixtures/poison-consumer.ts", import.meta.url));
    const run = () => {
      const child = spawn(process.execPath, ["--import", "tsx", script, prefix, String(MAX), String(CLAIM_IDLE_MS)], { env: { ...process.env, REDIS_URL }, stdio: ["ignore", "pipe", "inherit"] });
      children.add(child);
      let out = "";
      child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
      return { child, calls: () => out.split("\n").filter((l) => l === "call ap_poison").length };
    };
    for (let life = 0; life < MAX - 1; life++) {
      const p = run();
      await expect.poll(p.calls, { timeout: 20_000, interval: 20 }).toBe(1);
      p.child.kill("SIGKILL");
      await new Promise((r) => p.child.once("close", r));
      children.delete(p.child);
      expect(await dead()).toEqual([]);
    }
    const last = run();
    await expect.poll(dead, { timeout: 20_000 }).toEqual([expect.objectContaining({ source: streamId, why: `poison (delivery ${MAX})` })]);
    expect(last.calls()).toBe(1);
    expect(await pending()).toEqual([]);
  });

  it("handles a good event once after a transient failure, in the same consumer or after a restart, and dead-letters nothing", { timeout: 30_000 }, async () => {
    const done = new Map<string, number>();
    const failed = new Set<string>();
    const handle = async (ev: LifecycleEvent) => {
      if (!failed.has(ev.id)) {
        failed.add(ev.id);
        throw new Error("Slack answered 503");
      }
      done.set(ev.id, (done.get(ev.id) ?? 0) + 1);
    };
    const first = await start(handle);
    await append("ap_same");
    await expect.poll(() => done.get("ap_same"), { timeout: 10_000 }).toBe(1);
    await append("ap_moved");
    await expect.poll(() => failed.has("ap_moved"), { timeout: 5_000, interval: 10 }).toBe(true);
    await sleep(50);
    await stop(first);
    expect(done.get("ap_moved")).toBeUndefined();
    await start(handle);
    await expect.poll(() => done.get("ap_moved"), { timeout: 10_000 }).toBe(1);
    await expect.poll(pending, { timeout: 5_000 }).toEqual([]);
    await sleep(3 * CLAIM_IDLE_MS);
    expect(Object.fromEntries(done)).toEqual({ ap_same: 1, ap_moved: 1 });
    expect(await dead()).toEqual([]);
  });

  it("an event parked on purpose (audit log broken) adds no deliveries while it waits, and more restarts than N never dead-letter it", { timeout: 30_000 }, async () => {
    class Held extends Error {}
    let broken = true;
    const handled: string[] = [];
    const handle = async (ev: LifecycleEvent) => {
      if (broken) throw new Held("audit head rolled back");
      handled.push(ev.id);
    };
    const holds = (err: unknown) => err instanceof Held;
    await append("ap_held");
    let c = await start(handle, holds);
    await expect.poll(async () => (await pending()).length, { timeout: 5_000 }).toBe(1);
    // Many claim periods: it stays with its consumer, delivered once.
    await sleep(4 * CLAIM_IDLE_MS);
    expect((await pending()).map((p) => [p[1], p[3]])).toEqual([[c.consumer, 1]]);
    for (let restart = 1; restart <= MAX + 1; restart++) {
      await stop(c);
      c = await start(handle, holds);
      const me = c.consumer;
      // The new consumer claims it once (a delivery) and parks it in turn.
      await expect.poll(async () => (await pending()).map((p) => [p[1], p[3]]), { timeout: 10_000 }).toEqual([[me, 1 + restart]]);
    }
    await sleep(2 * CLAIM_IDLE_MS);
    expect((await pending())[0]?.[3]).toBe(MAX + 2);
    expect(await dead()).toEqual([]);
    broken = false;
    await expect.poll(() => handled, { timeout: 5_000 }).toEqual(["ap_held"]);
    await expect.poll(pending, { timeout: 5_000 }).toEqual([]);
    expect(await dead()).toEqual([]);
  });
});
