import { createServer } from "node:net";
import { join } from "node:path";
import { serveRulesMemoryFile } from "../../approvals/rules-memory.ts";
import { keysDir } from "../../trust/keyring.ts";
import type { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { embeddedDataDir } from "../../redis/data-dir.ts";
import { configuredRedisAddress, maskRedisUrl, resolveRedisAddress, type RedisAddress } from "../../config/redis-address.ts";
import { BadRequestError, ClawgateError, PortInUseError } from "../../errors.ts";
import { createLogger, routeConsoleToLogger } from "../../log.ts";
import type { EmbeddedRedis } from "../../server/embedded-redis.ts";
import type { RunningService } from "../../server/serve.ts";
import type { GlobalOptions } from "../shared/context.ts";
import { Lifecycle } from "../shared/lifecycle.ts";

interface ServeFlags {
  port?: string;
  host?: string;
  embeddedRedisIfUnset?: boolean;
}

/** Fail before connecting anything when the HTTP port is taken, naming the option that fixes it. */
async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? new PortInUseError(host, port) : err));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

async function run(globals: GlobalOptions, o: ServeFlags): Promise<void> {
  const overrides: Record<string, unknown> = {};
  if (o.port !== undefined) {
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new BadRequestError(`--port must be an integer from 0 to 65535, got "${o.port}"`);
    overrides.server = { port };
  }
  if (o.host) overrides.server = { ...(overrides.server as object), host: o.host };
  const { config, source } = loadConfig({ path: globals.config, allowMissing: true, overrides });
  const log = createLogger({ name: "clawgate" });
  const restoreConsole = routeConsoleToLogger(log);
  const life = new Lifecycle(log);
  let embedded: EmbeddedRedis | null = null;
  let service: RunningService | null = null;
  try {
    const ctx = { configSource: source, env: process.env, cwd: process.cwd() };
    const portFree = () => checkPortFree(config.server.host, config.server.port);
    let address: RedisAddress;
    if (o.embeddedRedisIfUnset && !configuredRedisAddress(config, process.env)) {
      const { startEmbeddedRedis } = await import("../../server/embedded-redis.ts");
      embedded = await startEmbeddedRedis({ dataDir: embeddedDataDir(ctx), preflight: portFree });
      const e = embedded;
      life.atExit(() => e.stopSync());
      address = { url: e.url, source: `embedded:${e.addressFile}` };
    } else {
      await portFree();
      address = resolveRedisAddress(config, ctx);
    }

    // The first line says which Redis and why: the one fact that explains "my approvals went nowhere".
    log.info(
      { redis: maskRedisUrl(address.url), redisFrom: address.source, ...(embedded ? { redisPid: embedded.pid, data: embedded.dataDir } : {}), config: source ?? "(none: defaults)" },
      `clawgate serve starting: Redis ${maskRedisUrl(address.url)} from ${address.source}${embedded ? " (embedded redis-server; set REDIS_URL to use your own)" : ""}`,
    );
    if (embedded?.recovered) {
      log.warn(
        { previousPid: embedded.recovered.pid, orphanedRedisPid: embedded.recovered.redisPid },
        "the previous clawgate serve for this data directory did not shut down cleanly; stopped the redis-server it left behind (append-only data kept)",
      );
    }
    if (!life.isStopping) {
      const { serve } = await import("../../server/serve.ts");
      // npm start: the CLI on this host gets an admin token without an extra step (data/admin.token, 0600).
      const localAdminTokenFile = o.embeddedRedisIfUnset ? join(embeddedDataDir(ctx), "admin.token") : undefined;
      // Beside the keys: a folder only serve's user writes.
      const rulesMemoryFile = serveRulesMemoryFile(keysDir(config, { configSource: source }), config.redis.prefix);
      service = await serve({ config, redisUrl: address.url, log, rulesMemoryFile, ...(localAdminTokenFile ? { localAdminTokenFile } : {}) }).catch((err: unknown) => {
        throw (err as NodeJS.ErrnoException).code === "EADDRINUSE" ? new PortInUseError(config.server.host, config.server.port) : err;
      });
      embedded?.announce(service.url);
      process.stdout.write(`clawgate serve listening on ${service.url}\n`);
    }
    const reason = await life.stopped;
    await service?.close();
    await embedded?.stop();
    if (reason.error) throw new ClawgateError("internal", `crashed: ${reason.error instanceof Error ? reason.error.message : String(reason.error)}`);
  } catch (err) {
    await service?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw err;
  } finally {
    life.dispose();
    restoreConsole();
  }
}

export function registerServeCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command("serve")
    .description("run the HTTP server, all queue workers and the configured channels")
    .option("--port <port>", "HTTP port (overrides server.port; 0 = any free port)")
    .option("--host <host>", "bind address (overrides server.host; 0.0.0.0 in a container)")
    .option("--embedded-redis-if-unset", "start a local redis-server (data in data/ next to the config file) when no Redis address is configured")
    .action((o: ServeFlags) => run(globals(), o));
}
