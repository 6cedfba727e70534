// `npm run bench`: every figure of the README "Performance" section, with its baseline measured
// in the same run; prints one summary table and writes it as JSON to bench/results/.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { benchApproval } from "./approval.ts";
import { benchBurst } from "./burst.ts";
import { benchCli } from "./cli.ts";
import { benchHook } from "./hook.ts";
import { benchPolicyCompare } from "./policy-compare.ts";
import { benchPoller } from "./poller.ts";
import { benchAskToPost } from "./post.ts";
import { benchRedact } from "./redact.ts";

const loadAtStart = loadavg();
// First, on a quiet process: the policy where it runs, through the plugin's hook.
const hook = await benchHook();
const policy = await benchPolicyCompare();
const approve = await benchApproval(200);
const poller = await benchPoller();
const post = await benchAskToPost(200);
const burst = await benchBurst(10_000, 100);
const cli = benchCli();
const redaction = benchRedact();

const r1 = (x: number): string => (Number.isFinite(x) ? (Math.round(x * 10) / 10).toString() : String(x));
const growth10 = policy.growth[0];
const growthTop = policy.growth[policy.growth.length - 1];
const d = (x: { p50us: number; p99us: number }): string => `p50 ${r1(x.p50us)} µs, p99 ${r1(x.p99us)} µs`;
const rows: Array<[string, string, string, string]> = [
  ["hook, never-seen allowed (1,000 rules, self-protection)", d(hook.neverSeenAllowed), `loopback HTTP p99 ${r1(hook.http.neverSeen.p99us)} µs`, `${r1(hook.ratios.neverSeenP99)}×`],
  ["hook, repeated allowed", d(hook.repeatedAllowed), `loopback HTTP p99 ${r1(hook.http.repeated.p99us)} µs`, `${r1(hook.ratios.repeatedP99)}×`],
  ["hook, never-seen denied", d(hook.neverSeenDenied), "", ""],
  ["hook, repeated denied", d(hook.repeatedDenied), "", ""],
  ["hook, asked (approval created and cancelled)", d(hook.asked), `n ${hook.asked.n}`, ""],
  ["  GC during 10,000 never-seen hook calls", `${hook.neverSeenAllowed.gcCount} pauses, longest ${r1(hook.neverSeenAllowed.gcMaxMs)} ms`, `${r1(hook.neverSeenAllowed.gcTotalMs)} ms in all`, ""],
  ["engine alone (no self-protection), repeated, 1,000 rules", `p99 ${r1(policy.repeated.inProcess.p99us)} µs in-process`, `p99 ${r1(policy.repeated.http.p99us)} µs loopback HTTP`, `${r1(policy.repeated.ratioP99)}×`],
  ["engine alone (no self-protection), never-seen", `p99 ${r1(policy.neverSeen.inProcess.p99us)} µs (p50 ${r1(policy.neverSeen.inProcess.p50us)})`, `p99 ${r1(policy.neverSeen.http.p99us)} µs loopback HTTP`, `${r1(policy.neverSeen.ratioP99)}×`],
  ["  GC during 10,000 never-seen", `${policy.neverSeen.gcCount} pauses, max ${r1(policy.neverSeen.gcMaxMs)} ms`, `lexer took ${policy.neverSeen.lexed}/10,000`, ""],
  ["approve → waiting call resumes", `p99 ${r1(approve.p99ms)} ms push`, `p99 ${r1(poller.p99ms)} ms 500 ms poller`, `${r1(poller.p99ms / approve.p99ms)}×`],
  ["ask → channel post()", `p99 ${r1(post.p99ms)} ms`, `p50 ${r1(post.p50ms)} ms`, ""],
  ["burst: 10,000 asks from 100 sessions", `${burst.pending} pending, ${burst.failedClosed} failed closed`, `${burst.ms} ms, ${burst.orphans} orphans`, ""],
  ["Redis bytes per pending, fresh (gate only)", `${burst.bytesPerPending} B`, Object.entries(burst.bytesBreakdown).map(([k, v]) => (v ? `${k} ${v}` : k)).join(", "), ""],
  ["Redis bytes per pending, steady (serve posted it)", `${post.steadyBytesPerPending} B keys, ${post.steadyUsedMemoryPerPending} B used_memory`, Object.entries(post.steadyBreakdown).map(([k, v]) => `${k} ${v}`).join(", "), ""],
  ["redaction per KB: never-seen lines / 8 KB blocks", `${r1(redaction.cleanLinesUsPerKb)} µs / ${r1(redaction.cleanBlocksUsPerKb)} µs`, `lines with a secret ${r1(redaction.secretLinesUsPerKb)} µs`, `line p99 ${r1(redaction.cleanLineP99us)} µs`],
  ["list --limit 20 with 10,000 pending", `${r1(burst.listLimit20Ms)} ms`, "", ""],
  ...cli.map((c): [string, string, string, string] => [`CLI cold start: ${c.command}`, `p50 ${r1(c.p50ms)} ms`, `p99 ${r1(c.p99ms)} ms`, `n ${c.n}`]),
  ...policy.growth.map((g): [string, string, string, string] => [`rules growth: ${g.rules} rules (p99 µs)`, `exec ${r1(g.execP99us)}`, `file ${r1(g.fileP99us)}`, `web ${r1(g.webP99us)}`]),
  ["rules growth 10,000 vs 10 (p99 ratio)", `exec ${r1((growthTop?.execP99us ?? 0) / (growth10?.execP99us ?? 1))}×`, `file ${r1((growthTop?.fileP99us ?? 0) / (growth10?.fileP99us ?? 1))}×`, `web ${r1((growthTop?.webP99us ?? 0) / (growth10?.webP99us ?? 1))}×`],
  ...Object.entries(policy.parsers).map(([name, d]): [string, string, string, string] => [`parser: ${name}`, typeof d === "string" ? d : `p50 ${r1(d.p50us)} µs`, typeof d === "string" ? "" : `p99 ${r1(d.p99us)} µs`, typeof d === "string" ? "" : `n ${d.n}`]),
];
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")}\n`);
process.stdout.write(`load average (1, 5, 15 min) at start ${loadAtStart.map(r1).join(" ")}, at end ${loadavg().map(r1).join(" ")}\n`);

let commit = "unknown";
try {
  commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
} catch {
  // Not a checkout: the date alone names the file.
}
const date = new Date().toISOString().slice(0, 10);
const dir = join(import.meta.dirname, "results");
mkdirSync(dir, { recursive: true });
// Runs of one commit are kept side by side: -2, -3… after the first.
let file = join(dir, `${date}-${commit}.json`);
for (let n = 2; existsSync(file); n++) file = join(dir, `${date}-${commit}-${n}.json`);
const load = { atStart: loadAtStart, atEnd: loadavg() };
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), commit, loadavg: load, hook, policy, approve, poller, post, burst, cli, redaction }, null, 2)}\n`);
process.stdout.write(`written to ${file}\n`);
process.exit(0);
