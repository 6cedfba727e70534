/**
 * clawgate's OpenClaw plugin: a thin entry that wires before_tool_call / after_tool_call and
 * the /clawgate chat command to src/. Loaded as TypeScript by OpenClaw (jiti) from
 * `plugins.load.paths`; it resolves ../src and the clawgate package's node_modules.
 */
import { dirname } from "node:path";
import { redactText } from "../src/redact/redact.ts";
import { loadConfig } from "../src/config/load.ts";
import type { ClawgateConfig } from "../src/config/schema.ts";
import { CHAT_USAGE, handleChatCommand, type ChatCommandContext } from "../src/gate/chat-command.ts";
import { Gate } from "../src/gate/gate.ts";
import { InboundDecisions } from "../src/inbound/decisions.ts";
import type { AfterToolCallEvent, BeforeToolCallEvent, BeforeToolCallResult, HookContext } from "../src/gate/types.ts";
import { describeRedisAddress, resolveRedisAddress } from "../src/config/redis-address.ts";
import { loggerFromOpenClaw } from "../src/log.ts";
import { selfProtectionWarning, setSelfProtectionHints } from "../src/config/self-protection.ts";
import { FileRulesMemory, gatewayRulesMemoryFile } from "../src/approvals/rules-memory.ts";
import { gateTrust } from "../src/trust/process.ts";

/** Time beyond the approval deadline the hook may use to create the approval and expire it. */
const HOOK_MARGIN_MS = 15_000;

interface PluginApi {
  pluginConfig?: Record<string, unknown>;
  config?: { plugins?: { load?: { paths?: unknown }; entries?: Record<string, { hooks?: { timeouts?: Record<string, unknown> } }> } };
  rootDir?: string;
  source?: string;
  logger: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
  on(hook: string, handler: (...args: any[]) => unknown, opts?: { priority?: number; timeoutMs?: number }): void;
  registerCommand(def: { name: string; description: string; acceptsArgs?: boolean; requireAuth?: boolean; handler(ctx: ChatCommandContext): Promise<{ text: string }> }): void;
  registerService(def: { id: string; start(ctx?: unknown): Promise<void> | void; stop?(ctx?: unknown): Promise<void> | void }): void;
}

function readConfig(api: PluginApi): { config: ClawgateConfig; source: string | null } {
  const { configPath, ...overrides } = api.pluginConfig ?? {};
  // Only what the gate uses is read: channel blocks and their secrets belong to `clawgate serve`.
  return loadConfig({ path: typeof configPath === "string" ? configPath : undefined, overrides, allowMissing: true, scope: "gate" });
}

/** Folders whose code the gateway loads: the agent must not be able to edit them. */
function pluginDirs(api: PluginApi): string[] {
  const dirs: string[] = [];
  if (typeof api.rootDir === "string") dirs.push(api.rootDir);
  if (typeof api.source === "string" && api.source.startsWith("/")) dirs.push(dirname(api.source));
  const paths = api.config?.plugins?.load?.paths;
  if (Array.isArray(paths)) for (const p of paths) if (typeof p === "string") dirs.push(p);
  return dirs;
}

const message = (err: unknown): string => redactText(err instanceof Error ? err.message : String(err));

function safeLog(api: PluginApi, level: "info" | "warn" | "error", msg: string): void {
  try {
    api.logger[level](msg);
  } catch {
    // A logger that throws must not stop the gate from closing.
  }
}

export default {
  id: "clawgate",
  name: "clawgate",
  description: "Human approval gate for risky tool calls: allow / ask / deny, approvals via CLI, Slack, Discord, email.",
  /**
   * Never throws. Whatever fails while building the gate (config, rules, engine, anything),
   * before_tool_call still gets a hook, and it blocks every call with the reason: a gate that
   * cannot start must not leave OpenClaw running with no gate at all.
   */
  register(api: PluginApi) {
    let gate: Gate | null = null;
    let failure: string | null = null;
    let config: ClawgateConfig | null = null;
    let timeoutMs: number | undefined;
    const fail = (err: unknown): void => {
      failure ??= message(err);
      safeLog(api, "error", `clawgate: every tool call is blocked: ${message(err)}`);
    };
    try {
      const loaded = readConfig(api);
      config = loaded.config;
      // The same Redis the CLI and `serve` use (config → REDIS_URL → the embedded instance's
      // address file next to the config); none found is an error that blocks, never a guess.
      const redis = resolveRedisAddress(config, { configSource: loaded.source, env: process.env, cwd: process.cwd() });
      safeLog(api, "info", `clawgate: using Redis ${describeRedisAddress(redis)}`);
      const warning = selfProtectionWarning(config);
      if (warning) safeLog(api, "warn", warning);
      setSelfProtectionHints(config, { pluginDirs: pluginDirs(api) });
      timeoutMs = config.approvals.timeout + HOOK_MARGIN_MS;
      // An operator may cap our hook below the approval deadline; the gate must know the real budget.
      const cap = Number(api.config?.plugins?.entries?.clawgate?.hooks?.timeouts?.before_tool_call);
      const budget = Number.isFinite(cap) && cap > 0 ? Math.min(cap, timeoutMs) : timeoutMs;
      // The public keys whose signatures release a call come from this config (or its keys folder),
      // never from Redis; a key file that cannot be read blocks every call like a bad rule does.
      const trust = gateTrust(config, { configSource: loaded.source });
      const rulesMemory = new FileRulesMemory(gatewayRulesMemoryFile(config.redis.prefix));
      gate = new Gate(config, loggerFromOpenClaw(api.logger, { name: "clawgate-plugin" }), budget, redis.url, { trust, rulesMemory });
    } catch (err) {
      fail(err);
    }

    const blocked = (): BeforeToolCallResult => ({
      block: true,
      blockReason: `clawgate: the gate could not start, so every tool call is blocked until this is fixed: ${failure ?? "unknown error"}`,
    });
    const beforeToolCall = async (event: BeforeToolCallEvent, ctx: HookContext): Promise<BeforeToolCallResult> => {
      if (!gate || failure !== null) return blocked();
      try {
        return await gate.beforeToolCall(event, ctx ?? {});
      } catch (err) {
        // An internal error is never a reason to let the call run.
        safeLog(api, "error", `clawgate: blocked a call after an internal error: ${message(err)}`);
        return { block: true, blockReason: `clawgate: internal error, so the call is blocked: ${message(err)}` };
      }
    };
    try {
      api.on("before_tool_call", beforeToolCall, { priority: 1000, ...(timeoutMs !== undefined && gate ? { timeoutMs } : {}) });
    } catch (err) {
      fail(err);
      return;
    }
    if (!gate || !config || failure !== null) return;
    const ready: Gate = gate;
    const cfg: ClawgateConfig = config;
    try {
      api.on("after_tool_call", (event: AfterToolCallEvent) => ready.afterToolCall(event), { priority: 1000 });
      api.registerCommand({
        name: "clawgate",
        description: `clawgate approvals. ${CHAT_USAGE}`,
        acceptsArgs: true,
        requireAuth: true,
        handler: async (ctx) => ({ text: await handleChatCommand(new InboundDecisions(ready.backendForCommands.service, cfg), cfg, ctx) }),
      });
      api.registerService({
        id: "clawgate-gate",
        start: () => ready.start(),
        stop: () => ready.close(),
      });
    } catch (err) {
      // The before_tool_call hook is in place: from now on it blocks with this reason.
      fail(err);
    }
  },
};
