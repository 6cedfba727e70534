// `npm run bench`: policy decision latency, approve → hook-return latency on loopback Redis,
// and the built CLI's cold start (`prebench` builds dist/ first).
import { benchApproval } from "./approval.ts";
import { benchCli } from "./cli.ts";
import { benchPolicy } from "./policy.ts";
import { benchAskToPost } from "./post.ts";

const policy = await benchPolicy();
process.stdout.write("policy decision (warm), per call:\n");
for (const row of policy) {
  process.stdout.write(`  ${String(row.rules).padStart(5)} rules  p50 ${row.p50us.toFixed(1)} µs  p99 ${row.p99us.toFixed(1)} µs${row.coldP99us !== undefined ? `  (cold-parse p99 ${row.coldP99us.toFixed(1)} µs)` : ""}\n`);
}
const a = await benchApproval();
process.stdout.write(`approve → waiting hook returns (${a.n} runs, loopback Redis):\n  p50 ${a.p50ms.toFixed(2)} ms  p99 ${a.p99ms.toFixed(2)} ms  max ${a.maxms.toFixed(2)} ms\n`);
const p = await benchAskToPost();
process.stdout.write(`ask → channel post() through the event stream and serve (${p.n} runs):\n  p50 ${p.p50ms.toFixed(2)} ms  p99 ${p.p99ms.toFixed(2)} ms  max ${p.maxms.toFixed(2)} ms\n`);
const cli = benchCli();
process.stdout.write(`CLI cold start (node bin/clawgate.js …, a new process per run):\n`);
for (const row of cli) process.stdout.write(`  ${row.command.padEnd(22)} p50 ${row.p50ms.toFixed(0)} ms  p99 ${row.p99ms.toFixed(0)} ms  min ${row.minms.toFixed(0)} ms  (${row.n} runs)\n`);
const policyOk = policy.every((r) => r.rules !== 1000 || r.p99us <= 50);
const cliOk = cli.every((r) => r.p50ms <= 300);
process.stdout.write(
  `targets: policy p99 ≤ 50 µs at 1,000 rules: ${policyOk ? "met" : "MISSED"}; approve→return p99 ≤ 10 ms: ${a.p99ms <= 10 ? "met" : "MISSED"}; ask→post() p99 ≤ 25 ms: ${p.p99ms <= 25 ? "met" : "MISSED"}; CLI cold start p50 ≤ 300 ms: ${cliOk ? "met" : "MISSED"}\n`,
);
process.exit(0);
