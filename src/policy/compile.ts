import type { AgentPolicy, Decision, PolicyConfig, PolicyMode, ToolDefault } from "./schema.ts";
import type { RuntimeRules } from "./types.ts";
import { parseRule } from "./rule.ts";
import type { ParsedRule } from "./rule.ts";
import { CompiledRule, RuleList } from "./rule-list.ts";
import type { RuleEntry, RuleOrigin } from "./rule-list.ts";
import { toolKey } from "./tools.ts";
import type { ToolKinds } from "./tools.ts";

/** Everything evaluate() needs for one agent, compiled once. */
export interface CompiledPolicy {
  mode: PolicyMode;
  tools: ReadonlyMap<string, ToolDefault>;
  deny: RuleList;
  ask: RuleList;
  allow: RuleList;
  alwaysAllow: RuleList;
  dangerous: RuleList;
  kinds: ToolKinds;
}

/** Identity of a rule regardless of spacing and tool-name case: `Exec( ls )` is `exec(ls)`. */
function ruleKey(parsed: ParsedRule): string {
  return parsed.content === null ? parsed.tool : `${parsed.tool}(${parsed.content})`;
}

/** Parses each distinct rule string once; shared by an engine and the engines withRuntime derives. */
export class RuleCompiler {
  private readonly cache = new Map<string, CompiledRule>();

  compile(rule: string): CompiledRule {
    let compiled = this.cache.get(rule);
    if (!compiled) {
      compiled = new CompiledRule(parseRule(rule));
      this.cache.set(rule, compiled);
    }
    return compiled;
  }
}

const EMPTY_RUNTIME: RuntimeRules = { overrides: new Map(), alwaysAllow: [] };

export function compilePolicy(
  config: PolicyConfig,
  agent: AgentPolicy | undefined,
  runtime: RuntimeRules = EMPTY_RUNTIME,
  compiler: RuleCompiler,
  kinds: ToolKinds,
): CompiledPolicy {
  const overrides = [...runtime.overrides].map(([rule, decision]) => ({ compiled: compiler.compile(rule), decision }));
  const overridden = new Set(overrides.map((o) => ruleKey(o.compiled.parsed)));
  let order = 0;
  const entry = (rule: CompiledRule, origin: RuleOrigin): RuleEntry => ({ rule, origin, order: order++ });

  const lists: Record<Decision, RuleEntry[]> = { deny: [], ask: [], allow: [] };
  for (const decision of ["deny", "ask", "allow"] as const) {
    for (const raw of [...config[decision], ...(agent?.[decision] ?? [])]) {
      const compiled = compiler.compile(raw);
      // `clawgate policy set RULE d` moves the rule: it leaves every config list.
      if (!overridden.has(ruleKey(compiled.parsed))) lists[decision].push(entry(compiled, "config"));
    }
  }
  for (const o of overrides) lists[o.decision].push(entry(o.compiled, "override"));

  const tools = new Map<string, ToolDefault>();
  for (const [name, d] of Object.entries(config.tools)) tools.set(toolKey(name), d);
  for (const [name, d] of Object.entries(agent?.tools ?? {})) tools.set(toolKey(name), d);

  return {
    mode: agent?.mode ?? config.mode,
    tools,
    deny: new RuleList(lists.deny, kinds, true),
    ask: new RuleList(lists.ask, kinds, true),
    allow: new RuleList(lists.allow, kinds),
    alwaysAllow: new RuleList(
      runtime.alwaysAllow.map((r) => entry(compiler.compile(r), "always-allow")),
      kinds,
    ),
    dangerous: new RuleList(
      config.dangerousPatterns.map((r) => entry(compiler.compile(r), "config")),
      kinds,
      true,
    ),
    kinds,
  };
}
