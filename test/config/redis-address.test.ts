import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConfig, loadConfig } from "../../src/config/load.ts";
import { describeRedisAddress, resolveRedisAddress } from "../../src/config/redis-address.ts";
import { embeddedDataDir } from "../../src/redis/data-dir.ts";
import { RedisNotConfiguredError } from "../../src/errors.ts";

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "cg-addr-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe("resolveRedisAddress", () => {
  it("takes redis.url from the config file", () => {
    const dir = dirWith({ "clawgate.yaml": "redis: { url: redis://cfg-host:6379 }\n", "data/redis.url": "redis://127.0.0.1:7001\n" });
    const { config, source } = loadConfig({ cwd: dir, env: {} });
    expect(resolveRedisAddress(config, { configSource: source, env: {}, cwd: dir })).toEqual({ url: "redis://cfg-host:6379", source: "config" });
  });

  it("says REDIS_URL when the environment set it (it overrides redis.url)", () => {
    const dir = dirWith({ "clawgate.yaml": 'redis: { url: "${REDIS_URL}" }\n' });
    const env = { REDIS_URL: "redis://env-host:6380" };
    const { config, source } = loadConfig({ cwd: dir, env });
    expect(resolveRedisAddress(config, { configSource: source, env, cwd: dir })).toEqual({ url: "redis://env-host:6380", source: "REDIS_URL" });
    const overridden = loadConfig({ cwd: dirWith({ "clawgate.yaml": "redis: { url: redis://cfg:1 }\n" }), env });
    expect(resolveRedisAddress(overridden.config, { configSource: overridden.source, env }).source).toBe("REDIS_URL");
    // A config built without the env (e.g. in a test) still honours REDIS_URL before the embedded file.
    expect(resolveRedisAddress(buildConfig({}, {}), { configSource: null, env, cwd: dir })).toEqual({ url: "redis://env-host:6380", source: "REDIS_URL" });
  });

  it("uses the embedded instance's address file next to the config file, wherever the process runs", () => {
    const dir = dirWith({ "etc/clawgate.yaml": 'redis: { url: "${REDIS_URL}" }\n', "etc/data/redis.url": "redis://127.0.0.1:7002\n" });
    const elsewhere = dirWith({});
    const { config, source } = loadConfig({ path: join(dir, "etc/clawgate.yaml"), cwd: elsewhere, env: {} });
    const address = resolveRedisAddress(config, { configSource: source, env: {}, cwd: elsewhere });
    expect(address).toEqual({ url: "redis://127.0.0.1:7002", source: `embedded:${join(dir, "etc", "data", "redis.url")}` });
    expect(describeRedisAddress(address)).toBe(`redis://127.0.0.1:7002 (from embedded:${join(dir, "etc", "data", "redis.url")})`);
  });

  it("looks in the working directory's data/ when there is no config file", () => {
    const dir = dirWith({ "data/redis.url": "redis://127.0.0.1:7003\n" });
    expect(embeddedDataDir({ configSource: null, cwd: dir })).toBe(join(dir, "data"));
    expect(resolveRedisAddress(buildConfig({}, {}), { configSource: null, env: {}, cwd: dir }).url).toBe("redis://127.0.0.1:7003");
  });

  it("throws a catalogue error that says how to set an address, instead of guessing 127.0.0.1:6379", () => {
    const dir = dirWith({ "clawgate.yaml": "policy: { mode: default }\n", "data/redis.url": "not a url\n" });
    const { config, source } = loadConfig({ cwd: dir, env: {} });
    let error: unknown;
    try {
      resolveRedisAddress(config, { configSource: source, env: {}, cwd: dir });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RedisNotConfiguredError);
    const message = (error as Error).message;
    expect(message).toContain(`redis.url is empty in ${join(dir, "clawgate.yaml")}`);
    expect(message).toContain("Set REDIS_URL=redis://HOST:6379 or redis.url");
    expect(message).toContain("npm start");
  });

  it("masks a password in descriptions", () => {
    expect(describeRedisAddress({ url: "redis://:s3cret@redis:6379", source: "REDIS_URL" })).toBe("redis://***@redis:6379 (from REDIS_URL)");
  });
});
