/**
 * clawgate's OpenClaw plugin: a thin entry that wires before_tool_call / after_tool_call and
 * the /clawgate chat command to src/. Loaded as TypeScript by OpenClaw (jiti) from
 * `plugins.load.paths`; it resolves ../src and the clawgate package's node_modules.
 */
import { loadConfig } from "../src/config/load.ts";
import type { ClawgateConfig } from "../src/config/schema.ts";
import { CHAT_USAGE, handleChatCommand, type ChatCommandContext } from "../src/gate/chat-command.ts";
import { Gate } from "../src/gate/gate.ts";
import { InboundDecisions } from "../src/inbound/decisions.ts";
import type { AfterToolCallEvent, BeforeToolCallEvent, HookContext } from "../src/gate/types.ts";
import { createLogger } from "../src/log.ts";

/** Time beyond the approval deadline the hook may use to create the approval and expire it. */
const HOOK_MARGIN_MS = 15_000;

interface PluginApi {
  pluginConfig?: Record<string, unknown>;
  config?: { plugins?: { entries?: Record<string, { hooks?: { timeouts?: Record<string, unknown> } }> } };
  logger: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
  on(hook: string, handler: (...args: any[]) => unknown, opts?: { priority?: number; timeoutMs?: number }): void;
  registerCommand(def: { name: string; description: string; acceptsArgs?: boolean; requireAuth?: boolean; handler(ctx: ChatCommandContext): Promise<{ text: string }> }): void;
  registerService(def: { id: string; start(ctx?: unknown): Promise<void> | void; stop?(ctx?: unknown): Promise<void> | void }): void;
}

function readConfig(api: PluginApi): { config: ClawgateConfig } | { error: string } {
  const { configPath, ...overrides } = api.pluginConfig ?? {};
  try {
    // Only what the gate uses is read: channel blocks and their secrets belong to `clawgate serve`.
    return { config: loadConfig({ path: typeof configPath === "string" ? configPath : undefined, overrides, allowMissing: true, scope: "gate" }).config };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export default {
  id: "clawgate",
  name: "clawgate",
  description: "Human approval gate for risky tool calls: allow / ask / deny, approvals via CLI, Slack, Discord, email.",
  register(api: PluginApi) {
    const loaded = readConfig(api);
    if ("error" in loaded) {
      // A gate that cannot read its policy must not open: block every call and say why.
      api.logger.error(`clawgate: ${loaded.error}`);
      const reason = `clawgate: configuration is invalid, so every tool call is blocked until it is fixed: ${loaded.error}`;
      api.on("before_tool_call", () => ({ block: true, blockReason: reason }), { priority: 1000 });
      return;
    }
    const config = loaded.config;
    const timeoutMs = config.approvals.timeout + HOOK_MARGIN_MS;
    // An operator may cap our hook below the approval deadline; the gate must know the real budget.
    const cap = Number(api.config?.plugins?.entries?.clawgate?.hooks?.timeouts?.before_tool_call);
    const budget = Number.isFinite(cap) && cap > 0 ? Math.min(cap, timeoutMs) : timeoutMs;
    const gate = new Gate(config, createLogger({ name: "clawgate-plugin" }), budget);

    api.on("before_tool_call", (event: BeforeToolCallEvent, ctx: HookContext) => gate.beforeToolCall(event, ctx ?? {}), { priority: 1000, timeoutMs });
    api.on("after_tool_call", (event: AfterToolCallEvent) => gate.afterToolCall(event), { priority: 1000 });

    api.registerCommand({
      name: "clawgate",
      description: `clawgate approvals. ${CHAT_USAGE}`,
      acceptsArgs: true,
      requireAuth: true,
      handler: async (ctx) => ({ text: await handleChatCommand(new InboundDecisions(gate.backendForCommands.service, config), config, ctx) }),
    });

    api.registerService({
      id: "clawgate-gate",
      start: () => gate.start(),
      stop: () => gate.close(),
    });
  },
};
