#!/usr/bin/env node
// `npm run lint:layers` (part of `npm test`): the import rules in .dependency-cruiser.cjs, with
// the violations listed in .dependency-cruiser-known-violations.json let through, so that only
// new ones fail. dependency-cruiser's own --ignore-known skips known module violations but not
// folder-level ones (17.x), so the comparison is made here, by rule, from and to, for both.
// `npm run lint:layers:baseline` rewrites the list; it should only ever shrink.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIRS = ["src", "bots", "queue", "templates", "plugin"];
const KNOWN = join(ROOT, ".dependency-cruiser-known-violations.json");

const run = spawnSync(join(ROOT, "node_modules", ".bin", "depcruise"), [...DIRS, "--config", ".dependency-cruiser.cjs", "--output-type", "json"], {
  cwd: ROOT,
  encoding: "utf8",
  maxBuffer: 256 * 1024 * 1024,
});
if (!run.stdout) {
  process.stderr.write(run.stderr || `depcruise exited with ${run.status}\n`);
  process.exit(2);
}
const result = JSON.parse(run.stdout);
const key = (v) => `${v.rule.name}\0${v.from}\0${v.to}`;
let known = [];
try {
  known = JSON.parse(readFileSync(KNOWN, "utf8"));
} catch {
  // no baseline: every violation counts
}
const knownKeys = new Set(known.map(key));
const found = result.summary.violations.filter((v) => v.rule.severity === "error");
const fresh = found.filter((v) => !knownKeys.has(key(v)));
const foundKeys = new Set(found.map(key));
const gone = [...knownKeys].filter((k) => !foundKeys.has(k)).length;

const comments = new Map(result.summary.ruleSetUsed.forbidden.map((r) => [r.name, r.comment]));
for (const v of fresh) {
  const cycle = v.cycle?.length ? `\n    cycle: ${v.from} → ${v.cycle.map((c) => c.name ?? c).join(" → ")}` : "";
  process.stdout.write(`error ${v.rule.name}: ${v.from} → ${v.to}${cycle}\n    ${comments.get(v.rule.name) ?? ""}\n`);
}
const summary = `${result.summary.totalCruised} modules cruised: ${fresh.length} new violation(s), ${found.length - fresh.length} known (.dependency-cruiser-known-violations.json)`;
process.stdout.write(`${fresh.length ? "✘" : "✔"} ${summary}\n`);
if (gone > 0) process.stdout.write(`  ${gone} known violation(s) are gone: run \`npm run lint:layers:baseline\` to shrink the list\n`);
process.exit(fresh.length ? 1 : 0);
