import type { ApprovalFacts, RouteApprovers } from "../approvals/facts.ts";
import { resolutionOf, type ApprovalRecord, type DecisionKind, type Resolution } from "../approvals/record.ts";
import type { RulesWriter } from "../approvals/runtime-rules.ts";
import { alreadyDecided, type ApprovalService } from "../approvals/service.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { ApprovalNotFoundError, ApproverNotAllowedError, ClawgateError } from "../errors.ts";
import { routeFor } from "../oncall/route.ts";
import { identityKey, People, requesterIdentities, type Identity } from "./identity.ts";

/**
 * What a channel knows about whether an identity is one of its approvers (Slack user ids and
 * user groups, Discord users and roles, email addresses, configured chat approvers). `true`
 * skips the channel check: the CLI and admin API tokens act with operator authority.
 */
export type ChannelApproverCheck = ((identity: Identity) => Promise<boolean> | boolean) | true;

export interface InboundDecision {
  identity: Identity;
  approvalId: string;
  decision: DecisionKind;
  reason?: string | undefined;
  isChannelApprover: ChannelApproverCheck;
}

/** Why someone may not decide (audited as the refusal's reason, shown to them in words). */
export type RefusalCode = "self_approval" | "not_approver";

/**
 * What became of an inbound decision: each channel only renders this (`error` words it the
 * way every channel words it). Refusals of every kind have been recorded for the audit log.
 */
export type DecisionOutcome =
  | { kind: "decided"; record: ApprovalRecord; resolution: Resolution }
  | { kind: "already-decided"; resolution: Resolution; error: ClawgateError }
  | { kind: "expired"; resolution: Resolution | null; error: ClawgateError }
  | { kind: "refused"; code: RefusalCode; why: string; record: ApprovalRecord; error: ClawgateError }
  | { kind: "not-found"; id: string; error: ClawgateError }
  /** The request itself cannot be done (a denial without a reason, no signing key, an allow-always not offered). */
  | { kind: "invalid"; error: ClawgateError };

/** May `identity` act on a pending approval (open its deny form, its always-allow confirmation)? Nothing is decided. */
export type CheckOutcome = { kind: "allowed"; record: ApprovalRecord } | Exclude<DecisionOutcome, { kind: "decided" | "invalid" }>;

/** May `identity` see an approval's full params, whatever its state? One rule on every channel: its approvers may. */
export type ViewOutcome = { kind: "shown"; record: ApprovalRecord } | { kind: "refused"; why: string } | { kind: "not-found"; id: string; error: ClawgateError };

/** What authorization reads besides the record: fixed in Redis when serve first saw the approval. */
type AuthFacts = Pick<ApprovalFacts, "approvers" | "requesterPerson" | "requesterIds">;

/**
 * The one inbound decision pipeline for every channel — Slack, Discord, email, the REST API
 * and the CLI behind it, the gateway's `/clawgate` chat command, every chat channel's command.
 * The channel has verified the request; then, like middleware over one context: load the
 * record once → identity → person → authorize once (self-approval, channel or route approvers,
 * escalation reach) → decide (Lua; the deadline is checked there) → a typed outcome the
 * channel renders. Route approvers and the requester's person come from the approval's facts
 * in Redis, so serve, gateways and the CLI authorize the same way whatever config they read.
 */
export class InboundDecisions {
  readonly people: People;

  constructor(
    readonly service: ApprovalService,
    private readonly config: ClawgateConfig,
    /** serve's signed runtime rules: an allow-always decision saves its rule at once (the event backstops it). */
    private readonly rules: RulesWriter | null = null,
  ) {
    this.people = new People(config);
  }

  /**
   * What decisions record as "by": the identity the channel verified ("slack:U0ALICE",
   * "cli:alice@host", "api:alice"). The person behind it is resolved again wherever needed
   * (authorization here, the audit entry in serve), so the record keeps what was proven.
   */
  actorOf(identity: Identity): string {
    return identityKey(identity);
  }

  /** Load → authorize → decide. Never throws for a refusal or an approval that has ended: see DecisionOutcome. */
  async run(input: InboundDecision): Promise<DecisionOutcome> {
    const checked = await this.check(input);
    if (checked.kind !== "allowed") return checked;
    const { record } = checked;
    const actor = this.actorOf(input.identity);
    let resolution: Resolution;
    try {
      resolution = await this.service.decide({ id: input.approvalId, decision: input.decision, actor, via: input.identity.channel, reason: input.reason, record });
    } catch (err) {
      // Decided elsewhere since it was loaded, or the deadline passed: the Lua said so, and the service recorded it.
      if (!(err instanceof ClawgateError)) throw err;
      return this.outcomeOf(err, record);
    }
    if (this.rules && resolution.decision === "allow-always" && record.alwaysAllowRule) {
      // If this fails, serve's handler of the decided event saves it (the decision stands either way).
      await this.rules.addAlwaysAllow(record.alwaysAllowRule, actor).catch(() => undefined);
    }
    return { kind: "decided", record, resolution };
  }

  /** As run(), for callers that answer with errors (the REST API, the shared verbs): throws the outcome's error. */
  async decide(input: InboundDecision): Promise<Resolution> {
    const out = await this.run(input);
    if (out.kind === "decided") return out.resolution;
    throw out.error;
  }

