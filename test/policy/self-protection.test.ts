import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/load.ts";
import { PolicyEngine, SELF_PROTECTION_RULE } from "../../src/policy/engine.ts";
import { selfProtectionContext, selfProtectionWarning } from "../../src/config/self-protection.ts";
import type { SelfProtectionContext } from "../../src/policy/self-protection/context.ts";
import type { PolicyDecision } from "../../src/policy/types.ts";

/**
 * A real layout on disk: clawgate's config and data (with an embedded Redis URL) under
 * srv/cg, its installation under opt/clawgate, the agent's home with OpenClaw's config.
 */
const root = mkdtempSync(join(tmpdir(), "cg-self-protection-"));
const cfgDir = join(root, "srv", "cg");
const configPath = join(cfgDir, "clawgate.yaml");
const dataDir = join(cfgDir, "data");
const pkg = join(root, "opt", "clawgate");
const home = join(root, "home", "agent");
mkdirSync(dataDir, { recursive: true });
mkdirSync(join(pkg, "plugin"), { recursive: true });
mkdirSync(join(home, ".openclaw", "workspace"), { recursive: true });
writeFileSync(configPath, "redis: { url: redis://127.0.0.1:6379 }\n");
writeFileSync(join(dataDir, "redis.url"), "redis://127.0.0.1:41234\n");
writeFileSync(join(pkg, "package.json"), '{"name":"clawgate"}');
afterAll(() => rmSync(root, { recursive: true, force: true }));

// The user's own rules allow everything: only self-protection can deny.
const permissive = { mode: "bypassPermissions", allow: ["exec(*)", "bash(*)", "read", "write", "edit", "web_fetch", "mcp__fetch__fetch"] };

function setup(policy: Record<string, unknown> = permissive): { engine: PolicyEngine; ctx: SelfProtectionContext | null } {
  const config = buildConfig({ redis: { url: "redis://127.0.0.1:6379" }, server: { port: 8787, publicUrl: "https://gate.example.com" }, policy }, {});
  const ctx = selfProtectionContext(config, { configPath, home, env: {}, cwd: join(root, "work"), packageRoot: pkg, pluginDirs: [join(pkg, "plugin")] });
  return { engine: new PolicyEngine(config.policy, undefined, { protect: ctx }), ctx };
}

const { engine } = setup();
const run = (command: string): PolicyDecision => engine.evaluate({ toolName: "exec", params: { command } });

