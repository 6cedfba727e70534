import { containsSecret, redactText } from "../redact/redact.ts";
import type { PolicyDecision } from "./types.ts";

/** Rules are few and come back in every decision: their answers are kept (up to a bound). */
const ruleVerdicts = new Map<string, boolean>();
const MAX_RULE_VERDICTS = 4096;

function ruleHasSecret(rule: string): boolean {
  let v = ruleVerdicts.get(rule);
  if (v === undefined) {
    v = containsSecret(rule);
    if (ruleVerdicts.size < MAX_RULE_VERDICTS) ruleVerdicts.set(rule, v);
  }
  return v;
}

/**
 * The decision with every secret removed from what it shows: the reason and each part.
 * (alwaysAllowRule is built secret-free in always-rule.ts.)
 */
export function scrubDecision(d: PolicyDecision): PolicyDecision {
  const dirtyParts = d.parts.some((p) => containsSecret(p.content) || (p.rule !== null && ruleHasSecret(p.rule)));
  const dirtyRule = d.rule !== null && ruleHasSecret(d.rule);
  if (!dirtyParts && !dirtyRule && !containsSecret(d.reason)) return d;
  return {
    ...d,
    rule: d.rule === null ? null : redactText(d.rule),
    reason: redactText(d.reason),
    parts: dirtyParts ? d.parts.map((p) => ({ ...p, content: redactText(p.content), rule: p.rule === null ? null : redactText(p.rule) })) : d.parts,
  };
}
