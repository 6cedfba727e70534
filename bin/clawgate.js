#!/usr/bin/env node
// The `clawgate` command runs the compiled JavaScript in dist/ (`npm run build`; `npm install`,
// `npm start` and `npm test` build it first). Production never runs TypeScript at runtime.
import { existsSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";

// Node ≥ 22.1 caches compiled code between runs (a no-op on Node 20): faster cold starts.
module.enableCompileCache?.();

const dist = new URL("../dist/", import.meta.url);
const compiled = new URL("src/cli/main.js", dist);
if (!existsSync(compiled)) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  process.stderr.write(`clawgate: not built yet: run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
// Every command but `serve` and `doctor` runs the CLI bundle (dist/cli), the same code in a
// few files, which starts faster; a build without esbuild has none.
const bundle = new URL("cli/main.js", dist);
const { runsBundled } = await import(new URL("src/cli/argv.js", dist).href);
const { main } = await import((runsBundled(process.argv.slice(2)) && existsSync(bundle) ? bundle : compiled).href);
const code = await main(process.argv);
// Let stdout drain, then exit: open handles (Redis sockets) must not keep a CLI call alive.
// A closed terminal may never call back, hence the timer.
process.stdout.write("", () => process.exit(code));
setTimeout(() => process.exit(code), 2_000);