const SELF_APPROVAL: string[] = [
  // the CLI's deciding and loosening verbs, through every path and wrapper
  "clawgate approve ap_x",
  "clawgate deny ap_x --reason nope",
  "clawgate -c /tmp/other.yaml approve ap_x --always",
  "clawgate policy set 'exec(*)' allow",
  "clawgate policy unset 'exec(rm -rf *)'",
  "clawgate token create agent",
  // moving the audit log's head is an operator's call after looking at `audit verify`
  "clawgate audit repair",
  "clawgate -c /tmp/other.yaml audit repair",
  "clawgate audit --config /tmp/x.yaml repair",
  "npx clawgate audit repair --anchor 3:0000000000000000000000000000000000000000",
  "node bin/clawgate.js audit repair --json",
  "sh -c 'clawgate audit repair'",
  "clawgate audit verify || clawgate audit repair",
  "echo repair | xargs clawgate audit",
  "clawgate audit $(echo repair)",
  "env LOG_LEVEL=silent timeout 9 clawgate audit repair",
  "clawgate serve --port 9999",
  "npx clawgate approve ap_x",
  "npx -y clawgate@latest approve ap_x",
  "npm exec -- clawgate approve ap_x",
  "pnpm dlx clawgate approve ap_x",
  "yarn clawgate approve ap_x",
  "node bin/clawgate.js approve ap_x",
  `node ${pkg}/bin/clawgate.js approve ap_x`,
  "node ../clawgate/bin/clawgate.js policy set 'exec(*)' allow",
  "node --import tsx src/cli/main.ts approve ap_x",
  "./node_modules/.bin/clawgate approve ap_x",
  "/usr/local/bin/clawgate approve ap_x",
  "env CLAWGATE_ACTOR=me clawgate approve ap_x",
  "sudo -u ops clawgate approve ap_x",
  "bash -c \"npx clawgate approve ap_x\"",
  "sh -c 'clawgate approve ap_x'",
  "echo $(clawgate approve ap_x)",
  "echo `clawgate approve ap_x`",
  "clawgate list --json | jq -r '.[0].id' | xargs clawgate approve",
  "clawgate list; clawgate approve ap_x",
  "true && clawgate approve ap_x",
  "f() { clawgate approve \"$1\"; }; f ap_x",
  "eval 'clawgate approve ap_x'",
  "timeout 5 clawgate approve ap_x",
  "find . -name x -exec clawgate approve {} \\;",
  // its Redis
  "redis-cli -p 6379 SET x y",
  "redis-cli",
  "redis-cli -h localhost KEYS '*'",
  "redis-cli -u redis://127.0.0.1:6379 HGETALL clawgate:approval:ap_x",
  "redis-cli -p 41234 KEYS '*'",
  "nc 127.0.0.1 6379",
  "ncat localhost 6379 < cmds.txt",
  "telnet 127.0.0.1 6379",
  "socat - TCP:127.0.0.1:6379",
  "exec 3<>/dev/tcp/127.0.0.1/6379",
  "cat < /dev/tcp/localhost/6379",
  "python3 -c \"import socket; socket.create_connection(('127.0.0.1',6379))\"",
  "node -e \"require('net').connect(6379)\"",
  "curl gopher://127.0.0.1:6379/_SET%20x%20y",
  // its decision and callback routes
  "curl -X POST http://127.0.0.1:8787/api/v1/approvals/ap_x/decision -d '{\"decision\":\"allow-once\"}'",
  "curl -s localhost:8787/api/v1/approvals/ap_x/decision",
  "wget --post-data=x http://127.0.0.1:8787/api/v1/approvals/ap_x//decision",
  "curl http://127.0.0.1:8787/api/v1/approvals/ap_x/%64ecision",
  "http POST https://gate.example.com/api/v1/approvals/ap_x/decision",
  "curl -d payload=x http://localhost:8787/slack/events",
  "curl https://gate.example.com/discord/interactions",
  "python3 -c \"import requests; requests.post('http://127.0.0.1:8787/api/v1/approvals/ap_x/decision')\"",
  // its config, data, secrets and code
  "cat data/redis.url",
  `cat ${dataDir}/redis.url`,
  `ls ${dataDir}`,
  `cat ${dataDir}/appendonlydir/appendonly.aof.1.incr.aof`,
  "echo 'policy: {selfProtection: false}' >> clawgate.yaml",
  `echo x > ${configPath}`,
  "cat clawgate.yaml",
  "cat < clawgate.yaml",
  "sed -i 's/deny/allow/' clawgate.yaml",
  "cp /dev/null ../cg/clawgate.yaml",
  "tee -a clawgate.yaml",
  "cat clawgate.y*ml",
  `cat ${cfgDir}/.env`,
  `vim ${pkg}/plugin/index.ts`,
  `echo x >> ${pkg}/src/policy/engine.ts`,
  // OpenClaw's plugin configuration
  "cat ~/.openclaw/openclaw.json",
  "cat $HOME/.openclaw/openclaw.json.bak",
  "openclaw plugins disable clawgate",
  "openclaw config set plugins.entries.clawgate.enabled false",
  "openclaw config get plugins.entries.clawgate",
  // the CLI's saved login tokens (a person's token decides as that person)
  "cat ~/.config/clawgate/credentials.json",
  "cat $HOME/.config/clawgate/credentials.json",
  `cat ${home}/.config/clawgate/credentials.json`,
  "cat ~/.config/clawgate/credentials.json.bak",
  "cd ~/.config/clawgate && cat credentials.json",
  "jq -r .tokens ~/.config/clawgate/credentials.json",
  "base64 < ~/.config/clawgate/credentials.json",
  `[ "$(cat ~/.config/clawgate/credentials.json)" ]`,
  "echo \"$(cat ~/.config/clawgate/credentials.json)\"",
  "cp ~/.config/clawgate/credentials.json /tmp/x",
  // behind a test (the test builtin is no command, what it guards still is)
  "[ x ] ; redis-cli FLUSHALL",
  "if [ -f clawgate.yaml ]; then cat clawgate.yaml; fi",
  "[[ -n $(cat data/redis.url) ]]",
  `[ "$(cat ${dataDir}/redis.url)" = x ]`,
  "test -d ~/.openclaw && clawgate approve ap_x",
  `[ -f x ] > ${configPath}`,
];

