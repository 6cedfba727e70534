import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { PolicyEngine } from "../src/policy/engine.ts";
import { policySchema } from "../src/policy/schema.ts";
import { analyseShellFullParser, analyseShellUncached } from "../src/policy/shell/analyse.ts";
import { lexShell } from "../src/policy/shell/lexer.ts";
import { parseShell } from "../src/policy/shell/mvdan.ts";
import type { ToolCall } from "../src/policy/call/tool-call.ts";
import { makeCorpus } from "./corpus.ts";
import { makeCalls, makeRules } from "./policy.ts";
import { percentile } from "./stats.ts";

interface Dist {
  n: number;
  p50us: number;
  p99us: number;
  maxus: number;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

function dist(samples: number[]): Dist {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50us: r2(percentile(s, 50)), p99us: r2(percentile(s, 99)), maxus: r2(s[s.length - 1] ?? Number.NaN) };
}

function engineWith(rules: number, decisionCache = true): PolicyEngine {
  return new PolicyEngine(policySchema.parse({ mode: "default", ...makeRules(rules) }), undefined, { decisionCache });
}

const exec = (command: string): ToolCall => ({ toolName: "exec", params: { command } });

/**
 * What the gate's before_tool_call does: judge the call, and only for an ask or a deny work
 * out what people are shown (reason, risk, parts). Timed as a whole.
 */
function asTheGate(engine: PolicyEngine, call: ToolCall): void {
  const judged = engine.judge(call);
  if (judged.decision !== "allow") judged.details();
}

function timeSync(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1000;
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1000;
}

/** The same engine in a child process behind a keep-alive loopback HTTP POST. */
async function startHttpEngine(rules: number): Promise<{ evaluate: (call: ToolCall) => Promise<void>; close: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "policy-server.ts"), String(rules)], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const evaluate = (call: ToolCall): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(call);
      const req = request({ host: "127.0.0.1", port, path: "/evaluate", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      });
      req.on("error", reject);
      req.end(body);
    });
  return {
    evaluate,
    close: () => {
      agent.destroy();
      if (child.pid) process.kill(child.pid);
    },
  };
}

/** GC pauses (ms) while `fn` runs. */
async function withGc<T>(fn: () => Promise<T> | T): Promise<{ result: T; gcCount: number; gcMaxMs: number; gcTotalMs: number }> {
  const pauses: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push(e.duration);
  });
  obs.observe({ entryTypes: ["gc"] });
  const result = await fn();
  // Entries are delivered asynchronously.
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return { result, gcCount: pauses.length, gcMaxMs: r2(Math.max(0, ...pauses)), gcTotalMs: r2(pauses.reduce((a, b) => a + b, 0)) };
}

export interface PolicyCompare {
  repeated: { inProcess: Dist; http: Dist; ratioP99: number };
  neverSeen: { inProcess: Dist; http: Dist; ratioP99: number; gcCount: number; gcMaxMs: number; gcTotalMs: number; lexed: number };
  growth: { rules: number; execP99us: number; fileP99us: number; webP99us: number }[];
  parsers: Record<string, Dist | string>;
}

async function repeatedAndNeverSeen(): Promise<Pick<PolicyCompare, "repeated" | "neverSeen">> {
  const calls = makeCalls();
  const engine = engineWith(1000);
  const http = await startHttpEngine(1000);
  try {
    // Warm both sides (JIT, caches, keep-alive socket).
    for (let i = 0; i < 20; i++) for (const c of calls) asTheGate(engine, c);
    for (const c of calls) await http.evaluate(c);
    const inRep: number[] = [];
    for (let round = 0; round < 50; round++) for (const c of calls) inRep.push(timeSync(() => asTheGate(engine, c)));
    const httpRep: number[] = [];
    for (let round = 0; round < 5; round++) for (const c of calls) httpRep.push(await timeAsync(() => http.evaluate(c)));

    // Never-seen: warm the code paths on other lines first, then 10,000 lines seen once.
    for (const line of makeCorpus(3000, 99)) asTheGate(engine, exec(line));
    const corpus = makeCorpus(10_000, 12);
    const lexed = corpus.filter((l) => lexShell(l) !== null).length;
    const inNew: number[] = [];
    const gc = await withGc(() => {
      for (const line of corpus) {
        const call = exec(line);
        inNew.push(timeSync(() => asTheGate(engine, call)));
      }
    });
    const httpNew: number[] = [];
    for (const line of makeCorpus(2000, 13)) httpNew.push(await timeAsync(() => http.evaluate(exec(line))));
    const repeated = { inProcess: dist(inRep), http: dist(httpRep), ratioP99: 0 };
    repeated.ratioP99 = r2(repeated.http.p99us / repeated.inProcess.p99us);
    const neverSeen = { inProcess: dist(inNew), http: dist(httpNew), ratioP99: 0, gcCount: gc.gcCount, gcMaxMs: gc.gcMaxMs, gcTotalMs: gc.gcTotalMs, lexed };
    neverSeen.ratioP99 = r2(neverSeen.http.p99us / neverSeen.inProcess.p99us);
    return { repeated, neverSeen };
  } finally {
    http.close();
  }
}

