import { CLOSE_REASONS, describeResolution, type Resolution } from "../approvals/record.ts";
import type { Ruling } from "../policy/engine.ts";

/**
 * Every blockReason the agent sees. They are specific on purpose: "denied" alone is the
 * complaint we exist to fix. Each names the rule or approval id, who, via what, and why.
 */
export const blockReasons = {
  denied: (d: Ruling) => `clawgate: blocked by policy rule "${d.rule ?? d.source}": ${d.reason}`,
  decided: (r: Resolution) => `clawgate: approval ${r.id} ${describeResolution(r)}`,
  timedOut: (id: string, timeoutMs: number) =>
    `clawgate: approval ${id} timed out after ${formatMs(timeoutMs)} with no decision; the call was not run`,
  stillPending: (id: string, budgetMs: number, retryGrantMs: number) =>
    `clawgate: approval ${id} is still pending, but this tool call's wait budget (${formatMs(budgetMs)}) ran out first; ` +
    (retryGrantMs > 0
      ? `once it is approved, retrying the identical call within ${formatMs(retryGrantMs)} will run it`
      : "the call was not run (set approvals.retryGrant to let a later approval release a retry)"),
  forged: (id: string, timeoutMs: number) =>
    `clawgate: approval ${id} timed out after ${formatMs(timeoutMs)} with no valid decision; an approval written to Redis without a valid signature was ignored (see the audit log), and the call was not run`,
  rulesNotLoaded: (why: string) => `clawgate: blocked because the runtime rules could not be loaded (${why}); clawgate fails closed until they load, so a runtime deny never silently vanishes`,
  cancelled: (r: Pick<Resolution, "id" | "reason">) => {
    if (r.reason === CLOSE_REASONS.aborted) return `clawgate: approval ${r.id} was cancelled because the run was aborted`;
    if (r.reason.startsWith(CLOSE_REASONS.leaseLapsedPrefix)) {
      // Said to a gateway that is alive after all: it was paused and cut off from Redis for longer than a lease.
      return `clawgate: approval ${r.id} was cancelled because its ${r.reason}; the call was not run: retry it to ask again`;
    }
    return `clawgate: approval ${r.id} was cancelled${r.reason ? ` (${r.reason})` : ""}; the call was not run`;
  },
  internal: (why: string) => `clawgate: the approval could not be requested (${why}); blocked because clawgate never fails open on its own errors`,
  unavailable: (why: string) =>
    `clawgate: approval service unavailable (${why}); blocked because clawgate fails closed (approvals.failOpen: false)`,
};

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
