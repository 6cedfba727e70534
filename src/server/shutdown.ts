import type { Redis } from "ioredis";
import type { RedisReachability } from "../redis/reachability.ts";
import type { Logger } from "../log.ts";

/**
 * A requested stop is over within 5 s, whatever Redis is doing (the operator's bound; the CLI's
 * last-resort timer fires at 4.5 s). Nothing in flight is lost by not waiting: BullMQ jobs
 * whose worker went away are picked up again (their lock lapses), and unacknowledged events
 * are claimed by the next `serve`.
 */
const STOP_BUDGET = {
  /** A Redis that does not answer a PING this fast is treated as gone. */
  pingMs: 1_000,
  /** Running jobs and handlers get this long to finish when Redis answers. */
  drainMs: 2_500,
  /** Then everything is dropped; closing what is left gets this long. */
  abandonMs: 500,
};

/** The error message if `redis` does not answer a PING within `ms`, else null. */
export async function pingWithin(redis: Redis, ms: number): Promise<string | null> {
  if (redis.status !== "ready") return `connection ${redis.status}`;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer to PING within ${ms} ms`), ms)));
  try {
    return await Promise.race([redis.ping().then(() => null, (err: unknown) => (err as Error).message), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** True if `p` settled within `ms` (its outcome is not our concern here). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface StopSteps {
  redis: Redis;
  reach: RedisReachability;
  log: Logger;
  /** Everything, in order, waiting for work in flight. */
  drain(): Promise<void>;
  /** Drops what is left without waiting (connections already cut). */
  abandon(): Promise<void>;
}

/**
 * Stops gracefully when Redis answers, and at once when it does not: a stop that waits for an
 * unreachable Redis only waits for its own timeouts and fills the log with reconnect errors.
 * Either way the reason is logged once, and the process is quiet about Redis from then on.
 */
export async function stopWithin(s: StopSteps): Promise<"drained" | "abandoned"> {
  const unreachable = await pingWithin(s.redis, STOP_BUDGET.pingMs);
  if (unreachable === null) {
    if (await settlesWithin(s.drain(), STOP_BUDGET.drainMs)) return "drained";
    s.reach.mute();
    s.log.warn(`in-flight work did not finish within ${STOP_BUDGET.drainMs / 1000} s: not waiting for it; jobs resume on the next start`);
  } else {
    s.reach.mute();
    s.log.warn({ why: unreachable }, `Redis unreachable (${unreachable}): not waiting for in-flight work; jobs resume on the next start`);
  }
  s.reach.disconnectAll();
  await settlesWithin(s.abandon(), STOP_BUDGET.abandonMs);
  return "abandoned";
}
