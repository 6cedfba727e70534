import { ApproverNotAllowedError, BadRequestError, NoSigningKeyError, type ClawgateError } from "../errors.ts";
import { ScriptCode, scriptError } from "../lua/codes.ts";
import type { Logger } from "../log.ts";
import { CHAT_VIA, signDecision } from "../trust/decisions.ts";
import type { Signer } from "../trust/signature.ts";
import { describeResolution, type ApprovalRecord, type DecisionKind, type Resolution } from "./record.ts";
import type { Recipient } from "./events.ts";
import type { ApprovalStore, Decide } from "./store.ts";

export interface DecideInput {
  id: string;
  decision: DecisionKind;
  /** Who decided: "cli:alice@host", "slack:U0ALICE", "person:alice", … */
  actor: string;
  /** Which channel: cli, slack, discord, email, api, openclaw. */
  via: string;
  reason?: string | undefined;
  /** The record the decider was shown (read when not given): the signature covers its params hash and rule. */
  record?: Pick<ApprovalRecord, "paramsHash" | "alwaysAllowRule"> | null | undefined;
}

/**
 * The state transitions every decider shares: one Lua script each, which also appends the
 * event that `clawgate serve` turns into message edits, the audit entry and metrics. Nothing
 * here is best-effort: a transition and its consequences stand or fall together.
 * Authorization happens before this (src/inbound/decisions.ts).
 */
export class ApprovalService {
  constructor(
    readonly store: ApprovalStore,
    private readonly log: Logger,
    /**
     * The key that signs this process's approvals: serve's decision key, or a gateway's chat
     * key. Without one this process can deny but not approve (an approval nobody signed
     * releases nothing, so it is refused here rather than written).
     */
    readonly signer: Signer | null = null,
  ) {}

  async decide(input: DecideInput): Promise<Resolution> {
    if (input.decision === "deny" && !input.reason?.trim()) throw new BadRequestError("a denial needs a reason (it is sent back to the agent)");
    const now = Date.now();
    let d: Decide;
    if (input.decision === "deny") {
      d = { state: "denied", decision: "deny", by: input.actor, via: input.via, reason: input.reason };
    } else {
      if (!this.signer) throw new NoSigningKeyError();
      if (this.signer.use === "chat" && input.via !== CHAT_VIA) throw new NoSigningKeyError(`this process holds only a chat key, which signs /clawgate decisions made in OpenClaw chat, not ${input.via} ones`);
      const shown = input.record ?? (await this.store.get(input.id));
      const sig = signDecision(this.signer, { id: input.id, paramsHash: shown?.paramsHash ?? "", decision: input.decision, by: input.actor, via: input.via, at: now, rule: shown?.alwaysAllowRule ?? "" });
      d = { state: "approved", decision: input.decision, by: input.actor, via: input.via, reason: input.reason, sig };
    }
    const out = await this.store.resolve(input.id, d, now);
    if (out.code === ScriptCode.Done) {
      this.log.info({ approvalId: input.id, state: out.resolution.state, by: input.actor, via: input.via }, "approval decided");
      return out.resolution;
    }
    if (!("resolution" in out)) {
      // A refused allow-always is the decider's choice of button, not a decision too late or on nothing.
      if (out.code === ScriptCode.NotFound) await this.refusal(input.id, input.actor, input.via, "approval_not_found", input.decision);
      throw scriptError(out.code, { id: input.id });
    }
    const err = scriptError(out.code, { id: input.id, ended: describeResolution(out.resolution), details: { ...out.resolution } });
    await this.refusal(input.id, input.actor, input.via, err.code, input.decision);
    throw err;
  }

  /**
   * Expire (deadline passed) or cancel (run aborted, waiter gone). Returns the final resolution,
   * whoever made it, or null when there is no such approval (or the guard was not met).
   */
  async close(id: string, state: "expired" | "cancelled", by: string, reason: string, opts: { guard?: "due" | "lease"; tombstone?: boolean } = {}): Promise<Resolution | null> {
    const out = await this.store.resolve(id, { state, decision: "", by, via: "clawgate", reason, ...opts });
    return "resolution" in out ? out.resolution : null;
  }

  /**
   * The escalation chain ran out and ends with `{ deny }`: denied as clawgate with the chain's
   * reason. null when the approval had ended already (or is gone): nothing to refuse, nobody asked.
   */
  async denyUnanswered(id: string, reason: string): Promise<Resolution | null> {
    const out = await this.store.resolve(id, { state: "denied", decision: "deny", by: "clawgate", via: "clawgate", reason });
    if (out.code !== ScriptCode.Done || !("resolution" in out)) return null;
    this.log.info({ approvalId: id, state: "denied", by: "clawgate", via: "clawgate" }, "approval decided");
    return out.resolution;
  }

  /** An escalation tier fired: who it reached may now decide (see the notified set). */
  escalate(id: string, tier: number, recipients: Recipient[], identities: string[]): Promise<"escalated" | "not_found" | "final" | "already"> {
    return this.store.escalate(id, tier, recipients, identities);
  }

  /** Someone who may not decide: the refusal is recorded (and audited by serve), nothing changes, and they are told why. */
  async refuse(input: { id: string; actor: string; via: string; why: string; decision?: string }): Promise<never> {
    await this.refusal(input.id, input.actor, input.via, input.why, input.decision);
    throw new ApproverNotAllowedError(input.actor, input.via, input.why);
  }

  /** Records a refusal (audited by serve) without throwing: for callers that answer with an outcome. */
  async recordRefusal(input: { id: string; actor: string; via: string; why: string; decision?: string }): Promise<void> {
    await this.refusal(input.id, input.actor, input.via, input.why, input.decision);
  }

  private async refusal(id: string, actor: string, via: string, why: string, decision?: string): Promise<void> {
    try {
      // The id may be anything a caller typed: keep what is recorded short.
      await this.store.appendEvent("approval.refused", id.slice(0, 64), { actor, via, why, ...(decision ? { decision } : {}) });
    } catch (err) {
      // The caller is refused either way; a refusal we could not record is logged loudly.
      this.log.error({ approvalId: id, actor, via, why, err: (err as Error).message }, "could not record a refusal");
    }
  }
}

/** approval_already_decided for `r`, worded as every channel words it. */
export function alreadyDecided(r: Resolution): ClawgateError {
  return scriptError(ScriptCode.NotPending, { id: r.id, ended: describeResolution(r), details: { ...r } });
}
