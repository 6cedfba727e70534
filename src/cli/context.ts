import { once } from "node:events";
import { userInfo } from "node:os";
import type { Redis } from "ioredis";
import type { AuditLog } from "../audit/log.ts";
import type { RuntimeRulesStore } from "../approvals/runtime-rules.ts";
import type { ApprovalService } from "../approvals/service.ts";
import type { ApprovalStore } from "../approvals/store.ts";
import { loadConfig } from "../config/load.ts";
import { describeRedisAddress, resolveRedisAddress, type RedisAddress } from "../config/redis-address.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { RedisUnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";

export interface GlobalOptions {
  config?: string;
}

export function cliConfig(opts: GlobalOptions): ClawgateConfig {
  return loadConfig({ path: opts.config, allowMissing: true }).config;
}

/** REDIS_URL / redis.url, else the embedded Redis `npm start` runs next to the config file; never a silent default. */
export function redisAddressOf(config: ClawgateConfig, configSource: string | null): RedisAddress {
  return resolveRedisAddress(config, { configSource, env: process.env, cwd: process.cwd() });
}

/** The URL alone; `configSource` null looks for the embedded Redis in the working directory. */
export function redisUrlOf(config: ClawgateConfig, configSource: string | null = null): string {
  return redisAddressOf(config, configSource).url;
}

export interface CliContext {
  config: ClawgateConfig;
  redis: Redis;
  store: ApprovalStore;
  service: ApprovalService;
  audit: AuditLog;
  rules: RuntimeRulesStore;
  log: Logger;
  actor: string;
  close(): Promise<void>;
}

export async function openContext(opts: GlobalOptions): Promise<CliContext> {
  const { config, source } = loadConfig({ path: opts.config, allowMissing: true });
  // Loaded here, not at the top: commands that never open a context (policy test --offline,
  // --help) must not pay for the Redis client and BullMQ at start.
  const [{ AuditLog }, { enabledChannels }, { createRedis, waitReady }, { JobProducer }, { keys }, { RuntimeRulesStore }, { ApprovalService }, { ApprovalStore }, { createLogger }] =
    await Promise.all([
      import("../audit/log.ts"),
      import("../../bots/registry.ts"),
      import("../../queue/connection.ts"),
      import("../../queue/producer.ts"),
      import("../approvals/keys.ts"),
      import("../approvals/runtime-rules.ts"),
      import("../approvals/service.ts"),
      import("../approvals/store.ts"),
      import("../log.ts"),
    ]);
  const log = createLogger({ name: "clawgate-cli", level: process.env.LOG_LEVEL ?? "warn" });
  const address = redisAddressOf(config, source);
  const url = address.url;
  const redis = createRedis(url, "command", { commandTimeoutMs: config.redis.commandTimeout, name: "clawgate-cli" });
  redis.on("error", () => undefined);
  try {
    // A refused connection is an answer: say so now instead of after the timeout.
    await Promise.race([waitReady(redis, Math.max(2_000, config.redis.commandTimeout)), once(redis, "error").then(([e]) => Promise.reject(e as Error))]);
  } catch {
    redis.disconnect();
    throw new RedisUnavailableError(`cannot reach Redis at ${describeRedisAddress(address)}: is it running? Set REDIS_URL or redis.url`);
  }
  const store = new ApprovalStore(redis, {
    prefix: config.redis.prefix,
    keepForMs: config.approvals.keepFor,
    retryGrantMs: config.approvals.retryGrant,
    maxParamsBytes: config.approvals.maxParamsBytes,
  });
  const audit = new AuditLog(redis, { prefix: config.redis.prefix, hmacKey: config.audit.hmacKey, logger: log });
  const producer = new JobProducer(redis, config.redis.prefix, { loadBullmq: "on-first-use" });
  const service = new ApprovalService(store, { audit, producer, channels: enabledChannels(config), log });
  return {
    config,
    redis,
    store,
    service,
    audit,
    rules: new RuntimeRulesStore(redis, keys(config.redis.prefix)),
    log,
    actor: `cli:${process.env.CLAWGATE_ACTOR ?? safeUser()}`,
    async close() {
      await producer.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/** Run `fn` with a context and always close it. */
export async function withContext<T>(opts: GlobalOptions, fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(opts);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
