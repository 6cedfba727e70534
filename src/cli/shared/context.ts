import { once } from "node:events";
import { hostname, userInfo } from "node:os";
import type { Redis } from "ioredis";
import type { AuditLog } from "../../audit/log.ts";
import type { RuntimeRulesStore } from "../../approvals/runtime-rules.ts";
import type { ApprovalService } from "../../approvals/service.ts";
import type { ApprovalStore } from "../../approvals/store.ts";
import { loadConfig } from "../../config/load.ts";
import { describeRedisAddress, resolveRedisAddress, type RedisAddress } from "../../config/redis-address.ts";
import type { ClawgateConfig } from "../../config/schema.ts";
import { RedisUnavailableError } from "../../errors.ts";
import type { Identity } from "../../inbound/identity.ts";
import type { Logger } from "../../log.ts";

export interface GlobalOptions {
  config?: string;
  /** A person/admin token for the commands that act through serve (else CLAWGATE_TOKEN, `clawgate login`, npm start's local token). */
  token?: string;
}

/** REDIS_URL / redis.url, else the embedded Redis `npm start` runs next to the config file; never a silent default. */
function redisAddressOf(config: ClawgateConfig, configSource: string | null): RedisAddress {
  return resolveRedisAddress(config, { configSource, env: process.env, cwd: process.cwd() });
}

/** The URL alone; `configSource` null looks for the embedded Redis in the working directory. */
export function redisUrlOf(config: ClawgateConfig, configSource: string | null = null): string {
  return redisAddressOf(config, configSource).url;
}

export interface CliContext {
  config: ClawgateConfig;
  /** The config file read, if any (where the embedded Redis's address file is looked for). */
  source: string | null;
  redis: Redis;
  store: ApprovalStore;
  service: ApprovalService;
  audit: AuditLog;
  rules: RuntimeRulesStore;
  log: Logger;
  /** The operator at this terminal: OS user and host (who `clawgate request` asks as; it decides nothing). */
  identity: Identity;
  actor: string;
  close(): Promise<void>;
}

export async function openContext(opts: GlobalOptions): Promise<CliContext> {
  const { config, source } = loadConfig({ path: opts.config, allowMissing: true, scope: "cli" });
  // Loaded here, not at the top: commands that never open a context (policy test --offline,
  // --help) must not pay for the Redis client at start.
  const [{ AuditLog }, { waitReady }, { RuntimeRulesStore }, { createLogger }, { openBackend }] = await Promise.all([
    import("../../audit/log.ts"),
    import("../../redis/connection.ts"),
    import("../../approvals/runtime-rules.ts"),
    import("../../log.ts"),
    import("../../backend/wiring.ts"),
  ]);
  const log = createLogger({ name: "clawgate-cli", level: process.env.LOG_LEVEL ?? "warn" });
  const address = redisAddressOf(config, source);
  const b = openBackend(config, address.url, log, "clawgate-cli");
  b.redis.on("error", () => undefined);
  try {
    // A refused connection is an answer: say so now instead of after the timeout.
    await Promise.race([waitReady(b.redis, Math.max(2_000, config.redis.commandTimeout)), once(b.redis, "error").then(([e]) => Promise.reject(e as Error))]);
  } catch {
    b.close();
    throw new RedisUnavailableError(`cannot reach Redis at ${describeRedisAddress(address)}: is it running? Set REDIS_URL or redis.url`);
  }
  const identity: Identity = { channel: "cli", id: cliActor().slice("cli:".length) };
  return {
    config,
    source,
    redis: b.redis,
    store: b.store,
    service: b.service,
    audit: new AuditLog(b.redis, { prefix: config.redis.prefix, hmacKey: config.audit.hmacKey, dedupeWindowMs: config.audit.dedupeWindow, logger: log }),
    rules: new RuntimeRulesStore(b.redis, b.store.k, config.redis.prefix),
    log,
    identity,
    actor: `cli:${identity.id}`,
    async close() {
      b.close();
    },
  };
}

/**
 * `cli:<OS user>@<host>`: who is at this terminal, for what the CLI records about itself (the
 * requester of `clawgate request`, on-call overrides). The OS user comes from the process's uid,
 * not from $USER. It proves nothing, so it never decides: deciding goes through serve as a token's person.
 */
function cliActor(): string {
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