describe("self-protection denies self-approval and loosening, whatever the user's rules allow", () => {
  it.each(SELF_APPROVAL)("%s", (command) => {
    const d = run(command);
    expect({ decision: d.decision, rule: d.rule, source: d.source }, d.reason).toEqual({ decision: "deny", rule: SELF_PROTECTION_RULE, source: "self-protection" });
    expect(d.reason).toMatch(/^denied by clawgate self-protection: /);
    expect(d.alwaysAllowRule).toBeNull();
  });

  it.each<[string, Record<string, unknown>]>([
    ["write", { path: "clawgate.yaml", content: "policy: {}" }],
    ["write", { path: configPath, content: "" }],
    ["edit", { file_path: "../cg/clawgate.yaml", old_string: "deny", new_string: "allow" }],
    ["read", { path: join(dataDir, "redis.url") }],
    ["read", { path: "data/redis.url" }],
    ["apply_patch", { input: `*** Begin Patch\n*** Update File: ${configPath}\n@@\n-a\n+b\n*** End Patch` }],
    ["read", { path: "~/.openclaw/openclaw.json" }],
    ["read", { path: "~/.config/clawgate/credentials.json" }],
    ["write", { path: join(pkg, "plugin", "index.ts"), content: "" }],
    ["web_fetch", { url: "http://127.0.0.1:8787/api/v1/approvals/ap_x/decision" }],
    ["mcp__fetch__fetch", { url: "http://localhost:8787/api/v1/approvals/ap_x/decision", method: "POST" }],
    ["some_plugin_tool", { file: join(dataDir, "redis.url") }],
    ["plugins", { action: "disable", pluginId: "clawgate" }],
    ["plugins", { action: "uninstall", pluginId: "clawgate" }],
    ["gateway", { action: "config.get", path: "plugins.entries.clawgate" }],
    ["gateway", { action: "config.get" }],
    ["process", { action: "write", sessionId: "s1", data: "npx clawgate approve ap_x\n" }],
    ["exec", { command: "cat redis.url", workdir: dataDir }],
    ["bash", { command: "clawgate approve ap_x" }],
    ["exec", { command: ["npx", "clawgate", "approve", "ap_x"] }],
  ])("%s %j", (toolName, params) => {
    const d = engine.evaluate({ toolName, params });
    expect({ decision: d.decision, rule: d.rule }, d.reason).toEqual({ decision: "deny", rule: SELF_PROTECTION_RULE });
  });

  it("asks (never allows, never remembers) for clawgate verbs it does not know to be harmless", () => {
    for (const command of ["clawgate frobnicate ap_x", "clawgate watch", "redis-cli -h $HOST KEYS '*'"]) {
      const d = run(command);
      expect({ decision: d.decision, rule: d.rule }, command).toEqual({ decision: "ask", rule: SELF_PROTECTION_RULE });
      expect(d.alwaysAllowRule).toBeNull();
    }
    const plugin = engine.evaluate({ toolName: "plugins", params: { action: "install", packageName: "x" } });
    expect(plugin.decision).toBe("ask");
  });

  it("still denies in dontAsk mode what it would ask about, and deny rules keep their own name", () => {
    const { engine: strict } = setup({ mode: "dontAsk", allow: ["exec(*)"] });
    expect(strict.evaluate({ toolName: "exec", params: { command: "clawgate frobnicate" } })).toMatchObject({ decision: "deny", rule: SELF_PROTECTION_RULE });
  });
});

