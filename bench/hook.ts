/**
 * The policy timed where it runs: through the before_tool_call handler the plugin registers
 * (`register(api)` with a minimal OpenClaw-shaped api), with the shipped defaults —
 * self-protection on, the decision cache on — plus 1,000 rules, on calls from a corpus of its
 * own (long lines, here-documents, writes with content). The same calls against the same rules
 * behind a loopback HTTP POST (how policy servers are called) are the baseline, in the same run.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import plugin from "../plugin/index.ts";
import type { BeforeToolCallEvent, BeforeToolCallResult, HookContext } from "../src/gate/types.ts";
import { BENCH_KEYS } from "./fixtures.ts";
import { askedCorpus, deniedCorpus, hookCalls, hookCorpus } from "./hook-corpus.ts";
import { makeRules } from "./policy.ts";
import { percentile } from "./stats.ts";

export interface Dist {
  n: number;
  p50us: number;
  p99us: number;
  maxus: number;
}

export interface HookBench {
  rules: number;
  selfProtection: boolean;
  neverSeenAllowed: Dist & { gcCount: number; gcMaxMs: number; gcTotalMs: number };
  neverSeenDenied: Dist;
  repeatedAllowed: Dist;
  repeatedDenied: Dist;
  /** An ask: the policy, then the approval created in Redis and (the run being cancelled) closed again: two Redis round trips. */
  asked: Dist;
  http: { neverSeen: Dist; repeated: Dist };
  ratios: { neverSeenP99: number; repeatedP99: number };
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

function dist(samples: number[]): Dist {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50us: r2(percentile(s, 50)), p99us: r2(percentile(s, 99)), maxus: r2(s[s.length - 1] ?? Number.NaN) };
}

type Handler = (event: BeforeToolCallEvent, ctx: HookContext) => Promise<BeforeToolCallResult>;

/** The plugin as OpenClaw loads it: `register(api)`, then its service started; returns the registered hook. */
export async function registeredHook(configPath: string): Promise<{ hook: Handler; stop: () => Promise<void> }> {
  const hooks = new Map<string, Handler>();
  const services: Array<{ start(ctx?: unknown): unknown; stop?(ctx?: unknown): unknown }> = [];
  const quiet = { info() {}, warn() {}, error() {} };
  plugin.register({
    pluginConfig: { configPath },
    config: { plugins: { load: { paths: [join(import.meta.dirname, "..", "plugin")] } } },
    rootDir: join(import.meta.dirname, "..", "plugin"),
    logger: quiet,
    on: (name: string, handler: (...args: never[]) => unknown) => void hooks.set(name, handler as unknown as Handler),
    registerCommand: () => undefined,
    registerService: (s) => void services.push(s),
  });
  for (const s of services) await s.start({ stateDir: join(tmpdir(), "clawgate-bench-state") });
  const hook = hooks.get("before_tool_call");
  if (!hook) throw new Error("the plugin registered no before_tool_call hook");
  return { hook, stop: async () => void (await Promise.all(services.map((s) => s.stop?.()))) };
}

/** The same rules behind a keep-alive loopback HTTP POST in another process. */
async function httpEngine(rules: number): Promise<{ evaluate: (call: BeforeToolCallEvent) => Promise<void>; close: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "policy-server.ts"), String(rules)], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const evaluate = (call: BeforeToolCallEvent): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(call);
      const req = request({ host: "127.0.0.1", port, path: "/evaluate", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      });
      req.on("error", reject);
      req.end(body);
    });
  return { evaluate, close: () => (agent.destroy(), child.pid && process.kill(child.pid)) };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1000;
}

const KINDS = ["allow", "deny", "ask"] as const;
type Kind = (typeof KINDS)[number];

/**
 * Every hook call for the gate, timed; `kind` says what it did. Times and kinds go into typed
 * arrays sized up front: the bench's own bookkeeping must not add objects for the GC to copy.
 */
async function run(hook: Handler, calls: Iterable<BeforeToolCallEvent>, ctx: HookContext, max = 20_000): Promise<Array<{ us: number; kind: Kind }>> {
  const times = new Float64Array(max);
  const kinds = new Uint8Array(max);
  let n = 0;
  for (const call of calls) {
    if (n === max) break;
    const t0 = process.hrtime.bigint();
    const r = await hook(call, ctx);
    times[n] = Number(process.hrtime.bigint() - t0) / 1000;
    kinds[n++] = r === undefined ? 0 : /approval ap_\w+ was cancelled/.test(r.blockReason) ? 2 : 1;
  }
  return Array.from({ length: n }, (_, i) => ({ us: times[i] as number, kind: KINDS[kinds[i] as number] as Kind }));
}

