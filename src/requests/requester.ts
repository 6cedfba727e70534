import type { DecisionWaiter } from "../approvals/waiter.ts";
import { resolutionOf, type ApprovalRecord, type Requester, type Resolution } from "../approvals/record.ts";
import type { ApprovalService } from "../approvals/service.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import type { PolicyEngine } from "../policy/engine.ts";
import type { PolicyDecision } from "../policy/types.ts";
import { verifyResolution } from "../trust/decisions.ts";
import type { KeyLookup } from "../trust/signature.ts";

/** A tool call someone wants to make: from `clawgate request`, the REST API or the client. */
export interface ToolRequest {
  tool: string;
  params: unknown;
  agentId?: string | undefined;
  sessionKey?: string | undefined;
  requester?: Requester | undefined;
}

export type RequestResult =
  | { decision: "allow"; policy: PolicyDecision }
  | { decision: "deny"; policy: PolicyDecision }
  | { decision: "ask"; policy: PolicyDecision; approval: ApprovalRecord };

/** How a wait ended: decided (approved/denied), expired at the deadline, cancelled, or still pending. */
export type WaitOutcome = { kind: "final"; resolution: Resolution } | { kind: "pending" };

/**
 * An ask exactly as the plugin makes it, for callers that are not OpenClaw: the same policy
 * (with self-protection and runtime rules), the same create script (record + event, so
 * `serve` notifies the same channels), the same waiting on pub/sub.
 */
export class ApprovalRequester {
  constructor(
    private readonly service: ApprovalService,
    private readonly config: ClawgateConfig,
    private readonly engine: () => PolicyEngine,
    /** The public keys an approval must be signed by before it counts (src/trust). */
    private readonly keys: KeyLookup,
  ) {}

  /**
   * `record` as a caller may act on it: an approval that is not validly signed for this approval's
   * params and rule is shown as denied with the reason, never as approved.
   */
  view(record: ApprovalRecord): ApprovalRecord {
    const r = resolutionOf(record);
    if (!r) return record;
    const v = verifyResolution(this.keys, r, { id: record.id, paramsHash: record.paramsHash, rule: record.alwaysAllowRule });
    if (v.ok) return record;
    return { ...record, state: "denied", decision: "deny", decidedBy: "clawgate", decidedVia: "clawgate", decisionReason: `an approval without a valid signature was ignored (${v.why}); nothing may run` };
  }

  evaluate(req: ToolRequest): PolicyDecision {
    return this.engine().evaluate({ toolName: req.tool, params: req.params, agentId: req.agentId });
  }

  /** Decides allow / deny at once; on ask creates the approval (with a lease when the caller will wait and renew it). */
  async request(req: ToolRequest, opts: { lease?: boolean; timeoutMs?: number; waiter?: DecisionWaiter } = {}): Promise<RequestResult> {
    const policy = this.evaluate(req);
    if (policy.decision === "allow") return { decision: "allow", policy };
    if (policy.decision === "deny") {
      await this.service.store
        .appendEvent("policy.denied", "", { tool: req.tool, agentId: req.agentId ?? "", reason: policy.reason, rule: policy.rule ?? policy.source })
        .catch(() => undefined);
      return { decision: "deny", policy };
    }
    const approval = await this.service.store.create(
      {
        tool: req.tool,
        params: req.params,
        agentId: req.agentId,
        sessionKey: req.sessionKey,
        requester: req.requester,
        risk: policy.risk,
        rule: policy.rule,
        policyReason: policy.reason,
        alwaysAllowRule: policy.alwaysAllowRule,
        timeoutMs: opts.timeoutMs ?? this.config.approvals.timeout,
      },
      { lease: opts.lease === true, ...(opts.waiter ? { waiter: opts.waiter.id } : {}) },
    );
    return { decision: "ask", policy, approval };
  }

  /**
   * Waits for a decision until `until` (ms). With `owner`, the caller is the one who asked: its
   * lease is renewed while it waits, reaching the deadline expires the approval, and an abort
   * cancels it. Without, it only watches (a long-poll): nothing changes when it stops.
   */
  async wait(waiter: DecisionWaiter, approval: Pick<ApprovalRecord, "id" | "deadline" | "paramsHash" | "alwaysAllowRule">, until: number, opts: { owner?: boolean; signal?: AbortSignal } = {}): Promise<WaitOutcome> {
    const store = this.service.store;
    const renew = opts.owner ? setInterval(() => void store.renewLeases([approval.id]).catch(() => undefined), Math.floor(store.leaseMs / 3)) : undefined;
    const call = { id: approval.id, paramsHash: approval.paramsHash, rule: approval.alwaysAllowRule };
    const honoured = (r: Resolution) => verifyResolution(this.keys, r, call).ok;
    try {
      // A forged approval does not end the wait (it is shown as denied once the wait ends).
      const result = await waiter.wait(approval.id, Math.min(until, approval.deadline), { signal: opts.signal, accept: honoured });
      if (result.kind === "decided") return { kind: "final", resolution: result.resolution };
      if (!opts.owner) {
        const record = await store.get(approval.id);
        return record && record.state !== "pending" ? { kind: "final", resolution: finalOf(this.view({ ...record, paramsHash: call.paramsHash, alwaysAllowRule: call.rule })) } : { kind: "pending" };
      }
      const state = result.kind === "aborted" ? "cancelled" : "expired";
      // The wait ran to the approval's own deadline (timers and Date.now() may disagree by a
      // millisecond): it has expired. A wait cut short by `until` leaves it pending.
      if (state === "expired" && until < approval.deadline) return { kind: "pending" };
      const closed = await this.service.close(approval.id, state, "clawgate", state === "expired" ? "no decision before the deadline" : "the requester stopped waiting");
      if (!closed) return { kind: "pending" };
      return { kind: "final", resolution: honoured(closed) ? closed : { ...closed, state: "denied", decision: "deny", decidedBy: "clawgate", decidedVia: "clawgate", reason: "an approval without a valid signature was ignored; nothing may run" } };
    } finally {
      if (renew) clearInterval(renew);
    }
  }
}

function finalOf(r: ApprovalRecord): Resolution {
  return {
    id: r.id,
    state: r.state as Resolution["state"],
    decision: r.decision,
    decidedBy: r.decidedBy,
    decidedVia: r.decidedVia,
    reason: r.decisionReason,
    decidedAt: r.decidedAt ?? 0,
  };
}