  /**
   * The pipeline up to the decision: the record, loaded once, is pending and `identity` may
   * decide it. Any other answer is recorded as a refusal (audited by serve).
   */
  async check(input: Pick<InboundDecision, "identity" | "approvalId" | "decision" | "isChannelApprover">): Promise<CheckOutcome> {
    const actor = this.actorOf(input.identity);
    const via = input.identity.channel;
    const record = await this.service.store.get(input.approvalId);
    if (!record) {
      const error = new ApprovalNotFoundError(input.approvalId);
      await this.service.recordRefusal({ id: input.approvalId, actor, via, why: error.code, decision: input.decision });
      return { kind: "not-found", id: input.approvalId, error };
    }
    const done = resolutionOf(record);
    if (done) {
      const error = alreadyDecided(done);
      await this.service.recordRefusal({ id: record.id, actor, via, why: error.code, decision: input.decision });
      return done.state === "expired" ? { kind: "expired", resolution: done, error } : { kind: "already-decided", resolution: done, error };
    }
    const refusal = await this.authorization(record, input);
    if (refusal) {
      await this.service.recordRefusal({ id: record.id, actor, via, why: refusal.why, decision: input.decision });
      return { kind: "refused", ...refusal, record, error: new ApproverNotAllowedError(actor, via, refusal.why) };
    }
    return { kind: "allowed", record };
  }

  /** Full params (secrets redacted) are for the approval's approvers only, pending or decided, on every channel. */
  async view(input: Pick<InboundDecision, "identity" | "approvalId" | "isChannelApprover">): Promise<ViewOutcome> {
    const record = await this.service.store.get(input.approvalId);
    if (!record) return { kind: "not-found", id: input.approvalId, error: new ApprovalNotFoundError(input.approvalId) };
    // As for a denial: the requester may see what they asked for, if they are an approver too.
    const refusal = await this.authorization(record, { ...input, decision: "deny" });
    return refusal ? { kind: "refused", why: "only approvers of this request can open the full params" } : { kind: "shown", record };
  }

  /** null when `identity` may decide `record`, else why not (shown to them and audited by the caller). */
  async authorize(record: ApprovalRecord, input: Pick<InboundDecision, "identity" | "decision" | "isChannelApprover">): Promise<string | null> {
    return (await this.authorization(record, input))?.why ?? null;
  }

  /**
   * The approval's facts as fixed in Redis; before serve has seen the approval (or without a
   * serve), what this process's config says — the same thing wherever the config is complete.
   */
  private async factsOf(record: ApprovalRecord): Promise<AuthFacts> {
    const fixed = await this.service.store.facts(record.id);
    if (fixed) return fixed;
    const approvers = routeFor(this.config, record)?.approvers;
    const requesterPerson = this.people.requesterPerson(record.requester);
    return {
      approvers: approvers ? this.people.routeApprovers(approvers) : null,
      requesterPerson,
      requesterIds: [],
    };
  }

  /**
   * The requester and the decider are the same identity (whether or not `people` maps it to a
   * person: "telegram:42" asking in chat and deciding with /clawgate), or the same person.
   */
  private isRequester(record: ApprovalRecord, facts: AuthFacts, key: string, person: string | null): boolean {
    if (requesterIdentities(record.requester).includes(key) || facts.requesterIds.includes(key)) return true;
    return person !== null && person === facts.requesterPerson;
  }

  /** `ids` holds every identity of the route's people and its `slack.users`, expanded when the facts were made. */
  private isRouteApprover(route: RouteApprovers, key: string, person: string | null): boolean {
    return (person !== null && route.people.includes(person)) || route.ids.includes(key);
  }

  private async authorization(record: ApprovalRecord, input: Pick<InboundDecision, "identity" | "decision" | "isChannelApprover">): Promise<{ code: RefusalCode; why: string } | null> {
    const facts = await this.factsOf(record);
    const key = identityKey(input.identity);
    const person = this.people.personOf(input.identity);
    if (input.decision !== "deny" && !this.config.approvals.allowSelfApproval && this.isRequester(record, facts, key, person)) {
      return { code: "self_approval", why: "you asked for this call yourself; someone else must approve it (approvals.allowSelfApproval is off)" };
    }
    if (input.isChannelApprover === true) return null;
    // A route with its own approvers replaces the channels' approver lists for its requests.
    if (facts.approvers) {
      if (this.isRouteApprover(facts.approvers, key, person)) return null;
    } else if (await input.isChannelApprover(input.identity)) return null;
    // Whoever an escalation tier reached directly may decide.
    const notified = new Set(await this.service.store.notified(record.id));
    if (notified.has(key) || (person && notified.has(`person:${person}`))) return null;
    return { code: "not_approver", why: "you are not an approver for this request" };
  }

  /** A decision the Lua refused after authorization (a race with another decider, or the deadline). */
  private async outcomeOf(err: ClawgateError, record: ApprovalRecord): Promise<DecisionOutcome> {
    if (err.code === "approval_not_found") return { kind: "not-found", id: record.id, error: err };
    const now = await this.service.store.get(record.id);
    const resolution = now ? resolutionOf(now) : null;
    if (err.code === "approval_expired") return { kind: "expired", resolution, error: err };
    if (err.code === "approval_already_decided" && resolution) return { kind: "already-decided", resolution, error: err };
    return { kind: "invalid", error: err };
  }
}
