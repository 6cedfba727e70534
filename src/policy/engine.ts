import { compilePolicy, RuleCompiler } from "./compile.ts";
import type { CompiledPolicy } from "./compile.ts";
import { decide } from "./decide.ts";
import { extractSubjects } from "./extract.ts";
import { judge } from "./judge.ts";
import { classifyRisk } from "./risk.ts";
import { shellOps } from "./shell/mvdan.ts";
import type { PolicyConfig } from "./schema.ts";
import { toolKey, ToolKinds } from "./tools.ts";
import type { PolicyDecision, RuntimeRules, ToolCall } from "./types.ts";

export { parseRule } from "./rule.ts";
export type { ParsedRule, RuleForm } from "./rule.ts";

/**
 * Loads the shell parser now (~250 ms) instead of during the first tool call that needs it.
 * The plugin should call this once at start-up.
 */
export function warmShellParser(): void {
  shellOps();
}

const NO_RUNTIME: RuntimeRules = { overrides: new Map(), alwaysAllow: [] };

/** Fills what a hand-built (not zod-parsed) config may lack, without mutating it. */
function complete(config: Partial<PolicyConfig>): PolicyConfig {
  return {
    mode: config.mode ?? "default",
    allow: config.allow ?? [],
    ask: config.ask ?? [],
    deny: config.deny ?? [],
    tools: config.tools ?? {},
    agents: config.agents ?? {},
    paramKeys: config.paramKeys ?? {},
    dangerousPatterns: config.dangerousPatterns ?? [],
    shellTools: config.shellTools ?? ["exec", "bash", "process"],
  };
}

/**
 * Decides allow / ask / deny for tool calls, in-process and synchronously. All rules are
 * compiled up front; shell lines are analysed once and cached.
 */
export class PolicyEngine {
  private readonly config: PolicyConfig;
  private readonly compiler: RuleCompiler;
  private readonly base: CompiledPolicy;
  private readonly agents = new Map<string, CompiledPolicy>();

  /**
   * Throws PolicyRuleInvalidError on a bad rule in the config or in `runtime`.
   * @param compiler internal: lets withRuntime reuse already-compiled rules.
   */
  constructor(config: PolicyConfig, runtime: RuntimeRules = NO_RUNTIME, compiler: RuleCompiler = new RuleCompiler()) {
    this.config = complete(config);
    this.compiler = compiler;
    const kinds = new ToolKinds(this.config);
    this.base = compilePolicy(this.config, undefined, runtime, compiler, kinds);
    for (const [id, agent] of Object.entries(this.config.agents)) {
      this.agents.set(id, compilePolicy(this.config, agent, runtime, compiler, kinds));
    }
  }

  /** A new engine with these Redis-held overrides and allow-always rules; the config rules are reused. */
  withRuntime(runtime: RuntimeRules): PolicyEngine {
    return new PolicyEngine(this.config, runtime, this.compiler);
  }

  /** Never throws and never touches the network: anything unexpected becomes "ask". */
  evaluate(call: ToolCall): PolicyDecision {
    try {
      return this.evaluateUnchecked(call);
    } catch (err) {
      return {
        decision: "ask",
        rule: null,
        source: "unparsed",
        reason: `needs approval: clawgate could not evaluate this call (${err instanceof Error ? err.message : String(err)})`,
        risk: { actionType: "unknown", score: 50, class: "high", reversible: false, systems: [] },
        alwaysAllowRule: null,
        parts: [],
      };
    }
  }

  private evaluateUnchecked(call: ToolCall): PolicyDecision {
    const tool = toolKey(typeof call?.toolName === "string" ? call.toolName : "");
    const agentId = typeof call.agentId === "string" ? call.agentId : undefined;
    const policy = (agentId !== undefined ? this.agents.get(agentId) : undefined) ?? this.base;
    const subjects = extractSubjects(call, tool, policy.kinds);
    const judgement = judge(policy, tool, subjects);
    return decide(tool, policy.mode, subjects, judgement, classifyRisk(tool, subjects, call.params));
  }
}
