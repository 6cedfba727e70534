import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { Redis } from "ioredis";
import { embeddedAddressFile } from "../config/redis-address.ts";
import { AlreadyRunningError, ClawgateError } from "../errors.ts";

/**
 * The embedded Redis of `npm start` when no Redis address is configured: the system's
 * redis-server, append-only persistence in `dataDir`, loopback only. Its URL goes to
 * `dataDir/redis.url` so the CLI and a gateway configured with the same file find it.
 *
 * One `serve` owns a data directory at a time: `dataDir/serve.lock` names the owner's pid
 * (and, once started, its redis-server and HTTP address). A second start is refused while
 * the owner lives; a lock left by a killed owner is taken over after stopping the
 * redis-server it orphaned, so two servers never share one append-only file.
 */
export interface EmbeddedRedis {
  url: string;
  pid: number;
  port: number;
  dataDir: string;
  addressFile: string;
  /** Set when a previous owner had died without cleaning up: its pid and the redis-server this start stopped. */
  recovered: { pid: number; redisPid?: number } | null;
  /** Record where this instance's HTTP server listens, for the "already running" message. */
  announce(httpUrl: string): void;
  /** Stop redis-server (SIGTERM: it finishes its append-only file) and remove this instance's own files. */
  stop(): Promise<void>;
  /** For `process.on("exit")`: signal redis-server and remove own files without waiting. */
  stopSync(): void;
}

interface LockInfo {
  pid: number;
  startedAt: string;
  redisPid?: number;
  redisUrl?: string;
  httpUrl?: string;
}

function lockFile(dataDir: string): string {
  return join(dataDir, "serve.lock");
}

/** True when `pid` is a live process whose command line matches `expect` (where /proc tells). */
function alive(pid: number | undefined, expect?: RegExp): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but is someone else's.
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (!expect) return true;
  try {
    return expect.test(readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

function readLock(dataDir: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(lockFile(dataDir), "utf8")) as LockInfo;
    return typeof info.pid === "number" ? info : null;
  } catch {
    return null;
  }
}

function writeLock(dataDir: string, info: LockInfo, exclusive: boolean): void {
  writeFileSync(lockFile(dataDir), `${JSON.stringify(info)}\n`, exclusive ? { flag: "wx" } : {});
}

function portOf(url: string | undefined): string {
  return url ? (/:(\d+)\/?$/.exec(url)?.[1] ?? "?") : "?";
}

