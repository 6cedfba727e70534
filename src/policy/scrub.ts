import { containsSecret, redactText } from "../approvals/redact.ts";
import { Lru } from "./lru.ts";
import type { PolicyDecision } from "./types.ts";

/**
 * Whether a string holds something redaction would hide. The same reasons, rules and
 * commands come back again and again, so answers are cached: a full redaction pass costs
 * microseconds, a cache hit a tenth of that.
 */
const verdicts = new Lru<string, boolean>(4096);
const MAX_CACHED_LENGTH = 4096;

export function secretIn(text: string): boolean {
  if (text.length > MAX_CACHED_LENGTH) return containsSecret(text);
  let v = verdicts.get(text);
  if (v === undefined) {
    v = containsSecret(text);
    verdicts.set(text, v);
  }
  return v;
}

/**
 * The decision with every secret removed from what it shows: the reason and each part.
 * (alwaysAllowRule is built secret-free in always-rule.ts.)
 */
export function scrubDecision(d: PolicyDecision): PolicyDecision {
  const dirtyParts = d.parts.some((p) => secretIn(p.content) || (p.rule !== null && secretIn(p.rule)));
  const dirtyRule = d.rule !== null && secretIn(d.rule);
  if (!dirtyParts && !dirtyRule && !secretIn(d.reason)) return d;
  return {
    ...d,
    rule: d.rule === null ? null : redactText(d.rule),
    reason: redactText(d.reason),
    parts: dirtyParts ? d.parts.map((p) => ({ ...p, content: redactText(p.content), rule: p.rule === null ? null : redactText(p.rule) })) : d.parts,
  };
}
