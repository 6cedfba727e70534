import { describeResolution, type Resolution } from "../approvals/record.ts";
import type { PolicyDecision } from "../policy/types.ts";

/**
 * Every blockReason the agent sees. They are specific on purpose: "denied" alone is the
 * complaint we exist to fix. Each names the rule or approval id, who, via what, and why.
 */
export const blockReasons = {
  denied: (d: PolicyDecision) => `clawgate: blocked by policy rule "${d.rule ?? d.source}": ${d.reason}`,
  decided: (r: Resolution) => `clawgate: approval ${r.id} ${describeResolution(r)}`,
  timedOut: (id: string, timeoutMs: number) =>
    `clawgate: approval ${id} timed out after ${formatMs(timeoutMs)} with no decision; the call was not run`,
  cancelled: (id: string) => `clawgate: approval ${id} was cancelled because the run was aborted`,
  unavailable: (why: string) =>
    `clawgate: approval service unavailable (${why}); blocked because clawgate fails closed (approvals.failOpen: false)`,
};

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
