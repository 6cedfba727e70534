import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pluginManifest } from "../../src/config/json-schema.ts";
import { buildConfig, loadConfig } from "../../src/config/load.ts";
import { ClawgateError } from "../../src/errors.ts";

const fixture = new URL("../fixtures/acceptance.yaml", import.meta.url).pathname;

function errorOf(fn: () => unknown): ClawgateError {
  try {
    fn();
  } catch (err) {
    return err as ClawgateError;
  }
  throw new Error("expected an error");
}

describe("config", () => {
  it("accepts the acceptance file as it is", () => {
    const { config, source } = loadConfig({ path: fixture, env: { REDIS_URL: "redis://10.0.0.1:6380" } });
    expect(source).toBe(fixture);
    expect(config.redis).toMatchObject({ url: "redis://10.0.0.1:6380", prefix: "clawgate" });
    expect(config.policy.deny).toEqual(["exec(rm -rf *)", "exec(curl * | sh)"]);
    expect(config.approvals.timeout).toBe(120_000);
    expect(config.approvals.retryGrant).toBe(0);
    expect(config.approvals.failOpen).toBe(false);
  });

  it("leaves redis.url empty when REDIS_URL is unset (embedded Redis) instead of failing", () => {
    expect(loadConfig({ path: fixture, env: {} }).config.redis.url).toBe("");
  });

  it("lets REDIS_URL override redis.url", () => {
    expect(buildConfig({ redis: { url: "redis://a:1" } }, { REDIS_URL: "redis://b:2" }).redis.url).toBe("redis://b:2");
  });

  it("interpolates ${VAR} and ${VAR:-default} in any string, without re-parsing the value", () => {
    const c = buildConfig(
      { slack: { botToken: "${TOK}", signingSecret: "${SEC:-fallback}", channel: "C1" }, server: { publicUrl: "https://${HOST}/x" } },
      { TOK: 'xoxb-"quoted: yaml"', HOST: "gate.example.com" },
    );
    expect(c.slack?.botToken).toBe('xoxb-"quoted: yaml"');
    expect(c.slack?.signingSecret).toBe("fallback");
    expect(c.server.publicUrl).toBe("https://gate.example.com/x");
  });

  it("finds the file via --config, then CLAWGATE_CONFIG, then ./clawgate.yaml", () => {
    const dir = mkdtempSync(join(tmpdir(), "cg-cfg-"));
    writeFileSync(join(dir, "clawgate.yaml"), "approvals: { timeout: 30s }\n");
    writeFileSync(join(dir, "other.json"), JSON.stringify({ approvals: { timeout: "45s" } }));
    expect(loadConfig({ cwd: dir, env: {} }).config.approvals.timeout).toBe(30_000);
    expect(loadConfig({ cwd: dir, env: { CLAWGATE_CONFIG: "other.json" } }).config.approvals.timeout).toBe(45_000);
    expect(loadConfig({ cwd: dir, env: { CLAWGATE_CONFIG: "other.json" }, path: "clawgate.yaml" }).config.approvals.timeout).toBe(30_000);
  });

  it("names the missing file and how to point at one", () => {
    const e = errorOf(() => loadConfig({ path: "/nonexistent/cg.yaml", env: {} }));
    expect(e.code).toBe("config_not_found");
    expect(e.message).toContain("/nonexistent/cg.yaml");
    expect(e.message).toContain("--config");
  });

  it.each([
    [{ approvals: { timeout: "2 fortnights" } }, "approvals.timeout", "not a duration"],
    [{ policy: { mode: "yolo" } }, "policy.mode", ""],
    [{ polcy: {} }, "(root)", 'unknown key(s) "polcy"'],
    [{ redis: { prefix: "has space" } }, "redis.prefix", "letters, digits"],
    [{ server: { port: 70000 } }, "server.port", ""],
    [{ policy: { allow: "exec(ls)" } }, "policy.allow", ""],
    [{ slack: { botToken: "${SLACK_BOT_TOKEN}", signingSecret: "s", channel: "C" } }, "slack.botToken", "SLACK_BOT_TOKEN is not set"],
  ])("rejects %j naming the key path", (input, path, hint) => {
    const e = errorOf(() => buildConfig(input, {}));
    expect(e.code).toBe("config_invalid");
    expect(e.message).toContain(`${path}:`);
    expect(e.message).toContain(hint);
  });

  it("rejects a file that is not YAML", () => {
    const dir = mkdtempSync(join(tmpdir(), "cg-cfg-"));
    writeFileSync(join(dir, "bad.yaml"), "policy: [unclosed\n");
    expect(errorOf(() => loadConfig({ path: join(dir, "bad.yaml"), env: {} })).message).toMatch(/not valid YAML/);
  });

  it("merges inline overrides (the plugin's OpenClaw config) over the file", () => {
    const c = loadConfig({ path: fixture, env: {}, overrides: { approvals: { timeout: "10s" }, redis: { prefix: "other" } } }).config;
    expect(c.approvals.timeout).toBe(10_000);
    expect(c.redis.prefix).toBe("other");
    expect(c.policy.allow).toContain("exec(git status)");
  });
});

