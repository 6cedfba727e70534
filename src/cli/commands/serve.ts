import type { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { createLogger } from "../../log.ts";
import { startEmbeddedRedis, type EmbeddedRedis } from "../../server/embedded-redis.ts";
import { serve } from "../../server/serve.ts";
import { redisUrlOf, type GlobalOptions } from "../context.ts";

export function registerServeCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command("serve")
    .description("run the HTTP server, all queue workers and the configured channels")
    .option("--port <port>", "override server.port")
    .option("--host <host>", "override server.host (e.g. 0.0.0.0 in a container)")
    .option("--embedded-redis-if-unset", "start a local redis-server (data in ./data) when no Redis URL is configured")
    .action(async (o: { port?: string; host?: string; embeddedRedisIfUnset?: boolean }) => {
      const overrides: Record<string, unknown> = {};
      if (o.port !== undefined || o.host !== undefined) overrides.server = { ...(o.port !== undefined ? { port: Number(o.port) } : {}), ...(o.host ? { host: o.host } : {}) };
      const { config, source } = loadConfig({ path: globals().config, allowMissing: true, overrides });
      const log = createLogger({ name: "clawgate" });
      log.info({ config: source ?? "(defaults)" }, "config loaded");
      let embedded: EmbeddedRedis | null = null;
      let url = config.redis.url;
      if (!url && o.embeddedRedisIfUnset) {
        embedded = await startEmbeddedRedis();
        url = embedded.url;
        log.info({ url, pid: embedded.pid, data: "./data" }, "started embedded Redis (set REDIS_URL to use your own)");
      }
      const service = await serve({ config, redisUrl: url || redisUrlOf(config), log }).catch(async (err: unknown) => {
        await embedded?.stop();
        throw err;
      });
      process.stdout.write(`clawgate serve listening on ${service.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, "shutting down");
          const force = setTimeout(() => process.exit(1), 15_000);
          force.unref();
          void service
            .close()
            .then(() => embedded?.stop())
            .then(() => resolve());
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
    });
}
