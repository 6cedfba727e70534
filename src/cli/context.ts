import { hostname, userInfo } from "node:os";
import type { Redis } from "ioredis";
import { AuditLog } from "../audit/log.ts";
import { enabledChannels } from "../../bots/registry.ts";
import { createRedis, waitReady } from "../../queue/connection.ts";
import { JobProducer } from "../../queue/producer.ts";
import { keys } from "../approvals/keys.ts";
import { RuntimeRulesStore } from "../approvals/runtime-rules.ts";
import { ApprovalService } from "../approvals/service.ts";
import { ApprovalStore } from "../approvals/store.ts";
import { loadConfig } from "../config/load.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { RedisUnavailableError } from "../errors.ts";
import { createLogger, type Logger } from "../log.ts";
import { readEmbeddedUrl } from "../server/embedded-redis.ts";

export interface GlobalOptions {
  config?: string;
}

export function cliConfig(opts: GlobalOptions): ClawgateConfig {
  return loadConfig({ path: opts.config, allowMissing: true }).config;
}

/** REDIS_URL / redis.url, else the embedded Redis `npm start` runs from this directory, else the default port. */
export function redisUrlOf(config: ClawgateConfig): string {
  return config.redis.url || readEmbeddedUrl() || "redis://127.0.0.1:6379";
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
  const config = cliConfig(opts);
  const log = createLogger({ name: "clawgate-cli", level: process.env.LOG_LEVEL ?? "warn" });
  const url = redisUrlOf(config);
  const redis = createRedis(url, "command", { commandTimeoutMs: config.redis.commandTimeout, name: "clawgate-cli" });
  redis.on("error", () => undefined);
  try {
    await waitReady(redis, Math.max(2_000, config.redis.commandTimeout));
  } catch {
    redis.disconnect();
    throw new RedisUnavailableError(`cannot reach Redis at ${url.replace(/\/\/[^@/]*@/, "//***@")}: is it running? Set REDIS_URL or redis.url`);
  }
  const store = new ApprovalStore(redis, {
    prefix: config.redis.prefix,
    keepForMs: config.approvals.keepFor,
    retryGrantMs: config.approvals.retryGrant,
    maxParamsBytes: config.approvals.maxParamsBytes,
  });
  const audit = new AuditLog(redis, { prefix: config.redis.prefix, hmacKey: config.audit.hmacKey, logger: log });
  const producer = new JobProducer(redis, config.redis.prefix);
  const service = new ApprovalService(store, { audit, producer, channels: enabledChannels(config), log });
  return {
    config,
    redis,
    store,
    service,
    audit,
    rules: new RuntimeRulesStore(redis, keys(config.redis.prefix)),
    log,
    actor: cliActor(),
    async close() {
      await producer.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}

/**
 * `cli:<OS user>@<host>`. The OS user comes from the process's uid, not from $USER, so a
 * shell cannot rename itself. CLAWGATE_ACTOR replaces `<user>@<host>` (tests, shared service
 * accounts); it is a label, not a proof — anyone who can run the CLI can already reach Redis.
 */
export function cliActor(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CLAWGATE_ACTOR) return `cli:${env.CLAWGATE_ACTOR}`;
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = `uid${process.getuid?.() ?? "?"}`;
  }
  return `cli:${user}@${hostname()}`;
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