async function waitExit(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

/** Take `dataDir`'s lock, or say who holds it. A dead owner's redis-server is stopped first. */
async function acquireLock(dataDir: string): Promise<EmbeddedRedis["recovered"]> {
  let recovered: EmbeddedRedis["recovered"] = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeLock(dataDir, { pid: process.pid, startedAt: new Date().toISOString() }, true);
      return recovered;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const held = readLock(dataDir);
    if (!held) {
      // Unreadable: either being written right now or garbage. Only a recent file counts as held.
      const age = Date.now() - (statSync(lockFile(dataDir), { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age < 5_000) throw new AlreadyRunningError(`clawgate serve is starting in ${dataDir} right now (${lockFile(dataDir)})`);
    } else if (alive(held.pid, /node|clawgate/)) {
      const where = held.httpUrl ? `, HTTP ${held.httpUrl}` : "";
      throw new AlreadyRunningError(
        `clawgate serve is already running for this directory (pid ${held.pid}, Redis port ${portOf(held.redisUrl)}${where}): use it, stop it first, or run the CLI against it`,
        { pid: held.pid, redisUrl: held.redisUrl, httpUrl: held.httpUrl },
      );
    } else {
      recovered = { pid: held.pid, ...(held.redisPid ? { redisPid: held.redisPid } : {}) };
      if (held.redisPid && alive(held.redisPid, /redis-server/)) {
        // The previous owner died without cleaning up (SIGKILL, power loss): its redis-server
        // still holds the append-only file. Stop it before starting another on the same data.
        process.kill(held.redisPid, "SIGTERM");
        if (!(await waitExit(held.redisPid, 10_000))) process.kill(held.redisPid, "SIGKILL");
      }
    }
    if (held?.redisUrl && readAddress(dataDir) === held.redisUrl) rmSync(embeddedAddressFile(dataDir), { force: true });
    rmSync(lockFile(dataDir), { force: true });
  }
  throw new AlreadyRunningError(`another clawgate serve took ${lockFile(dataDir)} while this one was starting`);
}

function readAddress(dataDir: string): string | null {
  try {
    return readFileSync(embeddedAddressFile(dataDir), "utf8").trim();
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

async function ping(url: string, child: ChildProcess, deadline: number): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        return true;
      } catch {
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) return false;
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    probe.disconnect();
  }
}

/**
 * `preflight` runs once the data directory is ours and before redis-server starts (serve checks
 * its HTTP port there): a second start is told "already running" rather than "port in use",
 * and a failed preflight leaves nothing behind.
 */
export async function startEmbeddedRedis(opts: { dataDir: string; binary?: string; preflight?: () => Promise<void> }): Promise<EmbeddedRedis> {
  const { dataDir } = opts;
  const binary = opts.binary ?? process.env.REDIS_SERVER_BIN ?? "redis-server";
  if (spawnSync(binary, ["--version"]).status !== 0) {
    throw new ClawgateError(
      "redis_unavailable",
      `no Redis address is configured and "${binary}" is not installed: install it (e.g. apt-get install redis-server) or set REDIS_URL to an existing Redis`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const recovered = await acquireLock(dataDir);
  const ownLock = () => readLock(dataDir)?.pid === process.pid;
  const releaseLock = () => {
    if (ownLock()) rmSync(lockFile(dataDir), { force: true });
  };

  let child: ChildProcess | null = null;
  let url = "";
  let port = 0;
  try {
    await opts.preflight?.();
    // A port found free can be taken before redis-server binds it: try again on another.
    for (let attempt = 0; attempt < 3 && !url; attempt++) {
      port = await freePort();
      const candidate = `redis://127.0.0.1:${port}`;
      // detached: its own process group, so a terminal's Ctrl-C or hang-up reaches only
      // `serve`, which stops Redis after its workers have drained (not before).
      child = spawn(
        binary,
        ["--port", String(port), "--bind", "127.0.0.1", "--dir", dataDir, "--appendonly", "yes", "--save", "", "--daemonize", "no", "--logfile", join(dataDir, "redis.log")],
        { stdio: "ignore", detached: true },
      );
      child.on("error", () => undefined);
      if (await ping(candidate, child, Date.now() + 10_000)) url = candidate;
      else if (child.exitCode === null) child.kill("SIGKILL");
    }
    if (!url || !child?.pid) throw new ClawgateError("redis_unavailable", `embedded redis-server did not start (see ${join(dataDir, "redis.log")})`);
  } catch (err) {
    releaseLock();
    throw err;
  }
  const proc = child as ChildProcess & { pid: number };
  const lock: LockInfo = { ...(readLock(dataDir) ?? { pid: process.pid, startedAt: new Date().toISOString() }), redisPid: proc.pid, redisUrl: url };
  writeLock(dataDir, lock, false);
  writeFileSync(embeddedAddressFile(dataDir), `${url}\n`);

  const removeOwnFiles = () => {
    if (readAddress(dataDir) === url) rmSync(embeddedAddressFile(dataDir), { force: true });
    releaseLock();
  };
  const running = () => proc.exitCode === null && proc.signalCode === null;
  let stopping: Promise<void> | null = null;
  return {
    url,
    pid: proc.pid,
    port,
    dataDir,
    addressFile: embeddedAddressFile(dataDir),
    recovered,
    announce(httpUrl: string) {
      if (ownLock()) writeLock(dataDir, { ...lock, httpUrl }, false);
    },
    stop() {
      stopping ??= (async () => {
        if (running()) {
          const exited = new Promise((r) => proc.once("exit", r));
          proc.kill("SIGTERM");
          const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(timer);
        }
        removeOwnFiles();
      })();
      return stopping;
    },
    stopSync() {
      if (running()) proc.kill("SIGTERM");
      removeOwnFiles();
    },
  };
}
