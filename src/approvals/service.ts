import { ApprovalAlreadyDecidedError, ApprovalNotFoundError, ApproverNotAllowedError, BadRequestError } from "../errors.ts";
import type { AuditEvent } from "../audit/event.ts";
import type { Logger } from "../log.ts";
import type { JobProducer } from "../../queue/producer.ts";
import { describeResolution, type DecisionKind, type Resolution } from "./record.ts";
import type { ApprovalStore, Decide } from "./store.ts";

/** The subset of the audit log the approval flow writes to. */
export interface AuditSink {
  append(event: AuditEvent): Promise<unknown>;
}

export interface DecideInput {
  id: string;
  decision: DecisionKind;
  /** Who decided: "cli:alice", "slack:U0ALICE", … */
  actor: string;
  /** Which channel: cli, slack, discord, email, api, openclaw. */
  via: string;
  reason?: string | undefined;
}

/**
 * Decisions from every channel go through here: one Lua transition, one audit entry, and
 * update jobs so every rendered message shows the outcome.
 */
export class ApprovalService {
  constructor(
    readonly store: ApprovalStore,
    private readonly deps: { audit: AuditSink; producer: JobProducer | null; channels: readonly string[]; log: Logger },
  ) {}

  async decide(input: DecideInput): Promise<Resolution> {
    if (input.decision === "deny" && !input.reason?.trim()) throw new BadRequestError("a denial needs a reason (it is sent back to the agent)");
    const d: Decide =
      input.decision === "deny"
        ? { state: "denied", decision: "deny", by: input.actor, via: input.via, reason: input.reason }
        : { state: "approved", decision: input.decision, by: input.actor, via: input.via, reason: input.reason };
    const out = await this.store.resolve(input.id, d);
    if (out.kind === "not_found") {
      await this.audit({ type: "refusal", approvalId: input.id, actor: input.actor, channel: input.via, decision: input.decision, reason: "approval_not_found" });
      throw new ApprovalNotFoundError(input.id);
    }
    if (out.kind === "always_refused") {
      throw new BadRequestError(`approval ${input.id} cannot be always-allowed (it matches a dangerous pattern or could not be fully understood); approve it once instead`);
    }
    if (out.kind === "already") {
      await this.audit({ type: "refusal", approvalId: input.id, actor: input.actor, channel: input.via, decision: input.decision, reason: "approval_already_decided" });
      throw alreadyDecided(out.resolution);
    }
    if (out.kind !== "resolved") throw new BadRequestError(`approval ${input.id} could not be decided`);
    await this.finish(out.resolution, input.decision);
    return out.resolution;
  }

  /** Expire (deadline passed) or cancel (run aborted). Returns the final resolution either way. */
  async close(id: string, state: "expired" | "cancelled", by: string, reason: string, onlyWhenDue = false): Promise<Resolution | null> {
    const out = await this.store.resolve(id, { state, decision: "", by, via: "clawgate", reason, onlyWhenDue });
    if (out.kind === "resolved") {
      await this.finish(out.resolution, state);
      return out.resolution;
    }
    return out.kind === "already" ? out.resolution : null;
  }

  /** An approver who may not decide: audited, nothing changes, and the caller is told why. */
  async refuse(input: { id: string; actor: string; via: string; why?: string }): Promise<never> {
    await this.audit({ type: "refusal", approvalId: input.id, actor: input.actor, channel: input.via, reason: input.why ?? "approver_not_allowed" });
    throw new ApproverNotAllowedError(input.actor, input.via);
  }

  private async finish(r: Resolution, what: string): Promise<void> {
    const record = await this.store.get(r.id);
    await this.audit({
      type: r.state === "expired" ? "approval.expired" : r.state === "cancelled" ? "approval.cancelled" : "decision",
      approvalId: r.id,
      actor: r.decidedBy,
      channel: r.decidedVia,
      decision: what,
      reason: r.reason,
      tool: record?.tool,
      agentId: record?.agentId,
      ...(r.decision === "allow-always" && record ? { details: { savedRule: record.alwaysAllowRule } } : {}),
    });
    this.deps.log.info({ approvalId: r.id, state: r.state, by: r.decidedBy, via: r.decidedVia }, "approval resolved");
    if (this.deps.producer) {
      await this.deps.producer.updates(r.id, this.deps.channels).catch((err: unknown) => {
        // The decision stands; a message left stale is logged, not silently dropped.
        this.deps.log.error({ approvalId: r.id, err: (err as Error).message }, "could not enqueue message updates");
      });
    }
  }

  private async audit(event: Parameters<AuditSink["append"]>[0]): Promise<void> {
    try {
      await this.deps.audit.append(stripUndefined(event));
    } catch (err) {
      // The transition already happened in Redis; failing the caller now would misreport it.
      // A missing entry is loud in the logs and shows up as a gap nowhere else, so log at error.
      this.deps.log.error({ event: event.type, approvalId: event.approvalId, err: (err as Error).message }, "audit append failed");
    }
  }
}

export function alreadyDecided(r: Resolution): ApprovalAlreadyDecidedError {
  return new ApprovalAlreadyDecidedError(`approval ${r.id} was already ${describeResolution(r)}`, { ...r });
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
