import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

/**
 * Lua scripts live in ./lua as `verbNoun-<numberOfKeys>.lua` (BullMQ's convention); ioredis'
 * defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT, so a Redis restart that
 * flushed the script cache is handled transparently.
 */
const SCRIPTS = ["createApproval-3", "resolveApproval-5"] as const;
type ScriptName = (typeof SCRIPTS)[number];

const sources = new Map<ScriptName, string>(
  SCRIPTS.map((name) => [name, readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), "utf8")]),
);

const defined = new WeakSet<Redis>();

export function defineScripts(redis: Redis): void {
  if (defined.has(redis)) return;
  for (const name of SCRIPTS) {
    const [command, numberOfKeys] = name.split("-") as [string, string];
    redis.defineCommand(command, { numberOfKeys: Number(numberOfKeys), lua: sources.get(name) as string });
  }
  defined.add(redis);
}

type Arg = string | number;
export interface ScriptCommands {
  createApproval(k1: string, k2: string, k3: string, ...argv: Arg[]): Promise<number>;
  resolveApproval(k1: string, k2: string, k3: string, k4: string, k5: string, ...argv: Arg[]): Promise<Array<string | number>>;
}

export function scripts(redis: Redis): ScriptCommands {
  defineScripts(redis);
  return redis as unknown as ScriptCommands;
}
