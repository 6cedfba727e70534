/**
 * A stand-in OpenClaw gateway for fault tests: loads the real plugin entry the way OpenClaw
 * does (register with its api, start its service), runs one before_tool_call and prints
 * `{"result": …}` (null = the call may run). Usage: node --import tsx gateway.ts CONFIG CALL_JSON
 */
import plugin from "../../plugin/index.ts";
import type { BeforeToolCallEvent, BeforeToolCallResult, HookContext } from "../../src/gate/types.ts";

const [configPath, callJson] = process.argv.slice(2);
if (!configPath || !callJson) {
  process.stderr.write("usage: gateway.ts CONFIG CALL_JSON\n");
  process.exit(2);
}
const call = JSON.parse(callJson) as { event: BeforeToolCallEvent; ctx: HookContext };

type Handler = (event: BeforeToolCallEvent, ctx: HookContext) => Promise<BeforeToolCallResult> | BeforeToolCallResult;
const hooks = new Map<string, Handler>();
let service: { start(): Promise<void> | void; stop?(): Promise<void> | void } | undefined;
const say = (m: string) => process.stderr.write(`${m}\n`);

plugin.register({
  pluginConfig: { configPath },
  logger: { info: say, warn: say, error: say },
  on: (hook: string, handler: Handler) => void hooks.set(hook, handler),
  registerCommand: () => undefined,
  registerService: (def) => void (service = def),
});

await service?.start();
const before = hooks.get("before_tool_call");
if (!before) throw new Error("the plugin registered no before_tool_call hook");
const result = await before(call.event, call.ctx);
process.stdout.write(`${JSON.stringify({ result: result ?? null })}\n`);
await service?.stop?.();
process.exit(0);
