import { z } from "zod";

export const DECISIONS = ["allow", "ask", "deny"] as const;
export const decisionSchema = z.enum(DECISIONS);
export type Decision = z.infer<typeof decisionSchema>;

export const MODES = ["default", "strict", "acceptEdits", "bypassPermissions", "dontAsk"] as const;
export const modeSchema = z.enum(MODES);
export type PolicyMode = z.infer<typeof modeSchema>;

/** Per-tool fallback when no rule matches: deny → deny, allowlist → ask, full → allow. */
export const toolDefaultSchema = z.enum(["deny", "allowlist", "full"]);
export type ToolDefault = z.infer<typeof toolDefaultSchema>;

const ruleList = z.array(z.string().min(1, "a rule cannot be empty")).default([]);

const ruleSetShape = {
  mode: modeSchema.optional().describe("default: pass unless a rule asks/denies; strict: ask unless allowed; acceptEdits: strict, but file edits pass; bypassPermissions: pass unless denied; dontAsk: what would ask is denied"),
  allow: ruleList.describe("rules that allow, e.g. \"exec(git status)\""),
  ask: ruleList.describe("rules that need a human decision"),
  deny: ruleList.describe("rules that always block"),
  tools: z.record(z.string(), toolDefaultSchema).default({}).describe("per-tool fallback: deny | allowlist (ask) | full (allow)"),
};

export const agentPolicySchema = z.strictObject(ruleSetShape);
export type AgentPolicy = z.infer<typeof agentPolicySchema>;

export const policySchema = z
  .strictObject({
    ...ruleSetShape,
    mode: modeSchema.default("default").describe(ruleSetShape.mode.description ?? ""),
    agents: z.record(z.string(), agentPolicySchema).default({}).describe("per-agent overrides, merged over the top-level lists"),
    paramKeys: z
      .record(z.string(), z.array(z.string().min(1)).min(1))
      .default({})
      .describe("for plugin tools: which params form the content a rule matches, e.g. { deploy: [\"service\", \"env\"] }"),
    dangerousPatterns: z
      .array(z.string().min(1))
      .default([])
      .describe("rules whose matches may be approved once but never become allow-always"),
    shellTools: z
      .array(z.string().min(1))
      .default(["exec", "bash", "process"])
      .describe("tools whose `command` param is parsed as shell"),
  })
  .default({ mode: "default", allow: [], ask: [], deny: [], tools: {}, agents: {}, paramKeys: {}, dangerousPatterns: [], shellTools: ["exec", "bash", "process"] });

export type PolicyConfig = z.infer<typeof policySchema>;