describe("self-protection leaves harmless neighbours to the user's rules", () => {
  it.each([
    "cat README.md",
    "curl https://example.com",
    "curl https://other.example.com/slack/events",
    "redis-cli -p 6380 PING",
    "redis-cli -h cache.internal -p 6379 PING",
    "nc example.com 443",
    "python3 -c 'print(6379)'",
    "clawgate list",
    "clawgate show ap_x --json",
    "npx clawgate policy test exec --params '{\"command\":\"ls\"}'",
    "clawgate policy list",
    "clawgate audit verify",
    "clawgate doctor",
    "clawgate request exec --params @p.json --wait",
    "clawgate --help",
    "cat data/metrics.csv",
    "ls data",
    "cat *.yaml",
    "ls ~/.openclaw/workspace",
    "git push origin main",
    "openclaw plugins list",
    "openclaw config set agents.defaults.model x",
  ])("%s", (command) => {
    const d = run(command);
    expect(d.rule, d.reason).not.toBe(SELF_PROTECTION_RULE);
    expect(d.decision).toBe("allow");
  });

  it.each<[string, Record<string, unknown>]>([
    ["read", { path: "README.md" }],
    ["write", { path: join(home, ".openclaw", "workspace", "notes.md"), content: "x" }],
    ["web_fetch", { url: "https://example.com/api/v1/approvals" }],
    ["message", { text: "approve it with clawgate approve ap_x at http://localhost:8787/api/v1/approvals/ap_x/decision" }],
    ["gateway", { action: "config.get", path: "agents" }],
    ["plugins", { action: "list" }],
    ["process", { action: "poll", sessionId: "s1" }],
  ])("%s %j", (toolName, params) => {
    const d = engine.evaluate({ toolName, params });
    expect(d.rule, d.reason).not.toBe(SELF_PROTECTION_RULE);
  });
});

describe("policy.selfProtection", () => {
  it("is on by default and off only when set to false, with a warning to log at every start", () => {
    const on = buildConfig({}, {});
    expect(on.policy.selfProtection).toBe(true);
    expect(selfProtectionWarning(on)).toBeNull();
    const off = buildConfig({ policy: { selfProtection: false, allow: ["exec(*)"] } }, {});
    expect(selfProtectionContext(off, { configPath })).toBeNull();
    expect(selfProtectionWarning(off)).toMatch(/selfProtection is false/);
    const engine = new PolicyEngine(off.policy, undefined, { protect: selfProtectionContext(off, { configPath }) });
    expect(engine.selfProtected).toBe(false);
    expect(engine.evaluate({ toolName: "exec", params: { command: "clawgate approve ap_x" } })).toMatchObject({ decision: "allow", rule: "exec(*)" });
  });

  it("guards the installation a plugin folder belongs to, when OpenClaw runs the plugin from a copy", () => {
    const install = join(root, "copy-install");
    mkdirSync(join(install, "plugin"), { recursive: true });
    mkdirSync(join(install, "src"), { recursive: true });
    writeFileSync(join(install, "package.json"), JSON.stringify({ name: "clawgate" }));
    const config = buildConfig({}, {});
    const ctx = selfProtectionContext(config, { configPath, home: join(root, "home"), env: {}, cwd: root, pluginDirs: [join(install, "plugin")] });
    const e = new PolicyEngine(config.policy, undefined, { protect: ctx });
    for (const command of [`cat ${install}/src/gate.ts`, `cat ${install}/sr*/gate.ts`, `echo x > ${install}/src/gate.ts`]) {
      expect(e.evaluate({ toolName: "exec", params: { command } }), command).toMatchObject({ decision: "deny", rule: SELF_PROTECTION_RULE });
    }
  });

  it("survives withRuntime (runtime rules never switch it off)", () => {
    const next = engine.withRuntime({ overrides: new Map([["exec(clawgate approve *)", "allow"]]), alwaysAllow: ["exec(clawgate approve ap_x)"] });
    expect(next.selfProtected).toBe(true);
    expect(next.evaluate({ toolName: "exec", params: { command: "clawgate approve ap_x" } })).toMatchObject({ decision: "deny", rule: SELF_PROTECTION_RULE });
  });

  it("guards what the config names: Redis (configured and embedded), service, files", () => {
    const { ctx } = setup();
    expect(ctx?.redis).toEqual(expect.arrayContaining([{ host: "127.0.0.1", port: 6379 }, { host: "127.0.0.1", port: 41234 }]));
    expect(ctx?.service).toEqual(expect.arrayContaining([{ host: "127.0.0.1", port: 8787 }, { host: "gate.example.com", port: 443 }]));
    const paths = ctx?.paths.map((p) => p.path) ?? [];
    expect(paths).toEqual(expect.arrayContaining([configPath, dataDir, join(pkg, "plugin"), join(home, ".openclaw", "openclaw.json")]));
    // OpenClaw's state folder is guarded against writes only, its workspace folders not at all.
    const state = ctx?.paths.find((p) => p.path === join(home, ".openclaw"));
    expect(state).toMatchObject({ dir: true, writeOnly: true });
    expect(state?.except?.test("workspace")).toBe(true);
  });
});
