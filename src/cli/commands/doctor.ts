import { once } from "node:events";
import { unreachableTargets } from "../../lifecycle/recipients.ts";
import type { Command } from "commander";
import { Queue } from "bullmq";
import { createRedis, waitReady } from "../../redis/connection.ts";
import { bullPrefix, queueName } from "../../../queue/names.ts";
import { channelBlock, channelSpecs, enabledChannels } from "../../../bots/specs.ts";
import { loadConfig } from "../../config/load.ts";
import type { ClawgateConfig } from "../../config/schema.ts";
import { describeRedisAddress, resolveRedisAddress, type RedisAddress } from "../../config/redis-address.ts";
import { ClawgateError } from "../../errors.ts";
import type { GlobalOptions } from "../shared/context.ts";
import type { Check } from "../doctor/check.ts";
import { checkKeys, checkOpenClawExec, checkRedisAuth, type IsolationOptions } from "../doctor/isolation.ts";

async function checkRedis(config: ClawgateConfig, configSource: string | null): Promise<Check[]> {
  let address: RedisAddress;
  try {
    address = resolveRedisAddress(config, { configSource, env: process.env, cwd: process.cwd() });
  } catch (err) {
    return [{ name: "redis", status: "fail", detail: (err as Error).message, fix: "set REDIS_URL or redis.url, or start `npm start` (embedded Redis)" }];
  }
  const url = address.url;
  const redis = createRedis(url, "command", { commandTimeoutMs: 2_000, name: "clawgate-doctor" });
  redis.on("error", () => undefined);
  const checks: Check[] = [];
  try {
    await Promise.race([waitReady(redis, 3_000), once(redis, "error").then(([e]) => Promise.reject(e as Error))]);
    const info = await redis.info("server");
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
    checks.push({ name: "redis", status: "ok", detail: `${describeRedisAddress(address)}: reachable, version ${version}` });
    const [, aof] = (await redis.config("GET", "appendonly")) as [string, string];
    const [, save] = (await redis.config("GET", "save")) as [string, string];
    if (aof !== "yes" && !save) {
      checks.push({ name: "redis persistence", status: "warn", detail: "appendonly is off and no RDB snapshots: pending approvals are lost if Redis restarts", fix: "run Redis with --appendonly yes (docker-compose.yml does)" });
    } else checks.push({ name: "redis persistence", status: "ok", detail: aof === "yes" ? "appendonly yes" : `RDB save "${save}"` });
    for (const name of [...enabledChannels(config).flatMap((c) => [queueName("notify", c), queueName("update", c)]), queueName("escalate")]) {
      // Read-only: without skipMetasUpdate the Queue would reset serve's queue settings (event stream length).
      const q = new Queue(name, { connection: redis, prefix: bullPrefix(config.redis.prefix), skipMetasUpdate: true });
      const counts = await q.getJobCounts("failed", "waiting", "delayed");
      if ((counts.failed ?? 0) > 0) checks.push({ name: `queue ${name}`, status: "warn", detail: `${counts.failed} failed job(s) kept for inspection`, fix: "inspect them; a channel may be misconfigured" });
      await q.close();
    }
  } catch (err) {
    checks.push({ name: "redis", status: "fail", detail: `${describeRedisAddress(address)}: ${(err as Error).message}`, fix: address.source.startsWith("embedded:") ? `the embedded Redis is not running: start \`npm start\` again (or delete the stale ${address.source.slice(9)})` : "start Redis or set REDIS_URL / redis.url" });
  } finally {
    redis.disconnect();
  }
  return checks;
}

export async function runDoctor(globals: GlobalOptions, isolation: IsolationOptions = {}): Promise<Check[]> {
  let config: ClawgateConfig;
  let source: string | null;
  try {
    ({ config, source } = loadConfig({ path: globals.config, allowMissing: true }));
  } catch (err) {
    return [{ name: "config", status: "fail", detail: (err as Error).message, fix: "fix the keys named above" }];
  }
  const checks: Check[] = [{ name: "config", status: "ok", detail: source ? `valid: ${source}` : "no config file; using defaults (create clawgate.yaml)" }];
  checks.push(...(await checkRedis(config, source)));
  checks.push(...checkKeys(config, { configSource: source }, isolation));
  const redisUrl = (() => {
    try {
      return resolveRedisAddress(config, { configSource: source, env: process.env, cwd: process.cwd() }).url;
    } catch {
      return null;
    }
  })();
  if (redisUrl && checks.some((c) => c.name === "redis" && c.status === "ok")) checks.push(await checkRedisAuth(redisUrl));
  const exec = checkOpenClawExec(isolation);
  if (exec) checks.push(exec);
  // Each configured channel's own probes (bots/<name>/doctor.ts, loaded only when configured).
  for (const spec of channelSpecs()) {
    const block = channelBlock(config, spec);
    if (block !== undefined && spec.doctor && enabledChannels(config).includes(spec.name)) checks.push(...(await spec.doctor(block)));
  }
  for (const u of unreachableTargets(config)) {
    checks.push({ name: `escalation target ${u.target}`, status: "warn", detail: `${u.where}: ${u.why}`, fix: "configure that channel, or remove the target" });
  }
  return checks;
}

export function registerDoctorCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command("doctor")
    .description("validate config, probe Redis and each configured channel (Slack, Discord, SMTP/IMAP, …), and check isolation: keys, Redis auth, where OpenClaw runs the agent's commands")
    .option("--gateway", "the config is a gateway's: it must hold no decision key")
    .option("--openclaw-config <file>", "OpenClaw's config to check (default: $OPENCLAW_CONFIG_PATH, else ~/.openclaw/openclaw.json)")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean; gateway?: boolean; openclawConfig?: string }) => {
      const checks = await runDoctor(globals(), { gateway: o.gateway === true, openclawConfig: o.openclawConfig });
      if (o.json) process.stdout.write(`${JSON.stringify(checks)}\n`);
      else
        for (const c of checks) process.stdout.write(`${c.status === "ok" ? "✔" : c.status === "warn" ? "!" : "✘"} ${c.name}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ""}\n`);
      if (checks.some((c) => c.status === "fail")) throw new ClawgateError("config_invalid", `${checks.filter((c) => c.status === "fail").length} check(s) failed`);
    });
}
