import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Cluster, Redis } from "ioredis";

/** A Lua script bound to a connection; `run` sends EVALSHA and falls back to EVAL on NOSCRIPT. */
export interface LuaScript {
  readonly name: string;
  readonly sha: string;
  readonly numberOfKeys: number;
  run(keys: readonly string[], args: readonly (string | number | Buffer)[]): Promise<unknown>;
}

const INCLUDE = /^--\s*@include\s+"([^"]+)"\s*$/gm;
const sourceCache = new Map<string, { source: string; sha: string }>();

/**
 * Loads a `verbNoun-<keys>.lua` script (the key count is read from the file name) and binds it
 * to `redis`. `-- @include "includes/x.lua"` lines are replaced by that file, resolved relative
 * to the including file, each file at most once. Files are read synchronously, once per process.
 *
 * No SCRIPT LOAD up front: EVALSHA falls back to EVAL on NOSCRIPT, which covers a Redis restart,
 * SCRIPT FLUSH, a failover to a replica that never saw the script, and cluster nodes alike.
 */
export function loadLuaScript(redis: Redis | Cluster, name: string, file: string | URL): LuaScript {
  const path = typeof file === "string" ? file : fileURLToPath(file);
  const match = /-(\d+)\.lua$/.exec(path);
  if (!match) throw new Error(`Lua script ${path} must be named verbNoun-<numberOfKeys>.lua`);
  const numberOfKeys = Number(match[1]);
  let cached = sourceCache.get(path);
  if (!cached) {
    const source = expandIncludes(path, new Set());
    cached = { source, sha: createHash("sha1").update(source).digest("hex") };
    sourceCache.set(path, cached);
  }
  const { source, sha } = cached;

  return {
    name,
    sha,
    numberOfKeys,
    async run(keys, args) {
      if (keys.length !== numberOfKeys) {
        throw new Error(`Lua script ${name} takes ${numberOfKeys} keys, got ${keys.length}`);
      }
      try {
        return await redis.evalsha(sha, numberOfKeys, ...keys, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
        // EVAL also caches the script, so the next call's EVALSHA hits.
        return await redis.eval(source, numberOfKeys, ...keys, ...args);
      }
    },
  };
}

function expandIncludes(path: string, included: Set<string>): string {
  included.add(path);
  const text = readFileSync(path, "utf8");
  return text.replace(INCLUDE, (_line, rel: string) => {
    const target = resolve(dirname(path), rel);
    return included.has(target) ? "" : expandIncludes(target, included);
  });
}
