// Regenerates src/lua/codes.lua from the ScriptCode enum, then src/lua/sources.generated.ts from
// src/*/lua/*.lua (includes expanded). Tests fail when either is stale: run `npm run gen:lua`
// after editing a .lua file or src/lua/codes.ts.
import { writeFileSync } from "node:fs";
import { codesLua } from "../src/lua/codes.ts";
import { generateLuaModule } from "../src/lua/generate.ts";

const codes = new URL("../src/lua/codes.lua", import.meta.url);
writeFileSync(codes, codesLua());
process.stdout.write(`wrote ${codes.pathname}\n`);
const target = new URL("../src/lua/sources.generated.ts", import.meta.url);
writeFileSync(target, generateLuaModule());
process.stdout.write(`wrote ${target.pathname}\n`);
