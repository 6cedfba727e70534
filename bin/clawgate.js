#!/usr/bin/env node
// The `clawgate` command runs the compiled JavaScript in dist/ (`npm run build`; `npm install`,
// `npm start` and `npm test` build it first). Production never runs TypeScript at runtime.
import { existsSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";

// Node ≥ 22.1 caches compiled code between runs (a no-op on Node 20): faster cold starts.
module.enableCompileCache?.();

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  process.stderr.write(`clawgate: not built yet: run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv);
// Let stdout drain, then exit: open handles (Redis sockets) must not keep a CLI call alive.
// A closed terminal may never call back, hence the timer.
process.stdout.write("", () => process.exit(code));
setTimeout(() => process.exit(code), 2_000);
