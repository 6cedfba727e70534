#!/usr/bin/env node
// `npm run lint:layers` (part of `npm test`): the import rules of clawgate's layers.
//
// 1. dependency-cruiser's rules in .dependency-cruiser.cjs (no module cycles, channel specs import
//    only leaves, src/ reaches bots/ only through specs and the composition roots).
// 2. No folder cycles, checked here on dependency-cruiser's module graph (type-only imports
//    included): every module belongs to the node of its own directory — exactly that directory,
//    not its parents — except the channel declaration layer: bots/spec.ts, bots/specs.ts and every
//    bots/<name>/spec.ts form the node "bots (specs)" (a channel's spec is the part of it the core
//    reads; it loads without the channel's SDK). A spec's dynamic `load`/`doctor` import of its
//    own folder is the channel's plug-in point and is left out. Any strongly connected component
//    of more than one node fails, with the file imports behind each folder edge in it.
//
// Why exact folders: dependency-cruiser's `scope: "folder"` is hierarchical ("src" stands for
// everything below it), which makes any composition root inside src/ (src/server/serve.ts loading
// bots/registry.ts) a cycle. There is no baseline: every violation fails.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIRS = ["src", "bots", "queue", "templates", "plugin"];
const SPEC = /^bots\/(spec|specs|[^/]+\/spec)\.ts$/;

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

// 1. dependency-cruiser's own rules.
const comments = new Map(result.summary.ruleSetUsed.forbidden.map((r) => [r.name, r.comment]));
const ruleErrors = result.summary.violations.filter((v) => v.rule.severity === "error");
for (const v of ruleErrors) {
  const cycle = v.cycle?.length ? `\n    cycle: ${v.from} → ${v.cycle.map((c) => c.name ?? c).join(" → ")}` : "";
  process.stdout.write(`error ${v.rule.name}: ${v.from} → ${v.to}${cycle}\n    ${comments.get(v.rule.name) ?? ""}\n`);
}

// 2. Folder cycles.
const nodeOf = (path) => (SPEC.test(path) ? "bots (specs)" : dirname(path));
const ours = (path) => DIRS.some((d) => path.startsWith(`${d}/`));
/** node → node → the file imports behind that edge */
const edges = new Map();
for (const m of result.modules) {
  if (!ours(m.source)) continue;
  for (const d of m.dependencies) {
    if (d.coreModule || d.couldNotResolve || !ours(d.resolved)) continue;
    if (d.dynamic && SPEC.test(m.source)) continue; // a spec's `load`/`doctor`: the plug-in point
    const [a, b] = [nodeOf(m.source), nodeOf(d.resolved)];
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    const to = edges.get(a);
    if (!to.has(b)) to.set(b, new Map());
    // one line per file pair: "(type)" when every import between them is type-only
    const pair = `${m.source} → ${d.resolved}`;
    const typeOnly = Boolean(d.dependencyTypes?.includes("type-only"));
    to.get(b).set(pair, (to.get(b).get(pair) ?? true) && typeOnly);
  }
}
for (const to of [...edges.values()]) for (const b of to.keys()) if (!edges.has(b)) edges.set(b, new Map());

// Tarjan's strongly connected components.
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const sccs = [];
let next = 0;
function visit(v) {
  index.set(v, next);
  low.set(v, next++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v).keys()) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) === index.get(v)) {
    const scc = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) sccs.push(scc.sort());
  }
}
for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);

/** The shortest cycles through the component (one per folder, breadth-first, deduplicated), shortest first. */
function shortestCycles(scc) {
  const found = new Map();
  for (const start of scc) {
    const prev = new Map([[start, null]]);
    const queue = [start];
    let cycle = null;
    while (queue.length > 0 && !cycle) {
      const v = queue.shift();
      for (const w of edges.get(v).keys()) {
        if (!scc.includes(w)) continue;
        if (w === start) {
          cycle = [];
          for (let at = v; at !== null; at = prev.get(at)) cycle.unshift(at);
          break;
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    if (!cycle) continue;
    const first = cycle.indexOf([...cycle].sort()[0]);
    const canonical = [...cycle.slice(first), ...cycle.slice(0, first)];
    found.set(canonical.join("\0"), canonical);
  }
  return [...found.values()].sort((x, y) => x.length - y.length);
}

for (const scc of sccs) {
  process.stdout.write(`error no-folder-cycle: ${scc.length} folders import each other: ${scc.join(", ")}\n`);
  for (const cycle of shortestCycles(scc).slice(0, 10)) process.stdout.write(`  cycle: ${[...cycle, cycle[0]].join(" → ")}\n`);
  process.stdout.write("  the file imports behind each folder import in it:\n");
  for (const a of scc)
    for (const [b, why] of edges.get(a))
      if (scc.includes(b)) process.stdout.write(`    ${a} → ${b}:\n${[...why].map(([pair, typeOnly]) => `      ${pair}${typeOnly ? " (type)" : ""}\n`).join("")}`);
  process.stdout.write("  Folders form layers (see .dependency-cruiser.cjs): change one of the imports above, e.g. move the shared piece into a folder below both.\n");
}

const failures = ruleErrors.length + sccs.length;
const folders = edges.size;
process.stdout.write(
  `${failures ? "✘" : "✔"} ${result.summary.totalCruised} modules in ${folders} folders cruised: ${ruleErrors.length} rule violation(s), ${sccs.length} folder cycle(s)\n`,
);
process.exit(failures ? 1 : 0);
