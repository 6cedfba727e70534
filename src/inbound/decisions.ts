import type { ApprovalRecord, DecisionKind, Resolution } from "../approvals/record.ts";
import type { RulesWriter } from "../approvals/runtime-rules.ts";
import type { ApprovalService } from "../approvals/service.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { routeFor } from "../oncall/route.ts";
import { routeApproverIds, routeApproversSchema } from "../oncall/chain-schema.ts";
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

/**
 * The one inbound decision path for every channel: (the channel has verified the request) →
 * identity → person → authorize → decide (Lua) → the caller replies. Refusals are recorded the
 * same way whatever the channel, and the approval stays pending.
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

  async decide(input: InboundDecision): Promise<Resolution> {
    const record = await this.service.store.get(input.approvalId);
    const actor = this.actorOf(input.identity);
    // A missing or final approval goes straight to decide(), which answers "not found" /
    // "already approved by …" and records the refusal.
    if (record?.state === "pending") {
      const why = await this.authorize(record, input);
      if (why) await this.service.refuse({ id: input.approvalId, actor, via: input.identity.channel, why, decision: input.decision });
    }
    const resolution = await this.service.decide({ id: input.approvalId, decision: input.decision, actor, via: input.identity.channel, reason: input.reason, record });
    if (this.rules && resolution.decision === "allow-always" && record?.alwaysAllowRule) {
      // If this fails, serve's handler of the decided event saves it (the decision stands either way).
      await this.rules.addAlwaysAllow(record.alwaysAllowRule, actor).catch(() => undefined);
    }
    return resolution;
  }

  /**
   * The requester and the decider are the same identity (whether or not `people` maps it to a
   * person: "telegram:42" asking in chat and deciding with /clawgate), or the same person.
   */
  private isRequester(record: ApprovalRecord, identity: Identity, person: string | null): boolean {
    const key = identityKey(identity);
    if (requesterIdentities(record.requester).includes(key)) return true;
    return person !== null && person === this.people.requesterPerson(record.requester);
  }

  /** null when `identity` may decide `record`, else why not (shown to them and audited). */
  async authorize(record: ApprovalRecord, input: Pick<InboundDecision, "identity" | "decision" | "isChannelApprover">): Promise<string | null> {
    const person = this.people.personOf(input.identity);
    if (input.decision !== "deny" && !this.config.approvals.allowSelfApproval && this.isRequester(record, input.identity, person)) {
      return "you asked for this call yourself; someone else must approve it (approvals.allowSelfApproval is off)";
    }
    if (input.isChannelApprover === true) return null;
    // A route with its own approvers replaces the channels' approver lists for its requests.
    // The gate reads no routes config: it uses the approvers serve stored when the request went out.
    const route = routeFor(this.config, record)?.approvers ?? routeApproversSchema.safeParse(await this.service.store.routeApprovers(record.id)).data;
    if (route) {
      if (person && route.people.includes(person)) return null;
      if (routeApproverIds(route).includes(identityKey(input.identity))) return null;
    } else if (await input.isChannelApprover(input.identity)) return null;
    const notified = new Set(await this.service.store.notified(record.id));
    if (notified.has(identityKey(input.identity)) || (person && notified.has(`person:${person}`))) return null;
    return `you are not an approver for this request`;
  }
}
