import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import { ClawgateError } from "../errors.ts";

/**
 * The embedded Redis of `npm start` when no REDIS_URL is configured: the system's
 * redis-server, append-only persistence under ./data, loopback only. Its URL is written to
 * ./data/redis.url so the CLI in another terminal finds it.
 */
export interface EmbeddedRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export function embeddedUrlFile(dataDir: string): string {
  return join(dataDir, "redis.url");
}

/** The URL of a running embedded Redis started from this directory, if any. */
export function readEmbeddedUrl(dataDir = resolve("data")): string | null {
  try {
    return readFileSync(embeddedUrlFile(dataDir), "utf8").trim() || null;
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolvePort(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

export async function startEmbeddedRedis(dataDir = resolve("data"), binary = process.env.REDIS_SERVER_BIN ?? "redis-server"): Promise<EmbeddedRedis> {
  if (spawnSync(binary, ["--version"]).status !== 0) {
    throw new ClawgateError(
      "redis_unavailable",
      `no REDIS_URL is set and "${binary}" is not installed: install it (e.g. apt-get install redis-server) or set REDIS_URL to an existing Redis`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dataDir, "--appendonly", "yes", "--save", "", "--daemonize", "no", "--logfile", join(dataDir, "redis.log")],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new ClawgateError("redis_unavailable", `embedded redis-server did not start (see ${join(dataDir, "redis.log")}): ${(err as Error).message}`);
      }
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  probe.disconnect();
  writeFileSync(embeddedUrlFile(dataDir), `${url}\n`);
  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      rmSync(embeddedUrlFile(dataDir), { force: true });
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
