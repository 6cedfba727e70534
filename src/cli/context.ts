import { hostname, userInfo } from "node:os";
import type { Redis } from "ioredis";
import { AuditLog } from "../audit/log.ts";
import { RuntimeRulesStore } from "../approvals/runtime-rules.ts";
import type { ApprovalService } from "../approvals/service.ts";
import type { ApprovalStore } from "../approvals/store.ts";
import { loadConfig, type ConfigScope } from "../config/load.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { InboundDecisions } from "../inbound/decisions.ts";
import type { Identity } from "../inbound/identity.ts";
import { createLogger, type Logger } from "../log.ts";
import { readEmbeddedUrl } from "../server/embedded-redis.ts";
import { openBackendReady } from "../wiring.ts";

export interface GlobalOptions {
  config?: string;
}

/** The CLI reads only what it uses (no channel secrets needed); serve and doctor read everything. */
export function cliConfig(opts: GlobalOptions, scope: ConfigScope = "cli"): ClawgateConfig {
  return loadConfig({ path: opts.config, allowMissing: true, scope }).config;
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
  decisions: InboundDecisions;
  audit: AuditLog;
  rules: RuntimeRulesStore;
  log: Logger;
  /** The operator at this terminal: OS user and host (CLAWGATE_ACTOR overrides, for scripts and tests). */
  identity: Identity;
  actor: string;
  close(): Promise<void>;
}

export async function openContext(opts: GlobalOptions): Promise<CliContext> {
  const config = cliConfig(opts);
  const log = createLogger({ name: "clawgate-cli", level: process.env.LOG_LEVEL ?? "warn" });
  const b = await openBackendReady(config, redisUrlOf(config), log, "clawgate-cli", Math.max(2_000, config.redis.commandTimeout));
  b.redis.on("error", () => undefined);
  const decisions = new InboundDecisions(b.service, config);
  const identity: Identity = { channel: "cli", id: cliActor().slice("cli:".length) };
  return {
    config,
    redis: b.redis,
    store: b.store,
    service: b.service,
    decisions,
    audit: new AuditLog(b.redis, { prefix: config.redis.prefix, hmacKey: config.audit.hmacKey, dedupeWindowMs: config.audit.dedupeWindow, logger: log }),
    rules: new RuntimeRulesStore(b.redis, b.store.k),
    log,
    identity,
    actor: decisions.actorOf(identity),
    async close() {
      b.close();
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
