// The README "Performance" table, from one `npm run bench` result:
//   node --import tsx bench/readme-table.ts bench/results/<date>-<commit>.json
// Prints Markdown; every figure is the run's own (nothing is carried over from other runs).
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { HookBench } from "./hook.ts";

interface Dist {
  p50us?: number;
  p99us: number;
}
interface Result {
  commit: string;
  loadavg: { atStart: number[]; atEnd: number[] } | number[];
  hook: HookBench;
  policy: { neverSeen: { inProcess: Dist; http: Dist; ratioP99: number }; repeated: { inProcess: Dist; http: Dist; ratioP99: number } };
  approve: { p99ms: number };
  poller: { p99ms: number };
  post: { p50ms: number; p99ms: number; steadyBytesPerPending: number; steadyUsedMemoryPerPending: number };
  burst: { asks: number; pending: number; failedClosed: number; orphans: number; ms: number; bytesPerPending: number; bytesBreakdown: Record<string, number>; listLimit20Ms: number };
  cli: Array<{ command: string; p50ms: number }>;
}

const file = process.argv[2];
if (!file) throw new Error("usage: bench/readme-table.ts bench/results/<file>.json");
const r = JSON.parse(readFileSync(file, "utf8")) as Result;
const n = (x: number, digits = 1): string => (Math.round(x * 10 ** digits) / 10 ** digits).toLocaleString("en-US");
const us = (x: number): string => (x >= 1000 ? `${n(x / 1000, 2)} ms` : `${n(x)} µs`);
const d = (x: Dist): string => `p50 ${us(x.p50us ?? Number.NaN)}, p99 ${us(x.p99us)}`;
const h = r.hook;
const load = Array.isArray(r.loadavg) ? r.loadavg : r.loadavg.atStart;
const rows: string[][] = [
  [`hook: never-seen allowed calls, ${n(h.rules, 0)} rules, self-protection on`, d(h.neverSeenAllowed), `loopback HTTP p99 ${us(h.http.neverSeen.p99us)}`, `${n(h.ratios.neverSeenP99)}×`],
  ["hook: repeated allowed calls (decision cache)", d(h.repeatedAllowed), `loopback HTTP p99 ${us(h.http.repeated.p99us)}`, `${n(h.ratios.repeatedP99)}×`],
  ["hook: never-seen denied calls", d(h.neverSeenDenied), "", ""],
  ["hook: repeated denied calls", d(h.repeatedDenied), "", ""],
  ["hook: asked calls (approval created in Redis, then cancelled)", d(h.asked), "", ""],
  ["GC during 10,000 never-seen hook calls", `${h.neverSeenAllowed.gcCount} pauses, longest ${n(h.neverSeenAllowed.gcMaxMs)} ms, ${n(h.neverSeenAllowed.gcTotalMs)} ms in all`, "", ""],
  ["engine alone, no self-protection: never-seen / repeated", `p99 ${us(r.policy.neverSeen.inProcess.p99us)} / ${us(r.policy.repeated.inProcess.p99us)}`, `loopback HTTP p99 ${us(r.policy.neverSeen.http.p99us)} / ${us(r.policy.repeated.http.p99us)}`, `${n(r.policy.neverSeen.ratioP99)}× / ${n(r.policy.repeated.ratioP99)}×`],
  ["approve → waiting call resumes (serve signs, the gate verifies: Ed25519)", `p99 ${n(r.approve.p99ms)} ms (push)`, `500 ms poller p99 ${n(r.poller.p99ms, 0)} ms`, `${n(r.poller.p99ms / r.approve.p99ms, 0)}×`],
  ["ask → channel `post()` (event stream → serve → BullMQ)", `p50 ${n(r.post.p50ms)} ms, p99 ${n(r.post.p99ms)} ms`, "", ""],
  [`${n(r.burst.asks, 0)} asks at once from 100 sessions`, `${n(r.burst.pending, 0)} pending, ${r.burst.failedClosed} failed closed, ${r.burst.orphans} orphans, ${n(r.burst.ms / 1000)} s`, "", ""],
  ["Redis per pending approval, fresh (gate only)", `${n(r.burst.bytesPerPending, 0)} B (${Object.entries(r.burst.bytesBreakdown).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(", ")})`, "", ""],
  [
    "Redis per pending approval, steady (serve posted it)",
    `${n(r.post.steadyBytesPerPending, 0)} B of keys; ${r.post.steadyUsedMemoryPerPending > 0 ? `the server's used_memory grew ${n(r.post.steadyUsedMemoryPerPending, 0)} B per pending (connections and subscriptions included)` : "used_memory not measurable (other clients on the same Redis)"}`,
    "",
    "",
  ],
  ["`list --limit 20` with 10,000 pending", `${n(r.burst.listLimit20Ms)} ms`, "", ""],
  ...r.cli.map((c) => [`CLI cold start: \`clawgate ${c.command.replace(" (Redis)", "")}\`${c.command.endsWith("(Redis)") ? " (connects to Redis)" : ""}`, `p50 ${n(c.p50ms, 0)} ms`, "", ""]),
];
process.stdout.write(`Figures below: \`${basename(file)}\` (commit ${r.commit}), load average at its start ${load.map((x) => n(x, 2)).join(", ")} (1, 5, 15 min).\n\n`);
process.stdout.write("| measure | this gate | baseline (same run) | ratio |\n| --- | --- | --- | --- |\n");
for (const row of rows) process.stdout.write(`| ${row.join(" | ")} |\n`);
