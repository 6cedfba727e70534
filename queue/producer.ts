import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Recipient } from "../src/approvals/events.ts";
import type { Step } from "../src/oncall/route.ts";
import { DEFAULT_JOB_OPTIONS, QUEUE_EVENTS_MAXLEN } from "./jobs.ts";
import type { NotifyKind } from "../src/channel/adapter.ts";
import { bullPrefix, jobIds, queueName, type JobKind } from "./names.ts";

/** BullMQ's priority range; lower runs first. */
const MAX_PRIORITY = 2_097_152;

/** Adds clawgate's jobs (only `clawgate serve` does). One Queue object per queue name, created on first use. */
export class JobProducer {
  private readonly queues = new Map<string, Queue>();
  private readonly prefix: string;

  constructor(
    private readonly connection: Redis,
    redisPrefix: string,
  ) {
    this.prefix = bullPrefix(redisPrefix);
  }

  queue(kind: JobKind, channel?: string): Queue {
    const name = queueName(kind, channel);
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, {
        connection: this.connection,
        prefix: this.prefix,
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
        streams: { events: { maxLen: QUEUE_EVENTS_MAXLEN } },
      });
      // Without a listener BullMQ prints every error of the shared connection to the console on
      // each reconnect attempt; the workers on that connection report an outage (once) already.
      q.on("error", () => undefined);
      this.queues.set(name, q);
    }
    return q;
  }

  /**
   * One job per recipient. `priority` 1 runs first: callers pass the approval's fair turn
   * (src/lifecycle/fairness.ts), so one agent's or session's burst queues behind every other
   * agent's and session's first notification.
   */
  async notify(approvalId: string, recipients: readonly Recipient[], tier: number, kind: NotifyKind, priority = 1): Promise<void> {
    const p = Math.min(MAX_PRIORITY, Math.max(1, Math.floor(priority)));
    await Promise.all(
      recipients.map((recipient) =>
        this.queue("notify", recipient.channel).add(
          "notify",
          { approvalId, recipient, tier, kind },
          { jobId: jobIds.notify(approvalId, recipient.channel, recipient.target, tier), priority: p },
        ),
      ),
    );
  }

  /** Edit jobs for an approval that ended: one per channel that has a message for it. */
  async updates(approvalId: string, channels: readonly string[]): Promise<void> {
    await Promise.all(
      channels.map((channel) => this.queue("update", channel).add("update", { approvalId, channel }, { jobId: jobIds.update(approvalId, channel) })),
    );
  }

  /**
   * Delayed jobs for a chain's steps (tiers after the first, the end action, the reminder),
   * `createdAt + step.at`; idempotent ids, so a redelivered event adds nothing twice and a
   * restarted serve finds them where they were.
   */
  async escalations(approvalId: string, createdAt: number, steps: readonly Step[], now = Date.now()): Promise<number> {
    const jobs = steps
      .filter((s) => s.kind !== "tier" || s.tier > 0)
      .map((s) => {
        const data = s.kind === "tier" ? { approvalId, tier: s.tier, step: "tier" as const } : { approvalId, tier: 0, step: s.kind };
        const jobId = s.kind === "tier" ? jobIds.escalate(approvalId, s.tier) : jobIds.escalateStep(approvalId, s.kind);
        return this.queue("escalate").add("escalate", data, { jobId, delay: Math.max(0, createdAt + s.at - now) });
      });
    await Promise.all(jobs);
    return jobs.length;
  }

  /**
   * A final approval needs no more posts: drop its waiting notify and escalate jobs so they use
   * neither a worker nor a channel's rate limit. Jobs already running find the approval final
   * and skip. (Queue.remove on a missing or active job is a no-op.)
   */
  async dropPending(approvalId: string, notifyJobs: ReadonlyArray<{ channel: string; jobId: string }>, tiers: number): Promise<void> {
    const removals: Array<Promise<unknown>> = notifyJobs.map((j) => this.queue("notify", j.channel).remove(j.jobId));
    for (let t = 1; t <= tiers; t++) removals.push(this.queue("escalate").remove(jobIds.escalate(approvalId, t)));
    for (const step of ["end", "remind"] as const) removals.push(this.queue("escalate").remove(jobIds.escalateStep(approvalId, step)));
    await Promise.all(removals);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
