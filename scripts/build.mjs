#!/usr/bin/env node
// Compiles src/, queue/, bots/ and templates/ to dist/ (tsconfig.build.json), which the
// `clawgate` bin, the package exports and the container run, then bundles the CLI into
// dist/cli/ for a faster cold start. Plain JavaScript so it works before anything is built.
// `--if-stale` skips the compile when no source changed since the last build (npm start /
// npm test / vitest call it on every run).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STAMP = join(ROOT, "dist", ".build-stamp");
const CLI_BUNDLE = join(ROOT, "dist", "cli");
/**
 * What the CLI bundle carries inside: the pure-JavaScript packages every command short of
 * `serve` and `doctor` needs. Loading them from one bundle instead of hundreds of files saves
 * about a third of `clawgate list`'s cold start. Every other dependency (BullMQ, the channel
 * SDKs, the mail stack, the shell parser, pino-pretty) stays external: loaded from
 * node_modules, and only by the command that uses it.
 */
const BUNDLED_PACKAGES = new Set(["commander", "ioredis", "luxon", "picomatch", "pino", "yaml", "zod"]);
const INPUTS = ["src", "queue", "bots", "templates"];

function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs; // a deleted or renamed file changes its folder's mtime
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

/** True when dist/ is missing or older than a source file, tsconfig or package.json. */
export function isStale() {
  const built = statSync(STAMP, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = Math.max(...INPUTS.map((d) => newest(join(ROOT, d))), newest(join(ROOT, "tsconfig.json")), newest(join(ROOT, "tsconfig.build.json")), newest(join(ROOT, "package.json")));
  return sources >= built;
}

function tscPath() {
  try {
    return createRequire(import.meta.url).resolve("typescript/bin/tsc");
  } catch {
    return null;
  }
}

/**
 * dist/src/cli/main.js and what it imports → dist/cli/main.js (ES modules, one chunk per
 * lazily loaded command), which bin/clawgate.js prefers for every command but `serve` and
 * `doctor`. Without esbuild (a production install) the CLI runs dist/src as it is.
 */
function bundleCli() {
  let esbuild;
  try {
    esbuild = createRequire(import.meta.url)("esbuild");
  } catch {
    process.stderr.write("build: esbuild is not installed; the CLI runs unbundled (slower start)\n");
    return;
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const external = Object.keys(pkg.dependencies ?? {})
    .filter((name) => !BUNDLED_PACKAGES.has(name))
    .flatMap((name) => [name, `${name}/*`]);
  esbuild.buildSync({
    entryPoints: [join(ROOT, "dist", "src", "cli", "main.js")],
    outdir: CLI_BUNDLE,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external,
    // Bundled CommonJS (ioredis, pino) calls require() for Node's own modules.
    banner: { js: 'import { createRequire as __clawgateCreateRequire } from "node:module"; const require = __clawgateCreateRequire(import.meta.url);' },
    logLevel: "warning",
  });
}

export function build() {
  const tsc = tscPath();
  if (!tsc) {
    // A production install (`npm install --omit=dev`) has no compiler: keep a dist/ built before.
    if (statSync(join(ROOT, "dist", "src", "cli", "main.js"), { throwIfNoEntry: false })) {
      process.stderr.write("build: TypeScript is not installed (production install); using the existing dist/\n");
      return;
    }
    throw new Error("dist/ is missing and TypeScript is not installed: run `npm install` with dev dependencies, then `npm run build`");
  }
  // A bundle must never outlive the build it came from: without one, bin/clawgate.js runs
  // dist/src (so a failed compile leaves no stale bundle behind).
  rmSync(CLI_BUNDLE, { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit", cwd: ROOT });
  bundleCli();
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

export function ensureBuilt() {
  if (isStale()) build();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    if (process.argv.includes("--if-stale")) ensureBuilt();
    else build();
  } catch (err) {
    // tsc prints its own errors; anything else is ours.
    if (!(err && typeof err === "object" && "status" in err)) process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
