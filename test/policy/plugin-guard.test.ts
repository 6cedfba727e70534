import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import plugin from "../../plugin/index.ts";

/**
 * register() against a minimal stand-in for OpenClaw's plugin API (the real gateway is
 * exercised in e2e/fail-closed.test.ts): it records what the plugin registers.
 */
type Handler = (...args: unknown[]) => unknown;

function fakeApi(pluginConfig: Record<string, unknown>, breaks: { registerCommand?: boolean; logger?: boolean } = {}) {
  const hooks = new Map<string, Handler>();
  const logs: string[] = [];
  const log = (level: string) => (msg: string) => {
    if (breaks.logger) throw new Error("logger down");
    logs.push(`${level}: ${msg}`);
  };
  const api = {
    pluginConfig,
    config: { plugins: { load: { paths: ["/opt/plugins/clawgate"] } } },
    logger: { info: log("info"), warn: log("warn"), error: log("error") },
    on: (hook: string, handler: Handler) => hooks.set(hook, handler),
    registerCommand: () => {
      if (breaks.registerCommand) throw new Error("registerCommand exploded");
    },
    registerService: () => undefined,
  };
  return { api, hooks, logs };
}

const dir = mkdtempSync(join(tmpdir(), "cg-plugin-guard-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(text: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  // The plugin needs a Redis address (it never guesses one); the calls here never reach Redis.
  writeFileSync(path, /^redis:/m.test(text) ? text : `redis: { url: "redis://127.0.0.1:6379" }\n${text}`);
  return path;
}

const call = { toolName: "exec", params: { command: "git status" } };

describe("the plugin never leaves OpenClaw without a gate", () => {
  it("a malformed rule: register() does not throw and every call is blocked with the reason", async () => {
    const { api, hooks, logs } = fakeApi({ configPath: configFile('policy: { ask: ["exec(git push *"] }\n') });
    expect(() => plugin.register(api as never)).not.toThrow();
    const before = hooks.get("before_tool_call") as Handler;
    const r = (await before(call, {})) as { block: boolean; blockReason: string };
    expect(r.block).toBe(true);
    expect(r.blockReason).toContain("every tool call is blocked");
    expect(r.blockReason).toContain('policy.ask[0]: invalid policy rule "exec(git push *": missing closing ")"');
    expect(logs.some((l) => l.startsWith("error: clawgate:"))).toBe(true);
    expect(hooks.has("after_tool_call")).toBe(false);
  });

  it("no Redis address anywhere: every call is blocked saying how to set one, never a guessed 127.0.0.1:6379", async () => {
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    try {
      const path = join(dir, "no-redis.yaml");
      writeFileSync(path, 'policy: { ask: ["exec(git push *)"] }\n');
      const { api, hooks } = fakeApi({ configPath: path });
      plugin.register(api as never);
      const r = (await (hooks.get("before_tool_call") as Handler)(call, {})) as { block: boolean; blockReason: string };
      expect(r.block).toBe(true);
      expect(r.blockReason).toMatch(/no Redis address: REDIS_URL is unset/);
    } finally {
      if (saved !== undefined) process.env.REDIS_URL = saved;
    }
  });

  it("a missing config file, or a throwing logger, still blocks", async () => {
    const { api, hooks } = fakeApi({ configPath: join(dir, "nope.yaml") }, { logger: true });
    expect(() => plugin.register(api as never)).not.toThrow();
    const r = (await (hooks.get("before_tool_call") as Handler)(call, {})) as { block: boolean; blockReason: string };
    expect(r).toMatchObject({ block: true });
    expect(r.blockReason).toContain("config file not found");
  });

  it("a failure after the hook is in place (registerCommand) turns the hook into a block", async () => {
    const { api, hooks } = fakeApi({ configPath: configFile('policy: { allow: ["exec(git status)"] }\n') }, { registerCommand: true });
    expect(() => plugin.register(api as never)).not.toThrow();
    const r = (await (hooks.get("before_tool_call") as Handler)(call, {})) as { block: boolean; blockReason: string };
    expect(r).toMatchObject({ block: true });
    expect(r.blockReason).toContain("registerCommand exploded");
  });

  it("a good config: allowed calls pass, self-protection is on, and switching it off is logged", async () => {
    const good = fakeApi({ configPath: configFile('policy: { allow: ["exec(*)"] }\n') });
    plugin.register(good.api as never);
    const before = good.hooks.get("before_tool_call") as Handler;
    expect(await before(call, {})).toBeUndefined();
    const self = (await before({ toolName: "exec", params: { command: "npx clawgate approve ap_x" } }, {})) as { block: boolean; blockReason: string };
    expect(self).toMatchObject({ block: true });
    expect(self.blockReason).toContain("builtin:self-protection");
    expect(good.logs.filter((l) => l.startsWith("warn:"))).toEqual([]);

    const off = fakeApi({ configPath: configFile('policy: { selfProtection: false, allow: ["exec(*)"] }\n') });
    plugin.register(off.api as never);
    expect(off.logs.some((l) => l.includes("policy.selfProtection is false"))).toBe(true);
    expect(await (off.hooks.get("before_tool_call") as Handler)({ toolName: "exec", params: { command: "npx clawgate approve ap_x" } }, {})).toBeUndefined();
  });
});
