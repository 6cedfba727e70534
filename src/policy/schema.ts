import { z } from "zod";
import { parseRule } from "./rule.ts";

export const DECISIONS = ["allow", "ask", "deny"] as const;
const decisionSchema = z.enum(DECISIONS);
export type Decision = z.infer<typeof decisionSchema>;

const MODES = ["default", "strict", "acceptEdits", "bypassPermissions", "dontAsk"] as const;
const modeSchema = z.enum(MODES);
export type PolicyMode = z.infer<typeof modeSchema>;

/** Per-tool fallback when no rule matches: deny → deny, allowlist → ask, full → allow. */
const toolDefaultSchema = z.enum(["deny", "allowlist", "full"]);
export type ToolDefault = z.infer<typeof toolDefaultSchema>;

/**
 * The outline of `Tool` / `Tool(content)`, for the generated JSON Schema (so `openclaw config
 * validate` rejects e.g. a missing ")" in an inline rule); the real parser checks the rest.
 */
const RULE_OUTLINE = "^\\s*[^\\s()]+\\s*(\\([\\s\\S]*\\)\\s*)?$";

/** A rule string, checked by the same parser the engine uses: the error names the rule and why. */
const ruleString = z
  .string()
  .superRefine((rule, ctx) => {
    try {
      parseRule(rule);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
    }
  })
  .meta({ pattern: RULE_OUTLINE });

const ruleList = z.array(ruleString).default([]);

const ruleSetShape = {
  mode: modeSchema.optional().describe("default: pass unless a rule asks/denies; strict: ask unless allowed; acceptEdits: strict, but file edits pass; bypassPermissions: pass unless denied; dontAsk: what would ask is denied"),
  allow: ruleList.describe("rules that allow, e.g. \"exec(git status)\""),
  ask: ruleList.describe("rules that need a human decision"),
  deny: ruleList.describe("rules that always block"),
  tools: z.record(z.string(), toolDefaultSchema).default({}).describe("per-tool fallback: deny | allowlist (ask) | full (allow)"),
};

const agentPolicySchema = z.strictObject(ruleSetShape);
export type AgentPolicy = z.infer<typeof agentPolicySchema>;

export const policySchema = z
  .strictObject({
    ...ruleSetShape,
    mode: modeSchema.default("default").describe(ruleSetShape.mode.description ?? ""),
    agents: z.record(z.string(), agentPolicySchema).default({}).describe("per-agent overrides, merged over the top-level lists"),
    paramKeys: z
      .record(z.string(), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]))
      .default({})
      .describe("for plugin tools: which params form the content a rule matches, e.g. { deploy: [\"service\", \"env\"] } or { deploy: \"service\" }"),
    dangerousPatterns: z
      .array(ruleString)
      .default([])
      .describe("rules whose matches may be approved once but never become allow-always"),
    shellTools: z
      .array(z.string().min(1))
      .default(["exec", "bash", "process"])
      .describe("tools whose `command` param (or, for OpenClaw's `process` tool, the text it types) is parsed as shell"),
    selfProtection: z
      .boolean()
      .default(true)
      .describe("built-in rules, checked before yours, deny tool calls that could decide approvals or loosen the gate (clawgate CLI, its Redis, decision routes, config, data); false turns them off and logs a warning at every start"),
  })
  .default({ mode: "default", allow: [], ask: [], deny: [], tools: {}, agents: {}, paramKeys: {}, dangerousPatterns: [], shellTools: ["exec", "bash", "process"], selfProtection: true });

export type PolicyConfig = z.infer<typeof policySchema>;
