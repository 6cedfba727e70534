import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "../log.ts";
import type { RedisReachability } from "./reachability.ts";

export type ConnectionRole = "command" | "subscriber" | "bullmq";

/**
 * The one Redis connection factory. Gate-path connections ("command") fail fast: a bounded
 * reconnect and a per-command timeout, so an unreachable Redis turns into a clear
 * fail-closed block within seconds instead of a hung tool call. BullMQ connections need
 * `maxRetriesPerRequest: null` (blocking commands), per BullMQ's docs.
 */
export function createRedis(url: string, role: ConnectionRole, opts: { commandTimeoutMs?: number; name?: string; logger?: Logger; reach?: RedisReachability } = {}): Redis {
  const redis = build(url, role, opts);
  // One report per outage for the whole process (serve), rather than per connection.
  if (opts.reach) return opts.reach.watch(redis);
  // Without a listener ioredis prints every reconnect failure to the console.
  let last = "";
  redis.on("error", (err: Error) => {
    if (err.message !== last) opts.logger?.warn({ role, err: err.message }, "redis connection error");
    last = err.message;
  });
  redis.on("ready", () => {
    last = "";
  });
  return redis;
}

function build(url: string, role: ConnectionRole, opts: { commandTimeoutMs?: number; name?: string }): Redis {
  const base: RedisOptions = {
    lazyConnect: false,
    connectTimeout: 2_000,
    connectionName: opts.name ?? `clawgate-${role}`,
    // Reconnect forever, but never slower than every 2 s, so recovery after an outage is quick.
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000),
  };
  if (role === "bullmq") return new Redis(url, { ...base, maxRetriesPerRequest: null });
  if (role === "subscriber") return new Redis(url, { ...base, maxRetriesPerRequest: null });
  return new Redis(url, {
    ...base,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 1_500,
  });
}

/** Wait until the connection is ready or fail after `ms`. */
export async function waitReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not reachable within ${ms} ms`));
    }, ms);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off("ready", onReady);
    };
    redis.on("ready", onReady);
  });
}
