import { redactText } from "../redact/redact.ts";
import type { PolicyMode } from "./schema.ts";
import type { Verdict } from "./verdict.ts";

/** Quoted and cut to 200 characters; redacted first, so a cut cannot leave half a secret behind. */
const q = (s: string): string => {
  if (s.length <= 200) return JSON.stringify(s);
  return JSON.stringify(`${redactText(s).slice(0, 200)}…`);
};

function where(v: Verdict, parts: number): string {
  switch (v.label) {
    case "pipeline":
      return `matched pipeline ${q(v.matched)}`;
    case "line":
      return `matched the whole line ${q(v.matched)}`;
    case "write":
      return `the command writes to ${q(v.matched)}`;
    case "part":
      return parts > 1 ? `matched ${q(v.matched)}, part ${v.partIndex + 1} of ${parts}` : `matched ${q(v.matched)}`;
  }
}

function ruleName(v: Verdict): string {
  return v.source === "override" ? `override ${q(v.rule ?? "")}` : `rule ${q(v.rule ?? "")}`;
}

/** What an ask verdict needs, without the "needs approval: " lead. */
function askCause(v: Verdict, tool: string, mode: PolicyMode): string {
  switch (v.source) {
    case "unparsed":
      if (v.effect) return `${q(v.matched)}: ${v.effect.why}, and rule ${q(v.effect.rule)} does not name that option`;
      return `could not understand ${q(v.matched)} (${v.unparsed ?? "not understood"})`;
    case "dangerous":
      return `${q(v.matched)} matches dangerous pattern ${q(v.rule ?? "")}`;
    case "tool-default":
      return `tool ${q(tool)} is allowlist-only and no rule allows ${q(v.matched)}`;
    case "mode":
      if (v.label === "write") return `the command writes to ${q(v.matched)} and mode ${q(mode)} asks`;
      return mode === "acceptEdits"
        ? `no rule matched ${q(v.matched)} and mode "acceptEdits" only passes file edits`
        : `no rule matched ${q(v.matched)} and mode ${q(mode)} asks`;
    default:
      return `${ruleName(v)} asks`;
  }
}

/** One sentence saying why the call got its decision. */
export function explain(v: Verdict, tool: string, mode: PolicyMode, partCount: number, dontAsk: boolean): string {
  if (dontAsk) return `dontAsk mode: ${q(v.matched)} would need approval (${askCause(v, tool, mode)})`;
  if (v.decision === "deny") {
    if (v.source === "tool-default") return `denied: tool ${q(tool)} defaults to deny`;
    return `denied by ${ruleName(v)} (${where(v, partCount)})`;
  }
  if (v.decision === "ask") {
    if (v.source === "ask-rule" || v.source === "override") return `needs approval: ${ruleName(v)} asks (${where(v, partCount)})`;
    return `needs approval: ${askCause(v, tool, mode)}`;
  }
  switch (v.source) {
    case "always-allow":
      return `allowed by saved allow-always rule ${q(v.rule ?? "")}`;
    case "tool-default":
      return `allowed: tool ${q(tool)} defaults to full`;
    case "mode":
      if (v.bypassed) {
        const what = v.bypassed.rule && !v.bypassed.rule.startsWith("mode:") ? ` although ${v.bypassed.source === "tool-default" ? "the tool default" : `rule ${q(v.bypassed.rule)}`} asks` : "";
        return `allowed: mode "bypassPermissions" passes${what}`;
      }
      if (mode === "acceptEdits") return `allowed: mode "acceptEdits" passes file edits`;
      return partCount > 1 ? `allowed: no rule matched ${q(v.matched)} and mode ${q(mode)} passes` : `allowed: no rule matched and mode ${q(mode)} passes`;
    default:
      return `allowed by ${ruleName(v)}`;
  }
}
