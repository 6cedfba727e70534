// The gate fails closed on what it cannot read: a misspelt top-level config key blocks every call
// naming it (instead of running an empty default policy), and runtime rules that cannot be loaded
// when the gateway starts block every call until they load (a runtime deny never silently vanishes).
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, REPO_ROOT, startGateway, type Gateway } from "./harness/gateway.ts";
import { clawgate, newAdminSecret, startPrivateRedis, startServe, type ClawgateServe, type PrivateRedis } from "./harness/services.ts";

const plugins = [fixture("test-tools"), path.join(REPO_ROOT, "plugin")];

describe("a misspelt top-level key in the gateway's config", () => {
  let gw: Gateway;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-typo-"));
  const configPath = path.join(dir, "clawgate.yaml");

  beforeAll(async () => {
    writeFileSync(
      configPath,
      [
        `redis: { url: "redis://127.0.0.1:6379", prefix: e2e-typo-${randomUUID().slice(0, 8)} }`,
        "polcy:",
        "  shellTools: [exec, bash, process, e2e_exec]",
        '  deny: ["e2e_exec(rm -rf *)"]',
        "",
      ].join("\n"),
    );
    gw = await startGateway({ plugins, pluginEntries: { "e2e-test-tools": { enabled: true }, clawgate: { enabled: true, config: { configPath } } }, env: { LOG_LEVEL: "warn" } });
  });
  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("blocks every call, naming the key, instead of running an empty policy", async () => {
    for (const command of ["rm -rf /", "ls"]) {
      const r = await gw.invoke("e2e_exec", { command });
      expect(r.status, command).toBe(403);
      expect(r.body.error.message).toContain("every tool call is blocked");
      expect(r.body.error.message).toContain('unknown key(s) "polcy"');
    }
  });
});

describe("runtime rules that cannot be loaded when the gateway starts", () => {
  let redis: PrivateRedis;
  let serve: ClawgateServe;
  let gw: Gateway | undefined;
  let db: Redis;
  const adminToken = newAdminSecret();
  const prefix = `e2e-rules-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-rules-"));
  const configPath = path.join(dir, "clawgate.yaml");

  beforeAll(async () => {
    redis = await startPrivateRedis();
    db = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    db.on("error", () => undefined);
    writeFileSync(
      configPath,
      [
        `redis: { url: "\${REDIS_URL}", prefix: ${prefix}, commandTimeout: 1s }`,
        "policy:",
        "  shellTools: [exec, bash, process, e2e_exec]",
        '  allow: ["e2e_exec(git status)", "e2e_exec(ls *)"]',
        "log: { enabled: false }",
        `server: { apiToken: "${adminToken}" }`,
        "",
      ].join("\n"),
    );
    serve = await startServe(configPath, redis.url);
    const admin = { REDIS_URL: redis.url, CLAWGATE_CONFIG: configPath, CLAWGATE_URL: serve.url, CLAWGATE_TOKEN: adminToken, XDG_CONFIG_HOME: path.join(dir, "xdg") };
    // A runtime deny of a command the config allows.
    const set = await clawgate(["policy", "set", "e2e_exec(git status)", "deny"], admin);
    expect(set.code, set.stderr).toBe(0);
    await serve.stop();
    // Kept across the restart below (the private Redis persists nothing by itself).
    await db.save();
  });

  afterAll(async () => {
    db?.disconnect();
    await gw?.stop();
    await serve?.stop();
    await redis?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("blocks every call with the reason while Redis is down, then applies the runtime deny once it loads", async () => {
    await redis.stop();
    gw = await startGateway({ plugins, pluginEntries: { "e2e-test-tools": { enabled: true }, clawgate: { enabled: true, config: { configPath } } }, env: { REDIS_URL: redis.url, LOG_LEVEL: "warn" } });
    for (const command of ["git status", "ls /tmp"]) {
      const r = await gw.invoke("e2e_exec", { command });
      expect(r.status, command).toBe(403);
      expect(r.body.error.message).toContain("runtime rules could not be loaded");
    }
    await redis.start();
    const gateway = gw;
    await expect.poll(async () => (await gateway.invoke("e2e_exec", { command: "ls /tmp" })).status, { timeout: 15_000, interval: 200 }).toBe(200);
    const denied = await gateway.invoke("e2e_exec", { command: "git status" });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain('blocked by policy rule "e2e_exec(git status)"');
  });
});
