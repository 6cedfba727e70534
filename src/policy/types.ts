import type { Decision } from "./schema.ts";

export type ActionType = "read" | "write" | "delete" | "exec" | "network" | "deploy" | "message" | "unknown";

export interface Risk {
  actionType: ActionType;
  /** 0 (harmless) … 100 (destructive, irreversible, production). */
  score: number;
  class: "low" | "medium" | "high" | "critical";
  reversible: boolean;
  /** Systems touched, e.g. ["git", "filesystem", "network:example.com"]. */
  systems: string[];
}

export type DecisionSource =
  | "deny-rule"
  | "always-allow"
  | "ask-rule"
  | "allow-rule"
  | "override"
  | "mode"
  | "tool-default"
  | "unparsed"
  | "dangerous"
  /** The built-in rules that keep an agent from deciding approvals or loosening the gate. */
  | "self-protection";

/** How one piece of content (e.g. one simple command of a compound shell line) was judged. */
export interface PartVerdict {
  content: string;
  decision: Decision;
  rule: string | null;
  note?: string;
}

export interface PolicyDecision {
  decision: Decision;
  /** The rule string that decided (e.g. "exec(rm -rf *)"), or a synthetic one ("mode:strict", "tool-default:exec"). */
  rule: string | null;
  source: DecisionSource;
  /** One human sentence explaining the decision. */
  reason: string;
  risk: Risk;
  /** The exact rule an allow-always would save; null when dangerousPatterns (or unparsed input) forbid it. */
  alwaysAllowRule: string | null;
  parts: PartVerdict[];
}

/** Runtime state layered on the config: Redis-held overrides and saved allow-always rules. */
export interface RuntimeRules {
  /** `clawgate policy set RULE decision`: the rule moves to that list, out of any config list. */
  overrides: ReadonlyMap<string, Decision>;
  /** Saved allow-always rules; they beat ask rules but never deny rules. */
  alwaysAllow: readonly string[];
}
