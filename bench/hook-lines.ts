/**
 * The slowest never-seen calls of the hook corpus, each timed alone: every call is judged 50
 * times, each time as a call never seen before (its trailing comment or path made unique), and
 * the slowest by median are listed. `--profile N` then judges only the N slowest in a loop
 * (run under `node --cpu-prof` to profile just them).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BeforeToolCallEvent, HookContext } from "../src/gate/types.ts";
import { BENCH_KEYS } from "./fixtures.ts";
import { registeredHook } from "./hook.ts";
import { hookCalls } from "./hook-corpus.ts";
import { makeRules } from "./policy.ts";

const SHIPPED = { allow: ["read", "exec(git status)", "exec(git diff *)"], ask: ["exec(git push *)", "write(**/.env*)"], deny: ["exec(rm -rf *)", "exec(curl * | sh)"] };
const shipped = new Set([...SHIPPED.allow, ...SHIPPED.ask, ...SHIPPED.deny]);
const dir = mkdtempSync(join(tmpdir(), "clawgate-bench-lines-"));
const configPath = join(dir, "clawgate.yaml");
const r = makeRules(1000);
writeFileSync(
  configPath,
  JSON.stringify({
    redis: { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", prefix: `bench-lines-${process.pid}` },
    keys: BENCH_KEYS,
    policy: {
      mode: "default",
      allow: [...SHIPPED.allow, ...r.allow.filter((x) => !shipped.has(x))],
      ask: [...SHIPPED.ask, ...r.ask.filter((x) => !shipped.has(x))],
      deny: [...SHIPPED.deny, ...r.deny.filter((x) => !shipped.has(x))],
    },
    approvals: { timeout: "1m", maxPendingPerSession: 0, maxPendingPerAgent: 0 },
  }),
);
const { hook, stop } = await registeredHook(configPath);
const aborted = new AbortController();
aborted.abort();
const ctx: HookContext = { agentId: "bench", sessionKey: "bench", abortSignal: aborted.signal };

/** The call made unique by `n` without changing what it does. */
function variant(call: BeforeToolCallEvent, n: number): BeforeToolCallEvent {
  const p = call.params as Record<string, unknown>;
  if (typeof p.command === "string" && p.command.includes("<<")) return { ...call, params: { ...p, command: p.command.replace("\n", `\nv${n} `) } };
  if (typeof p.command === "string") return { ...call, params: { ...p, command: `${p.command} #v${n}` } };
  if (typeof p.path === "string") return { ...call, params: { ...p, path: `${p.path}.v${n}` } };
  if (typeof p.url === "string") return { ...call, params: { ...p, url: `${p.url}?v=${n}` } };
  return call;
}

const calls = [...hookCalls(2000)];
const profile = process.argv.indexOf("--profile");
let seq = 0;
// Warm the code paths first: the first calls would otherwise top the list for compiling them.
for (const call of hookCalls(2000, 7)) await hook(variant(call, seq++), ctx);
const rows: Array<{ med: number; call: BeforeToolCallEvent }> = [];
for (const call of calls) {
  const t: number[] = [];
  for (let i = 0; i < 50; i++) {
    const c = variant(call, seq++);
    const t0 = process.hrtime.bigint();
    await hook(c, ctx);
    t.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  t.sort((a, b) => a - b);
  rows.push({ med: t[25] as number, call });
}
rows.sort((a, b) => b.med - a.med);
if (profile > 0) {
  const top = rows.slice(0, Number(process.argv[profile + 1] ?? 30));
  const t0 = Date.now();
  let n = 0;
  while (Date.now() - t0 < 5000) for (const { call } of top) (await hook(variant(call, seq++), ctx), n++);
  process.stdout.write(`${n} calls, ${((Date.now() - t0) * 1000) / n} µs each\n`);
} else {
  const all = rows.map((x) => x.med).sort((a, b) => a - b);
  process.stdout.write(`median of medians ${all[1000]?.toFixed(1)} µs, p99 of medians ${all[1980]?.toFixed(1)} µs\n`);
  for (const { med, call } of rows.slice(0, 30)) process.stdout.write(`${med.toFixed(1).padStart(7)} µs  ${call.toolName} ${JSON.stringify(call.params).slice(0, 200)}\n`);
}
await stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
