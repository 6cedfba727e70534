// Regenerates src/lua/sources.generated.ts from src/*/lua/*.lua (includes expanded).
// A test fails when it is stale: run `npm run gen:lua` after editing a .lua file.
import { writeFileSync } from "node:fs";
import { generateLuaModule } from "../src/lua/generate.ts";

const target = new URL("../src/lua/sources.generated.ts", import.meta.url);
writeFileSync(target, generateLuaModule());
process.stdout.write(`wrote ${target.pathname}\n`);
