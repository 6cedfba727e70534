import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const INCLUDE = /^--\s*@include\s+"([^"]+)"\s*$/gm;

/**
 * A Lua file with its `-- @include "includes/x.lua"` lines replaced by those files (resolved
 * relative to the including file, each at most once). Used at build time by scripts/gen-lua.ts.
 */
export function readLuaSource(path: string, included = new Set<string>()): string {
  included.add(path);
  const text = readFileSync(path, "utf8");
  return text.replace(INCLUDE, (_line, rel: string) => {
    const target = resolve(dirname(path), rel);
    return included.has(target) ? "" : readLuaSource(target, included);
  });
}
