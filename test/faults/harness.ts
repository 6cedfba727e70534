import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { decodeRefEntry } from "../../queue/refEntry.ts";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { storeOptions } from "../../src/backend/wiring.ts";
import { TEST_KEYS_CONFIG, testConfig, testKeys, testSigner } from "../helpers/fixtures.ts";
import { TokenStore } from "../../src/auth/tokens.ts";
import { afterEach, beforeEach, onTestFailed } from "vitest";
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from "../fakes/slack.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { BIN } from "../helpers/cli.ts";

/**
 * Real processes for fault tests: a private redis-server that can be killed, stopped and
 * restarted; `clawgate serve` from the real binary; a gateway that loads the real plugin.
 * Everything started is registered with a `Procs` and SIGKILLed by pid in teardown.
 */

const GATEWAY = fileURLToPath(new URL("./gateway.ts", import.meta.url));

export const SLACK_SECRET = "fault-signing-secret-0123456789";
export const SLACK_CHANNEL = "C0APPROVALS";
export const APPROVER = "U0ALICE";
export const HMAC_KEY = "fault-test-hmac-key-0123456789abcdef";
export const POLICY = { mode: "default", ask: ["exec(git push *)"] };

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value other than undefined/false; throws `what` after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A started child process whose output is kept, killable by pid. */
export class Proc {
  out = "";
  err = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on("data", (d: Buffer) => (this.out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }
  get pid(): number {
    return this.child.pid as number;
  }
  /** stderr parsed as pino JSON lines (other lines skipped). */
  logs(): Array<Record<string, unknown>> {
    return this.err.split("\n").flatMap((l) => {
      if (!l.startsWith("{")) return [];
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  signal(sig: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, sig);
  }
  /** SIGKILL by pid and wait until it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    process.kill(this.pid, "SIGKILL");
    await this.exited;
  }
}

/** Everything a test starts; `cleanup()` kills the processes by pid and removes temp dirs. */
export class Procs {
  private readonly procs: Proc[] = [];
  private readonly dirs: string[] = [];
  private readonly redises: Redis[] = [];

  add<T extends Proc>(p: T): T {
    this.procs.push(p);
    return p;
  }
  tmp(tag: string): string {
    const d = mkdtempSync(join(tmpdir(), `cg-${tag}-`));
    this.dirs.push(d);
    return d;
  }
  redis(url: string): Redis {
    const r = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    r.on("error", () => undefined);
    this.redises.push(r);
    return r;
  }
  /** Output of every process, for a failing test's report. */
  dump(): string {
    return this.procs.map((p) => `----- ${p.name} (pid ${p.pid})\n[stdout]\n${p.out.slice(-4_000)}\n[stderr]\n${p.err.slice(-8_000)}`).join("\n");
  }
  async cleanup(): Promise<void> {
    for (const r of this.redises.splice(0)) r.disconnect();
    await Promise.all(this.procs.splice(0).map((p) => p.kill()));
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * A private redis-server (append-only, no RDB, hz 100) on a fixed port, so it can be killed
 * and started again where clients expect it, with its data replayed from the AOF.
 */
export class PrivateRedis {
  proc: Proc | null = null;
  private constructor(
    private readonly procs: Procs,
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(procs: Procs): Promise<PrivateRedis> {
    const r = new PrivateRedis(procs, await freePort(), procs.tmp("redis"));
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  async start(): Promise<void> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", this.dir, "--hz", "100", "--daemonize", "no", "--logfile", ""];
    this.proc = this.procs.add(new Proc("redis-server", spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] })));
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await until(
        "redis-server to answer",
        async () => {
          if (!this.proc?.running) throw new Error(`redis-server exited: ${this.proc?.out}`);
          try {
            if (probe.status !== "ready") await probe.connect();
            // LOADING while it replays the AOF: not ready yet.
            return (await probe.ping()) === "PONG";
          } catch {
            probe.disconnect();
            return false;
          }
        },
        10_000,
      );
    } finally {
      probe.disconnect();
    }
  }

  /** SIGKILL: no shutdown, no final AOF rewrite; what clients were told is written is in the AOF. */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** SIGSTOP / SIGCONT: a Redis that stalls (connections stay open, nothing is answered). */
  stall(): void {
    this.proc?.signal("SIGSTOP");
  }
  resume(): void {
    this.proc?.signal("SIGCONT");
  }
}

export interface ServeOptions {
  redisUrl: string;
  prefix: string;
  slack: FakeSlack;
  /** Extra top-level config keys. */
  over?: Record<string, unknown>;
}

/** The config of a `serve` that posts to the fake Slack only. */
export function serveConfig(o: ServeOptions): Record<string, unknown> {
  return {
    redis: { url: o.redisUrl, prefix: o.prefix },
    server: { port: 0 },
    log: { enabled: false },
    keys: TEST_KEYS_CONFIG,
    policy: POLICY,
    audit: { hmacKey: HMAC_KEY },
    slack: { botToken: o.slack.botToken, signingSecret: SLACK_SECRET, channel: SLACK_CHANNEL, approvers: { users: [APPROVER] }, apiUrl: o.slack.apiUrl },
    ...o.over,
  };
}

export function writeConfig(dir: string, name: string, config: Record<string, unknown>): string {
  const file = join(dir, name);
  // JSON is YAML: the loader reads it as any other clawgate.yaml.
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export class ServeProc extends Proc {
  url = "";
  /** When /readyz first answered 200. */
  readyAt = 0;
}

/** `clawgate serve --config FILE` from the real binary; resolves once /readyz answers 200. */
export async function startServe(procs: Procs, configFile: string, redisUrl: string, name = "serve"): Promise<ServeProc> {
  const child = spawn(process.execPath, [BIN, "serve", "--config", configFile], {
    env: { ...process.env, REDIS_URL: redisUrl, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const p = procs.add(new ServeProc(name, child));
  p.url = await until(
    `${name} to print its URL`,
    () => {
      if (!p.running) throw new Error(`${name} exited early:\n${p.err.slice(-3_000)}`);
      return /clawgate serve listening on (http:\/\/\S+)/.exec(p.out)?.[1];
    },
    15_000,
  );
  await until(`${name} /readyz`, async () => (await fetch(`${p.url}/readyz`).then((r) => r.status, () => 0)) === 200, 10_000, 20);
  p.readyAt = Date.now();
  return p;
}

export class GatewayProc extends Proc {
  /** The before_tool_call result the gateway printed: `null` = allowed, else `{ block, blockReason }`. */
  async result(timeoutMs: number): Promise<{ block: true; blockReason: string } | null> {
    const line = await until(
      "the gateway's before_tool_call result",
      () => {
        const hit = this.out.split("\n").find((l) => l.startsWith('{"result"'));
        if (hit) return hit;
        if (!this.running) throw new Error(`gateway exited without a result:\n${this.err.slice(-3_000)}`);
        return undefined;
      },
      timeoutMs,
    );
    return (JSON.parse(line) as { result: { block: true; blockReason: string } | null }).result;
  }
}

/**
 * A gateway: the real plugin entry (plugin/index.ts) loaded in its own node process, asked
 * for `git push origin main` — an ask under POLICY. It prints `{"result": …}` when the hook returns.
 */
export async function startGateway(procs: Procs, configFile: string, redisUrl: string): Promise<GatewayProc> {
  const call = { event: { toolName: "exec", params: { command: "git push origin main" }, toolCallId: "call-1" }, ctx: { agentId: "main", sessionKey: "agent:main:faults" } };
  const child = spawn(process.execPath, ["--import", "tsx", GATEWAY, configFile, JSON.stringify(call)], {
    env: { ...process.env, REDIS_URL: redisUrl, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return procs.add(new GatewayProc("gateway", child));
}

/** The gateway's config: only what a gateway needs, no channel blocks. */
export function gatewayConfig(redisUrl: string, prefix: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { redis: { url: redisUrl, prefix }, policy: POLICY, approvals: { timeout: "2m" }, keys: TEST_KEYS_CONFIG, ...over };
}

/**
 * The CLI's environment to decide as `person` through `serve` (a token signed as serve signs
 * them; the CLI's approve and deny go through serve's API).
 */
export async function cliEnvAs(person: string, serve: ServeProc, redisUrl: string, prefix: string): Promise<Record<string, string>> {
  const redis = new Redis(redisUrl);
  try {
    const { secret } = await new TokenStore(redis, prefix, { signer: testSigner, keys: testKeys }).create({ name: `${person}-${Date.now()}`, kind: "person", subject: person });
    return { REDIS_URL: redisUrl, CLAWGATE_URL: serve.url, CLAWGATE_TOKEN: secret, XDG_CONFIG_HOME: "/nonexistent-clawgate-login" };
  } finally {
    redis.disconnect();
  }
}

/**
 * SIGSTOPs `serve` while its blocking read of the event stream is outstanding in Redis, so the
 * next event is handed to it (pending in the consumer group under its name) and handled only
 * if it is continued (SIGCONT). Returns with serve stopped and at least ~700 ms left before
 * that read times out. Needs a Redis no other serve uses (it finds serve's connection by name).
 */
export async function freezeWhileReading(serve: Proc, redis: Redis): Promise<void> {
  const reader = async () => {
    const list = (await redis.call("CLIENT", "LIST")) as string;
    const line = list.split("\n").find((l) => / name=clawgate-serve-events /.test(l));
    return line ? { id: /\bid=(\d+)/.exec(line)?.[1] as string, blocked: /\bflags=\S*b/.test(line) } : undefined;
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    const before = await until("serve's event reader", reader, 10_000);
    // Restart its read now (as if its BLOCK timed out), so we know when the new one began.
    const started = Date.now();
    await redis.call("CLIENT", "UNBLOCK", before.id, "TIMEOUT");
    await until("serve's next blocking read", async () => (await reader())?.blocked === true, 5_000, 5);
    serve.signal("SIGSTOP");
    // XREADGROUP blocks for 1 s: a read issued under 300 ms ago has 700 ms left.
    if (Date.now() - started < 300 && (await reader())?.blocked === true) return;
    serve.signal("SIGCONT");
  }
  throw new Error("could not catch serve in a blocking read of the event stream");
}

/** An approval store on `redis` with the default options, as the CLI or a gateway would open it. */
export function storeOn(redis: Redis, prefix: string): ApprovalStore {
  return new ApprovalStore(redis, storeOptions(testConfig(prefix)));
}

/** The id of the (only) pending approval under `prefix`, once there is one. */
export function pendingApproval(redis: Redis, prefix: string, timeoutMs = 10_000): Promise<string> {
  return until("a pending approval", async () => (await redis.zrange(keys(prefix).pending, "0", "0"))[0], timeoutMs);
}

export const hasButtons = (m: FakeSlackMessage) => m.blocks.some((b) => (b as { type?: string }).type === "actions");

/** Every top-level message in the fake about approval `id` (its request card and any duplicate). */
export function cardsFor(slack: FakeSlack, id: string): FakeSlackMessage[] {
  return [...slack.messages.values()].filter((m) => !m.thread_ts && JSON.stringify(m.blocks).includes(id));
}

/** The refs-hash entry serve keeps for the Slack card of `id`, parsed. */
export async function slackRef(redis: Redis, prefix: string, id: string): Promise<{ s: string; ref?: { channel: string; ts: string }; closed?: boolean } | null> {
  const entry = decodeRefEntry(await redis.hget(keys(prefix).refs(id), `slack|${SLACK_CHANNEL}|0`));
  return entry as { s: string; ref?: { channel: string; ts: string }; closed?: boolean } | null;
}

/** What every fault test works with: its processes (killed by pid afterwards) and a Slack fake. */
export interface ProcessSuite {
  procs: Procs;
  slack: FakeSlack;
}

/** Registers the hooks for a ProcessSuite (fresh before each test, cleaned up after) and returns it. */
export function processSuite(): ProcessSuite {
  const suite = {} as ProcessSuite;
  beforeEach(async () => {
    suite.procs = new Procs();
    suite.slack = await startFakeSlack();
    onTestFailed(() => console.error(suite.procs.dump()));
  });
  afterEach(async () => {
    await suite.procs.cleanup();
    await suite.slack.close();
  });
  return suite;
}

/** A ProcessSuite on the shared Redis, with a unique key prefix cleaned up after each test. */
export interface FaultSuite extends ProcessSuite {
  redis: Redis;
  prefix: string;
}

export function faultSuite(tag: string): FaultSuite {
  const suite = processSuite() as FaultSuite;
  beforeEach(() => {
    suite.redis = connect();
    suite.prefix = uniquePrefix(tag);
  });
  afterEach(async () => {
    await deleteKeys(suite.redis, suite.prefix);
    await suite.redis.quit();
  });
  return suite;
}
