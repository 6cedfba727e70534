import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { RedisNotConfiguredError } from "../errors.ts";
import { embeddedDataDir } from "../redis/data-dir.ts";
import type { ClawgateConfig } from "./schema.ts";

/**
 * Where a process's Redis address came from. The plugin, the CLI and `serve` all resolve it
 * here, so a gateway configured like the quick start and the CLI in another terminal end
 * up on the same Redis — and nothing silently falls back to 127.0.0.1:6379.
 */
export type RedisAddressSource = "config" | "REDIS_URL" | `embedded:${string}`;

export interface RedisAddress {
  url: string;
  source: RedisAddressSource;
}

export interface RedisAddressContext {
  /** The config file the config was loaded from (loadConfig's `source`), or null when there was none. */
  configSource: string | null;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** The file holding the running embedded Redis's URL (one line). */
export function embeddedAddressFile(dataDir: string): string {
  return join(dataDir, "redis.url");
}

/** The URL of a running embedded Redis whose data lives in `dataDir`, if its address file exists. */
function readEmbeddedAddress(dataDir: string): string | null {
  let text: string;
  try {
    text = readFileSync(embeddedAddressFile(dataDir), "utf8");
  } catch {
    return null;
  }
  const url = text.split(/\r?\n/, 1)[0]?.trim() ?? "";
  return /^rediss?:\/\//.test(url) ? url : null;
}

/**
 * An explicitly configured address: `REDIS_URL` (which overrides `redis.url`, as the config
 * loader already applied) or `redis.url`. Null when neither is set.
 */
export function configuredRedisAddress(config: ClawgateConfig, env: Record<string, string | undefined> = process.env): RedisAddress | null {
  const fromEnv = env.REDIS_URL?.trim();
  const fromConfig = config.redis.url.trim();
  if (fromConfig) return { url: fromConfig, source: fromEnv && fromEnv === fromConfig ? "REDIS_URL" : "config" };
  if (fromEnv) return { url: fromEnv, source: "REDIS_URL" };
  return null;
}

/**
 * config (`redis.url`, overridden by `REDIS_URL`) → `REDIS_URL` → the embedded Redis's address
 * file next to the config file (or in cwd without one). Throws RedisNotConfiguredError,
 * saying how to set it, when none of them gives an address.
 */
export function resolveRedisAddress(config: ClawgateConfig, ctx: RedisAddressContext): RedisAddress {
  const env = ctx.env ?? process.env;
  const configured = configuredRedisAddress(config, env);
  if (configured) return configured;
  const dataDir = embeddedDataDir(ctx);
  const embedded = readEmbeddedAddress(dataDir);
  if (embedded) return { url: embedded, source: `embedded:${embeddedAddressFile(dataDir)}` };
  const where = ctx.configSource ? `redis.url is empty in ${ctx.configSource}` : "there is no config file";
  throw new RedisNotConfiguredError(
    `no Redis address: REDIS_URL is unset, ${where}, and no embedded Redis is running for it (${embeddedAddressFile(dataDir)} does not exist). ` +
      `Set REDIS_URL=redis://HOST:6379 or redis.url, or run \`npm start\` (clawgate serve --embedded-redis-if-unset) ${ctx.configSource ? `with this config` : `in ${ctx.cwd ?? process.cwd()}`}`,
  );
}

/** The URL with any password masked, for logs and messages. */
export function maskRedisUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

/** "redis://127.0.0.1:6379 (from REDIS_URL)" */
export function describeRedisAddress(address: RedisAddress): string {
  return `${maskRedisUrl(address.url)} (from ${address.source})`;
}
