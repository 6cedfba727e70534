import type { ApprovalService } from "../approvals/service.ts";
import type { Logger } from "../log.ts";
import { REMINDER_TIER, type EscalateJob } from "../../queue/jobs.ts";
import type { JobProducer } from "../../queue/producer.ts";
import { channelSpec } from "../../bots/specs.ts";
import { factsOf } from "./facts.ts";
import { notifyPriority } from "./fairness.ts";
import { identitiesOf, resolveTargets, type ResolveDeps } from "./recipients.ts";

export interface EscalationDeps {
  service: ApprovalService;
  /** For reminders and escalation notes (notify jobs). */
  producer: JobProducer;
  resolve: ResolveDeps;
  log: Logger;
}

/** Why a step did nothing, or what it did (the escalate job's return value, shown by BullMQ). */
export type StepResult = { skipped: string } | { outcome: string } | { reminded: number } | { outcome: string; recipients: number };

/**
 * One scheduled step of an approval's escalation chain: a tier that reaches more people, the
 * reminder before the deadline, or the end action. The chain is the one fixed in the approval's
 * facts when it was created, so a config reload or an on-call rotation since then does not
 * change which tiers and targets it has; an `oncall:` target of a later tier reaches whoever is
 * on call when that tier fires. State changes go through ApprovalService, like every decider's.
 */
export function escalationStep(deps: EscalationDeps): (job: EscalateJob) => Promise<StepResult> {
  const { service, log } = deps;
  const store = service.store;
  return async ({ approvalId, tier, step }) => {
    const record = await store.get(approvalId);
    if (!record || record.state !== "pending") return { skipped: record?.state ?? "gone" };
    const facts = await factsOf(deps.resolve, store, record);
    if (step === "end") {
      const end = facts.schedule.end;
      if (end === "wait") return { skipped: "wait" };
      const ended = await service.denyUnanswered(approvalId, end.deny);
      log.info({ approvalId, chain: facts.chain, outcome: ended ? "denied" : "already final" }, "escalation chain exhausted");
      return { outcome: ended ? "denied" : "final" };
    }
    if (step === "remind") {
      // Everyone who has a message for it gets a reminder in that message's thread.
      const targets = new Map<string, { channel: string; target: string }>();
      for (const key of Object.keys(await store.refs(approvalId))) {
        const [channel = "", target = "", t = "0"] = key.split("|");
        if (Number(t) < REMINDER_TIER && channelSpec(channel)?.threads) targets.set(`${channel}|${target}`, { channel, target });
      }
      await deps.producer.notify(approvalId, [...targets.values()], REMINDER_TIER, "reminder", await notifyPriority(store, record));
      return { reminded: targets.size };
    }
    if (tier < 1) return { skipped: "tier 0 goes out with the request" };
    const tiers = facts.schedule.tiers;
    const notify = tiers[tier % Math.max(1, tiers.length)]?.notify ?? [];
    const recipients = await resolveTargets(deps.resolve, notify);
    const outcome = await service.escalate(approvalId, tier, recipients, identitiesOf(recipients));
    return { outcome, recipients: recipients.length };
  };
}