export function growth(): PolicyCompare["growth"] {
  const calls = makeCalls();
  const kinds = {
    exec: calls.filter((c) => c.toolName === "exec"),
    file: calls.filter((c) => ["write", "edit", "read", "apply_patch"].includes(c.toolName)),
    web: calls.filter((c) => c.toolName === "web_fetch"),
  };
  const rows: PolicyCompare["growth"] = [];
  for (const n of [10, 100, 1000, 10_000]) {
    // Without the decision cache: this times rule matching, which a repeated call would skip.
    const engine = engineWith(n, false);
    for (let i = 0; i < 20; i++) for (const c of calls) asTheGate(engine, c);
    const p99 = (cs: ToolCall[]): number => {
      const s: number[] = [];
      for (let round = 0; round < 40; round++) for (const c of cs) s.push(timeSync(() => asTheGate(engine, c)));
      return dist(s).p99us;
    };
    rows.push({ rules: n, execP99us: p99(kinds.exec), fileP99us: p99(kinds.file), webP99us: p99(kinds.web) });
  }
  return rows;
}

/**
 * Parser candidates side by side on never-seen lines. tree-sitter-bash and sh-syntax are not
 * dependencies: point CLAWGATE_BENCH_PARSERS at a folder where they are installed
 * (`npm i tree-sitter tree-sitter-bash sh-syntax`) to include them.
 */
async function parsers(): Promise<PolicyCompare["parsers"]> {
  const lines = makeCorpus(2000, 21);
  const warm = makeCorpus(500, 22);
  const out: PolicyCompare["parsers"] = {};
  const run = (fn: (l: string) => unknown): Dist => {
    for (const l of warm) fn(l);
    return dist(lines.map((l) => timeSync(() => fn(l))));
  };
  out["lexer (parse only, lexable lines)"] = (() => {
    const lexable = lines.filter((l) => lexShell(l) !== null);
    for (const l of warm) lexShell(l);
    return dist(lexable.map((l) => timeSync(() => lexShell(l))));
  })();
  out["lexer + full-parser fallback (analysis)"] = run(analyseShellUncached);
  out["mvdan-sh GopherJS (parse only)"] = run((l) => {
    try {
      parseShell(l);
    } catch {
      // Syntax errors cost the same to find.
    }
  });
  out["mvdan-sh GopherJS (analysis)"] = run(analyseShellFullParser);
  const dir = process.env.CLAWGATE_BENCH_PARSERS;
  if (!dir) {
    out["tree-sitter-bash"] = "not measured (set CLAWGATE_BENCH_PARSERS)";
    out["sh-syntax (wasm)"] = "not measured (set CLAWGATE_BENCH_PARSERS)";
    return out;
  }
  const req = createRequire(join(dir, "package.json"));
  try {
    const Parser = req("tree-sitter") as new () => { setLanguage(l: unknown): void; parse(s: string): unknown };
    const parser = new Parser();
    parser.setLanguage(req("tree-sitter-bash"));
    out["tree-sitter-bash (native, parse only)"] = run((l) => parser.parse(l));
  } catch (err) {
    out["tree-sitter-bash"] = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
  try {
    const sh = (await import(pathToFileURL(req.resolve("sh-syntax")).href)) as { parse: (s: string) => Promise<unknown> };
    const few = lines.slice(0, 300);
    for (const l of warm.slice(0, 50)) await sh.parse(l).catch(() => undefined);
    const s: number[] = [];
    for (const l of few) s.push(await timeAsync(() => sh.parse(l).catch(() => undefined)));
    out["sh-syntax wasm (async, parse only)"] = dist(s);
  } catch (err) {
    out["sh-syntax (wasm)"] = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
  return out;
}

export async function benchPolicyCompare(): Promise<PolicyCompare> {
  const { repeated, neverSeen } = await repeatedAndNeverSeen();
  return { repeated, neverSeen, growth: growth(), parsers: await parsers() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchPolicyCompare();
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
