import type { Decision } from "./schema.ts";
import type { DecisionSource } from "./types.ts";

export type VerdictLabel = "part" | "pipeline" | "line" | "write";

/** How one piece of a call was judged, with what the explanation needs. */
export interface Verdict {
  decision: Decision;
  source: DecisionSource;
  /** Deciding rule, or a synthetic one (`mode:strict`, `tool-default:exec`); null when unparsed. */
  rule: string | null;
  /** The text that decided: what a rule matched, or the piece itself. */
  matched: string;
  /** Index in Subjects.parts, or -1 for pipelines, whole lines and redirect writes. */
  partIndex: number;
  label: VerdictLabel;
  unparsed: string | undefined;
  /** Set with `unparsed` when the piece runs code we cannot read but a rule could have allowed it. */
  opaque: boolean;
  /** A dangerousPatterns rule this piece matched. */
  dangerous: string | undefined;
  /** Set when bypassPermissions let through something that would ask. */
  bypassed: { rule: string | null; source: DecisionSource } | undefined;
  /** Set with `unparsed` when an allow rule matched but does not name an option that writes or runs programs. */
  effect: { why: string; rule: string } | undefined;
}

/** Every verdict has the same shape (one hidden class on the hot path). */
export function verdict(decision: Decision, source: DecisionSource, rule: string | null, matched: string, partIndex: number, label: VerdictLabel): Verdict {
  return { decision, source, rule, matched, partIndex, label, unparsed: undefined, opaque: false, dangerous: undefined, bypassed: undefined, effect: undefined };
}
