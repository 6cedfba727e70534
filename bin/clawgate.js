#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx, so there is no build step to forget.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
const code = await main(process.argv);
// Let stdout drain, then exit: open handles (Redis sockets) must not keep a CLI call alive.
process.stdout.write("", () => process.exit(code));