/** The rules of the shipped clawgate.yaml. */
const SHIPPED = { allow: ["read", "exec(git status)", "exec(git diff *)"], ask: ["exec(git push *)", "write(**/.env*)"], deny: ["exec(rm -rf *)", "exec(curl * | sh)"] };
const shippedRules = new Set([...SHIPPED.allow, ...SHIPPED.ask, ...SHIPPED.deny]);
const notShipped = (rule: string): boolean => !shippedRules.has(rule);

export async function benchHook(opts: { rules?: number; selfProtection?: boolean; neverSeen?: number } = {}): Promise<HookBench> {
  const rules = opts.rules ?? 1000;
  const selfProtection = opts.selfProtection ?? true;
  const dir = mkdtempSync(join(tmpdir(), "clawgate-bench-hook-"));
  const configPath = join(dir, "clawgate.yaml");
  const prefix = `bench-hook-${process.pid}`;
  const r = makeRules(rules);
  writeFileSync(
    configPath,
    JSON.stringify({
      redis: { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", prefix },
      keys: BENCH_KEYS,
      // The shipped clawgate.yaml's rules, and 1,000 more (none of them a shipped rule in another list:
      // the generated `exec(git push *)` deny would turn the asked calls into denials).
      policy: {
        mode: "default",
        ...(selfProtection ? {} : { selfProtection: false }),
        allow: [...SHIPPED.allow, ...r.allow.filter(notShipped)],
        ask: [...SHIPPED.ask, ...r.ask.filter(notShipped)],
        deny: [...SHIPPED.deny, ...r.deny.filter(notShipped)],
      },
      approvals: { timeout: "1m", maxPendingPerSession: 0, maxPendingPerAgent: 0 },
    }),
  );
  const { hook, stop } = await registeredHook(configPath);
  const http = await httpEngine(rules);
  // An ask would wait for a person: a run already cancelled makes it create and cancel its approval.
  const aborted = new AbortController();
  aborted.abort();
  const ctx: HookContext = { agentId: "bench", sessionKey: "bench", abortSignal: aborted.signal };
  try {
    // Warm the code paths on calls of other seeds.
    await run(hook, hookCorpus(3000, 7), ctx);
    await run(hook, deniedCorpus(500, 8), ctx);

    const pauses: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) pauses.push(e.duration);
    });
    obs.observe({ entryTypes: ["gc"] });
    const seen = await run(hook, hookCalls(opts.neverSeen ?? 10_000), ctx);
    await new Promise((res) => setTimeout(res, 50));
    obs.disconnect();
    const allowed = seen.filter((s) => s.kind === "allow").map((s) => s.us);
    // Denials before asks: 500 approvals created and cancelled leave Redis replies and timers
    // behind that every scavenge would copy during the next phase.
    const denied = (await run(hook, deniedCorpus(2000), ctx)).filter((s) => s.kind === "deny").map((s) => s.us);
    const asked = (await run(hook, askedCorpus(500), ctx)).filter((s) => s.kind === "ask").map((s) => s.us);

    // Repeated: 200 calls of each kind, seen many times (the decision cache).
    const allowedCalls = hookCorpus(400, 11).slice(0, 200);
    const deniedCalls = deniedCorpus(200, 12);
    for (let i = 0; i < 5; i++) {
      await run(hook, allowedCalls, ctx);
      await run(hook, deniedCalls, ctx);
    }
    const repA: number[] = [];
    const repD: number[] = [];
    for (let round = 0; round < 25; round++) {
      for (const s of await run(hook, allowedCalls, ctx)) if (s.kind === "allow") repA.push(s.us);
      for (const s of await run(hook, deniedCalls, ctx)) if (s.kind === "deny") repD.push(s.us);
    }

    const httpNew: number[] = [];
    for (const call of hookCorpus(2000, 13)) httpNew.push(await timed(() => http.evaluate(call)));
    const httpRep: number[] = [];
    for (let round = 0; round < 5; round++) for (const call of allowedCalls) httpRep.push(await timed(() => http.evaluate(call)));

    const neverSeenAllowed = { ...dist(allowed), gcCount: pauses.length, gcMaxMs: r2(Math.max(0, ...pauses)), gcTotalMs: r2(pauses.reduce((a, b) => a + b, 0)) };
    const repeatedAllowed = dist(repA);
    const h = { neverSeen: dist(httpNew), repeated: dist(httpRep) };
    return {
      rules,
      selfProtection,
      neverSeenAllowed,
      neverSeenDenied: dist(denied),
      repeatedAllowed,
      repeatedDenied: dist(repD),
      asked: dist(asked),
      http: h,
      ratios: { neverSeenP99: r2(h.neverSeen.p99us / neverSeenAllowed.p99us), repeatedP99: r2(h.repeated.p99us / repeatedAllowed.p99us) },
    };
  } finally {
    http.close();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchHook({ selfProtection: process.argv.includes("--no-self-protection") ? false : true });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}
