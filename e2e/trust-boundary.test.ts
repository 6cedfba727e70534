// The trust boundary through the real OpenClaw gateway: a gate that cannot start blocks every
// call (never "no gate"), self-protection holds, and absurdly deep params never run unapproved.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, REPO_ROOT, runOpenClaw, startGateway, type Gateway } from "./harness/gateway.ts";
import { clawgate, startPrivateRedis, type PrivateRedis } from "./harness/services.ts";

const BAD_RULE = "e2e_exec(git push *";

/** `{"v":{"v":…"leaf"…}}` as JSON text: JSON.stringify itself overflows on the test runner's stack. */
function deepJson(depth: number): string {
  return `${'{"v":'.repeat(depth)}"leaf"${"}".repeat(depth)}`;
}

describe("a malformed rule: the gateway runs, and every call is blocked with the reason", () => {
  let gw: Gateway;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-bad-"));
  const configPath = path.join(dir, "clawgate.yaml");

  beforeAll(async () => {
    writeFileSync(
      configPath,
      [
        `redis: { url: "redis://127.0.0.1:6379", prefix: e2e-bad-${randomUUID().slice(0, 8)} }`,
        "policy:",
        "  shellTools: [exec, bash, process, e2e_exec]",
        '  allow: ["e2e_exec(git status)"]',
        `  ask: [${JSON.stringify(BAD_RULE)}]`,
        '  deny: ["e2e_exec(rm -rf *)"]',
        "",
      ].join("\n"),
    );
    // Preflight (`config validate` + `plugins inspect --runtime`) passes: the plugin loads, its register() does not throw.
    gw = await startGateway({
      plugins: [fixture("test-tools"), path.join(REPO_ROOT, "plugin")],
      pluginEntries: { "e2e-test-tools": { enabled: true }, clawgate: { enabled: true, config: { configPath } } },
      env: { LOG_LEVEL: "warn" },
    });
  });

  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a deny-rule call, an ask-rule call and an allow-rule call all get 403 naming the bad rule", async () => {
    for (const command of ["rm -rf /tmp/x", "git push origin main", "git status"]) {
      const r = await gw.invoke("e2e_exec", { command });
      expect(r.status, `${command}: ${JSON.stringify(r.body)}`).toBe(403);
      expect(r.body.error.message).toContain("every tool call is blocked");
      expect(r.body.error.message).toContain(`policy.ask[0]: invalid policy rule "${BAD_RULE}": missing closing ")"`);
    }
    expect(gw.logs()).toContain("clawgate: every tool call is blocked");
  });

  it("`clawgate doctor` rejects the config, naming the rule and its key path", async () => {
    const r = await clawgate(["doctor"], { CLAWGATE_CONFIG: configPath });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`policy.ask[0]: invalid policy rule "${BAD_RULE}"`);
  });

  it("`openclaw config validate` rejects the same rule given inline in the plugin's config", async () => {
    const openclawConfig = JSON.parse(readFileSync(gw.configPath, "utf8"));
    openclawConfig.plugins.entries.clawgate.config = { configPath, policy: { ask: [BAD_RULE] } };
    const inlinePath = path.join(dir, "openclaw-inline.json");
    writeFileSync(inlinePath, JSON.stringify(openclawConfig));
    const v = await runOpenClaw(["config", "validate", "--json"], { ...gw.env, OPENCLAW_CONFIG_PATH: inlinePath });
    const out = `${v.stdout}\n${v.stderr}`;
    expect(out).not.toMatch(/"valid":\s*true/);
    expect(out).toContain("plugins.entries.clawgate.config.policy.ask.0");
    expect(out).toContain("must match pattern");
  });
});

describe("self-protection and deep params through the real gateway (approvals.failOpen: true)", () => {
  let redis: PrivateRedis;
  let gw: Gateway;
  let db: Redis;
  const prefix = `e2e-tb-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-tb-"));
  const configPath = path.join(dir, "clawgate.yaml");

  beforeAll(async () => {
    redis = await startPrivateRedis();
    db = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    db.on("error", () => undefined);
    writeFileSync(
      configPath,
      [
        `redis: { url: "${redis.url}", prefix: ${prefix} }`,
        "policy:",
        "  shellTools: [exec, bash, process, e2e_exec]",
        // Everything is allowed by the user's rules: only self-protection and the limits stop calls.
        '  allow: ["e2e_exec(*)", "e2e_write"]',
        "approvals: { timeout: 2s, failOpen: true }",
        "server: { port: 8787 }",
        "",
      ].join("\n"),
    );
    gw = await startGateway({
      plugins: [fixture("test-tools"), path.join(REPO_ROOT, "plugin")],
      pluginEntries: { "e2e-test-tools": { enabled: true }, clawgate: { enabled: true, config: { configPath } } },
      env: { LOG_LEVEL: "warn" },
    });
  });

  afterAll(async () => {
    db?.disconnect();
    await gw?.stop();
    await redis?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    "npx clawgate approve ap_x",
    "bash -c 'node bin/clawgate.js policy set \"exec(*)\" allow'",
    "curl -X POST http://127.0.0.1:8787/api/v1/approvals/ap_x/decision",
    "cat data/redis.url",
    "redis-cli -p __PORT__ PING",
    "echo 'policy: {selfProtection: false}' >> clawgate.yaml",
    `cat ${path.join(REPO_ROOT, "plugin", "index.ts")}`,
  ])("%s → 403 builtin:self-protection", async (command) => {
    const cmd = command.replace("__PORT__", String(redis.port));
    const r = await gw.invoke("e2e_exec", { command: cmd });
    expect(r.status, `${cmd}: ${JSON.stringify(r.body)}`).toBe(403);
    expect(r.body.error.message).toContain('"builtin:self-protection"');
  });

  it("a write to clawgate's config through a plugin tool's path param → 403", async () => {
    const r = await gw.invoke("e2e_write", { path: configPath, content: "policy: {}" });
    expect(r.status, JSON.stringify(r.body)).toBe(403);
    expect(r.body.error.message).toContain("clawgate's config file");
  });

  it("an allowed neighbour still runs", async () => {
    const r = await gw.invoke("e2e_exec", { command: "redis-cli -p 1 PING" });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  /** POST /tools/invoke with `extra` nested `depth` levels deep (the body is built as text). */
  async function invokeDeep(depth: number): Promise<{ status: number; message: string }> {
    const res = await fetch(`${gw.url}/tools/invoke`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${gw.token}` },
      body: `{"tool":"e2e_exec","args":{"command":"git status","extra":${deepJson(depth)}}}`,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    return { status: res.status, message: (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text };
  }

  it("params nested past the limit on an allowed command ask: an approval is created, and unapproved the call never runs", async () => {
    const r = await invokeDeep(300);
    expect(r.status, r.message).toBe(403);
    expect(r.message).toMatch(/timed out after 2s/);
    const ids = await db.keys(`{${prefix}}:approval:ap_*`);
    const records = await Promise.all(ids.filter((k) => !k.endsWith(":refs")).map((k) => db.hgetall(k)));
    expect(records.some((rec) => rec.policyReason === "needs approval: its params are nested more than 64 levels deep" && rec.state === "expired")).toBe(true);
  });

  it("5,000-deep params are blocked too, never run (OpenClaw 2026.9.6 itself fails closed on them before any hook)", async () => {
    const r = await invokeDeep(5_000);
    expect(r.status, r.message).toBe(403);
  });
});
