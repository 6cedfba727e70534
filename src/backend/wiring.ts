import type { Redis } from "ioredis";
import { createRedis, waitReady } from "../redis/connection.ts";
import type { RedisReachability } from "../redis/reachability.ts";
import { ApprovalService } from "../approvals/service.ts";
import { ApprovalStore, type StoreOptions } from "../approvals/store.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { RedisUnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Signer } from "../trust/signature.ts";

/** The approval store's options, from config: the one place they are derived. */
export function storeOptions(config: ClawgateConfig): StoreOptions {
  return {
    prefix: config.redis.prefix,
    keepForMs: config.approvals.keepFor,
    retryGrantMs: config.approvals.retryGrant,
    maxParamsBytes: config.approvals.maxParamsBytes,
    eventsMaxLen: config.approvals.eventRetention,
    maxPendingPerSession: config.approvals.maxPendingPerSession,
    maxPendingPerAgent: config.approvals.maxPendingPerAgent,
  };
}

export interface Backend {
  config: ClawgateConfig;
  redis: Redis;
  store: ApprovalStore;
  service: ApprovalService;
  log: Logger;
  close(): void;
}

/**
 * Store and service over one command connection, the same for the CLI, `serve` and the
 * gate: they only write state and events; `serve` does everything else from the event stream.
 */
export function openBackend(config: ClawgateConfig, url: string, log: Logger, name: string, opts: { signer?: Signer | null; reach?: RedisReachability } = {}): Backend {
  const redis = createRedis(url, "command", { commandTimeoutMs: config.redis.commandTimeout, logger: log, name, ...(opts.reach ? { reach: opts.reach } : {}) });
  const store = new ApprovalStore(redis, storeOptions(config));
  return { config, redis, store, service: new ApprovalService(store, log, opts.signer ?? null), log, close: () => redis.disconnect() };
}

/** openBackend, then wait until Redis answers or fail with a clear RedisUnavailableError. */
export async function openBackendReady(config: ClawgateConfig, url: string, log: Logger, name: string, waitMs: number, opts: { signer?: Signer | null; reach?: RedisReachability } = {}): Promise<Backend> {
  const b = openBackend(config, url, log, name, opts);
  try {
    await waitReady(b.redis, waitMs);
  } catch (err) {
    b.close();
    throw new RedisUnavailableError(`cannot reach Redis at ${safeUrl(url)}: ${(err as Error).message}; is it running? Set REDIS_URL or redis.url`);
  }
  return b;
}

export function safeUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