describe("plugin manifest", () => {
  it("committed openclaw.plugin.json matches the schema (run `npm run gen:schema` after changing it)", () => {
    const committed = JSON.parse(readFileSync(new URL("../../plugin/openclaw.plugin.json", import.meta.url), "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(pluginManifest())));
  });

  it("carries no defaults, so OpenClaw cannot fill inline overrides that would mask clawgate.yaml", () => {
    const text = JSON.stringify(pluginManifest().configSchema);
    expect(text).not.toContain('"default":');
  });

  it("is closed (additionalProperties false) and takes configPath plus every top-level key", () => {
    const schema = pluginManifest().configSchema as { additionalProperties: boolean; properties: Record<string, unknown> };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["configPath", "redis", "policy", "approvals", "people", "oncall", "escalation", "slack", "discord", "email", "server", "audit"]),
    );
  });
});

describe("config reference", () => {
  it.each(["../../docs/configuration.md", "../../README.md"])("%s carries the current generated reference (run `npm run gen:docs`)", async (file) => {
    const { configReference } = await import("../../src/config/reference.ts");
    const doc = readFileSync(new URL(file, import.meta.url), "utf8");
    expect(doc).toContain(configReference());
  });
});

describe("config honesty", () => {
  it("rejects escalation targets that cannot work and unknown keys, naming the key", () => {
    expect(() => buildConfig({ teams: { webhook: "x" } }, {})).toThrow(/unknown key\(s\) "teams"/);
    expect(() => buildConfig({ oncall: { schedules: { primary: ["alice"] } } }, {})).toThrow(/oncall.schedules.primary: Invalid input: expected object/);
    expect(() => buildConfig({ escalation: { tiers: [{ after: "1m", notify: ["oncall:primary"] }] } }, {})).toThrow(/escalation.tiers\[0\].notify\[0\]: "oncall:primary": no schedule "primary" in oncall.schedules/);
    expect(() => buildConfig({ escalation: { tiers: [{ after: "1m", notify: ["email:not-an-address"] }] } }, {})).toThrow(/expected an email address/);
    expect(() => buildConfig({ escalation: { tiers: [{ after: "1m", notify: ["carol"] }] } }, {})).toThrow(/escalation.tiers\[0\].notify\[0\]: "carol": no person "carol" in people/);
    expect(() => buildConfig({ escalation: { tiers: [{ after: "1m", notify: ["slack"] }] } }, {})).toThrow(/no slack block is configured/);
    const ok = buildConfig(
      { people: { bob: { slack: "U0BOB" } }, slack: { botToken: "x", signingSecret: "y", channel: "C0A" }, escalation: { tiers: [{ after: "1m", notify: ["bob", "slack:C0OTHER", "log"] }] } },
      {},
    );
    expect(ok.escalation.tiers[0]?.notify).toEqual(["bob", "slack:C0OTHER", "log"]);
  });

  it("lets the gateway read a file whose channel blocks need secrets it does not have", () => {
    const dir = mkdtempSync(join(tmpdir(), "cg-scope-"));
    const file = join(dir, "clawgate.yaml");
    writeFileSync(
      file,
      'policy: { ask: ["exec(git push *)"] }\nslack: { botToken: "${SLACK_BOT_TOKEN}", signingSecret: "${SLACK_SIGNING_SECRET}", channel: C0A }\nserver: { port: 9999, apiToken: "${CLAWGATE_API_TOKEN}" }\n',
    );
    expect(() => loadConfig({ path: file, env: {} })).toThrow(/SLACK_BOT_TOKEN/);
    const gate = loadConfig({ path: file, env: {}, scope: "gate" }).config;
    expect(gate.policy.ask).toEqual(["exec(git push *)"]);
    expect(gate.slack).toBeUndefined();
    expect(gate.server.port).toBe(9999);
    expect(gate.server.apiToken).toBeUndefined();
  });
});
