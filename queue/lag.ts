import type { Redis } from "ioredis";
import { loadLuaScript, type LuaScript } from "../src/lua/script.ts";
import { bullPrefix } from "./names.ts";

/** One queue's backlog, as /metrics shows it. */
export interface QueueLag {
  queue: string;
  /** Jobs not started yet (for channel queues also those parked for a rate limit or backing off). */
  waiting: number;
  /** Jobs a worker holds: running, or waiting in serve for their provider's turn. */
  active: number;
  delayed: number;
  /** Age of the oldest unfinished job (waiting or active), ms; 0 when there is none. */
  oldestMs: number;
}

/** Jobs of each set read for the oldest: bounds the script's work on a very long backlog. */
const SCAN_CAP = 10_000;

const bound = new WeakMap<Redis, LuaScript>();

/**
 * Measures queues of `clawgate serve` (measureQueue-4.lua, read-only). `delayedIsLag`: a delayed
 * job of a channel queue is a post or edit waiting its turn; one of the escalate queue is a timer.
 */
export async function measureQueues(redis: Redis, redisPrefix: string, queues: ReadonlyArray<{ name: string; delayedIsLag: boolean }>, now = Date.now()): Promise<QueueLag[]> {
  let script = bound.get(redis);
  if (!script) {
    script = loadLuaScript(redis, "server/measureQueue-4");
    bound.set(redis, script);
  }
  const base = bullPrefix(redisPrefix);
  const run = script;
  return Promise.all(
    queues.map(async ({ name, delayedIsLag }) => {
      const k = (type: string) => `${base}:${name}:${type}`;
      const [waiting, active, delayed, oldest] = (await run.run([k("wait"), k("prioritized"), k("active"), k("delayed")], [`${base}:${name}:`, delayedIsLag ? "1" : "0", SCAN_CAP])) as number[];
      const ts = Number(oldest) || 0;
      return { queue: name, waiting: Number(waiting), active: Number(active), delayed: Number(delayed), oldestMs: ts > 0 ? Math.max(0, now - ts) : 0 };
    }),
  );
}
