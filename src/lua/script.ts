import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { LUA_SOURCES, type LuaName } from "./sources.generated.ts";

/** A Lua script bound to a connection; `run` sends EVALSHA and falls back to EVAL on NOSCRIPT. */
export interface LuaScript {
  readonly name: string;
  readonly sha: string;
  readonly numberOfKeys: number;
  run(keys: readonly string[], args: readonly (string | number | Buffer)[]): Promise<unknown>;
}

/**
 * Binds a `verbNoun-<keys>` script to `redis` (the key count is read from the name).
 *
 * Sources come from sources.generated.ts, not from the .lua files at run time: OpenClaw runs
 * plugin code from copies that carry code modules but not files read beside them.
 * No SCRIPT LOAD up front: EVALSHA falls back to EVAL on NOSCRIPT, which covers a Redis restart,
 * SCRIPT FLUSH, a failover to a replica that never saw the script, and cluster nodes alike.
 */
export function bindLuaScript(redis: Redis | Cluster, name: string, source: string): LuaScript {
  const match = /-(\d+)$/.exec(name);
  if (!match) throw new Error(`Lua script ${name} must be named verbNoun-<numberOfKeys>`);
  const numberOfKeys = Number(match[1]);
  const sha = createHash("sha1").update(source).digest("hex");
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

/** One of clawgate's own scripts, e.g. `loadLuaScript(redis, "approvals/resolveApproval-5")`. */
export function loadLuaScript(redis: Redis | Cluster, name: LuaName): LuaScript {
  return bindLuaScript(redis, name.split("/").pop() as string, LUA_SOURCES[name]);
}
