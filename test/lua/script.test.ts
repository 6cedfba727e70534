import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateLuaModule } from "../../src/lua/generate.ts";
import { readLuaSource } from "../../src/lua/expand.ts";
import { bindLuaScript } from "../../src/lua/script.ts";
import { connect } from "../helpers/redis.ts";
import { readFileSync } from "node:fs";

let redis: Redis;
let dir: string;

beforeEach(async () => {
  redis = connect();
  dir = await mkdtemp(join(tmpdir(), "clawgate-lua-"));
});

afterEach(async () => {
  redis.disconnect();
  await rm(dir, { recursive: true, force: true });
});

describe("Lua scripts", () => {
  it("expands includes once, reads the key count from the name, and falls back to EVAL on NOSCRIPT", async () => {
    await mkdir(join(dir, "includes"));
    // A unique body guarantees the server has never cached this sha, so the first run hits NOSCRIPT.
    await writeFile(join(dir, "includes", "greet.lua"), `local function greet(x) return "hi " .. x .. " ${randomUUID()}" end\n`);
    await writeFile(
      join(dir, "echoKey-1.lua"),
      '-- @include "includes/greet.lua"\n-- @include "includes/greet.lua"\nreturn greet(KEYS[1] .. ARGV[1])\n',
    );
    const script = bindLuaScript(redis, "echoKey-1", readLuaSource(join(dir, "echoKey-1.lua")));
    expect(script.numberOfKeys).toBe(1);
    expect(await redis.script("EXISTS", script.sha)).toEqual([0]);

    expect(await script.run(["k"], ["!"])).toMatch(/^hi k! /);
    expect(await redis.script("EXISTS", script.sha)).toEqual([1]);
    expect(await script.run(["k"], ["?"])).toMatch(/^hi k\? /);
    await expect(script.run([], [])).rejects.toThrow(/takes 1 keys/);
  });

  it("refuses a file not named verbNoun-<keys>.lua", () => {
    expect(() => bindLuaScript(redis, "bad", "return 1")).toThrow(/verbNoun-<numberOfKeys>/);
  });

  it("sources.generated.ts is current (run `npm run gen:lua` after editing a .lua file)", () => {
    const committed = readFileSync(new URL("../../src/lua/sources.generated.ts", import.meta.url), "utf8");
    expect(committed).toBe(generateLuaModule());
  });
});
