// Private Redis, `clawgate serve` and the `clawgate` CLI for end-to-end tests. Every process
// is started by us, bounded, and killed by pid in stop().
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { runCli } from "../../test/helpers/cli.ts";
import { freePort, REPO_ROOT } from "./gateway.ts";

const CLAWGATE_BIN = path.join(REPO_ROOT, "bin", "clawgate.js");

async function until(fn: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`${what} not ready within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  pid: number;
  /** Stop the server (data kept in memory is gone; used for fault tests). */
  stop(): Promise<void>;
  /** Start it again on the same port. */
  start(): Promise<void>;
  /** Stop it for good and remove its directory. */
  destroy(): Promise<void>;
}

/** A private redis-server on a free port (`--hz 100` so delayed jobs fire on time). */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-redis-"));
  let child: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--hz", "100", "--dir", dir], { stdio: "ignore" });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    await until(
      async () => {
        try {
          if (probe.status !== "ready") await probe.connect();
          return (await probe.ping()) === "PONG";
        } catch {
          probe.disconnect();
          return false;
        }
      },
      10_000,
      "redis-server",
    );
    probe.disconnect();
  };
  await start();
  return {
    url,
    port,
    get pid() {
      return child?.pid ?? 0;
    },
    start,
    async stop() {
      if (child) await stopChild(child);
      child = null;
    },
    async destroy() {
      if (child) await stopChild(child);
      child = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ClawgateServe {
  url: string;
  pid: number;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

/** `clawgate serve` as users run it: the real binary, its own process. */
export async function startServe(configPath: string, redisUrl: string, extraEnv: Record<string, string> = {}, opts: { port?: number } = {}): Promise<ClawgateServe> {
  // A port chosen beforehand lets a config name serve's own public URL (a webhook's).
  const port = opts.port ?? (await freePort());
  const child = spawn(process.execPath, [CLAWGATE_BIN, "serve", "--config", configPath, "--port", String(port)], {
    env: { ...process.env, REDIS_URL: redisUrl, LOG_LEVEL: "warn", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`clawgate serve exited (${child.exitCode}): ${err}`);
      return fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
    },
    30_000,
    "clawgate serve",
  );
  return { url, pid: child.pid ?? 0, stdout: () => out, stderr: () => err, stop: () => stopChild(child, 15_000) };
}

export type { CliResult as CliRun } from "../../test/helpers/cli.ts";

/** The real `clawgate` binary (the same runner the CLI tests use). */
export function clawgate(args: string[], env: Record<string, string>, timeoutMs = 20_000) {
  return runCli(args, env, timeoutMs);
}

/** A random admin secret for `server.apiToken` in a test's serve config (bootstraps person tokens). */
export function newAdminSecret(): string {
  return `e2e-admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

/**
 * The environment the CLI decides with, as a person: `clawgate token create` through serve with
 * the config's admin token, then CLAWGATE_URL + CLAWGATE_TOKEN (deciding goes through serve).
 */
export async function personEnv(serve: ClawgateServe, base: Record<string, string>, adminToken: string, person: string): Promise<Record<string, string>> {
  const admin = { ...base, CLAWGATE_URL: serve.url, CLAWGATE_TOKEN: adminToken };
  const made = await clawgate(["token", "create", `${person}-${Math.random().toString(36).slice(2, 8)}`, "--person", person], admin);
  if (made.code !== 0) throw new Error(`token create failed: ${made.stderr}`);
  return { ...base, CLAWGATE_URL: serve.url, CLAWGATE_TOKEN: made.stdout.trim() };
}
