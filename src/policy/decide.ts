import type { Judgement } from "./judge.ts";
import { explain } from "./explain.ts";
import { alwaysAllowRule } from "./always-rule.ts";
import type { Decision, PolicyMode } from "./schema.ts";
import { scrubDecision } from "./scrub.ts";
import type { Subjects } from "./call/subjects.ts";
import type { DecisionSource, PartVerdict, PolicyDecision, Risk } from "./types.ts";
import type { Verdict } from "./verdict.ts";

/** Among several asks, the one worth showing first: what we could not read, then what is dangerous. */
const ASK_PRIORITY: readonly DecisionSource[] = ["unparsed", "dangerous", "override", "ask-rule", "tool-default", "mode"];
/** Among allows, the weakest link is what let the call through. */
const ALLOW_PRIORITY: readonly DecisionSource[] = ["mode", "tool-default", "allow-rule", "override", "always-allow"];

function pick(verdicts: Verdict[], order: readonly DecisionSource[]): Verdict | undefined {
  let best: Verdict | undefined;
  for (const v of verdicts) if (!best || order.indexOf(v.source) < order.indexOf(best.source)) best = v;
  return best;
}

function partNote(v: Verdict | null): string | undefined {
  if (!v) return "runs the commands listed with it";
  if (v.unparsed) return `not understood: ${v.unparsed}`;
  if (v.source === "dangerous") return "matches a dangerous pattern";
  if (v.bypassed) return "passed by bypassPermissions";
  return undefined;
}

/** Which verdict decides the call, and what it decides. */
export interface Choice {
  chosen: Verdict | undefined;
  all: Verdict[];
  decision: Decision;
  dontAsk: boolean;
}

export function choose(mode: PolicyMode, judgement: Judgement): Choice {
  const partVerdicts = judgement.parts.filter((v): v is Verdict => v !== null);
  const all = [...partVerdicts, ...judgement.composites];
  let chosen = all.find((v) => v.decision === "deny");
  if (!chosen) chosen = pick(all.filter((v) => v.decision === "ask"), ASK_PRIORITY);
  if (!chosen) chosen = pick(all, ALLOW_PRIORITY);
  // Nothing to judge at all cannot happen for well-formed subjects; never let it pass silently.
  if (!chosen) return { chosen, all, decision: "ask", dontAsk: false };
  const dontAsk = mode === "dontAsk" && chosen.decision === "ask";
  return { chosen, all, decision: dontAsk ? "deny" : chosen.decision, dontAsk };
}

/** The decision as shown to people: reason, risk, every part, the allow-always rule. */
export function describe(tool: string, mode: PolicyMode, subjects: Subjects, judgement: Judgement, choice: Choice, risk: Risk): PolicyDecision {
  const partCount = subjects.parts.length;
  const parts: PartVerdict[] = subjects.parts.map((p, i) => {
    const v = judgement.parts[i] ?? null;
    const note = partNote(v);
    const part: PartVerdict = { content: p.display, decision: v?.decision ?? "allow", rule: v?.rule ?? null };
    if (note) part.note = note;
    return part;
  });
  for (const v of judgement.composites) parts.push({ content: v.matched, decision: v.decision, rule: v.rule, note: v.label === "write" ? "file written by a redirection" : `whole ${v.label}` });

  const { chosen, dontAsk, decision } = choice;
  if (!chosen) {
    return scrubDecision({ decision, rule: null, source: "unparsed", reason: "needs approval: nothing in this call could be judged", risk, alwaysAllowRule: null, parts });
  }
  return scrubDecision({
    decision,
    rule: chosen.rule ?? (dontAsk ? "mode:dontAsk" : null),
    source: dontAsk ? "mode" : chosen.source,
    reason: explain(chosen, tool, mode, partCount, dontAsk),
    risk,
    alwaysAllowRule: decision === "deny" ? null : alwaysAllowRule(tool, subjects, choice.all),
    parts,
  });
}
