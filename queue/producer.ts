import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { ClawgateConfig } from "../src/config/schema.ts";
import { DEFAULT_JOB_OPTIONS, type NotifyJob } from "./jobs.ts";
import { bullPrefix, jobIds, queueName, type JobKind } from "./names.ts";

type BullMQ = typeof import("bullmq");

/** Adds clawgate's jobs. One Queue object per queue name, created on first use. */
export class JobProducer {
  private readonly queues = new Map<string, Queue>();
  private readonly prefix: string;
  private bullmq: Promise<BullMQ> | null = null;

  /**
   * BullMQ (~200 ms to load) starts loading at construction, so a gateway's first ask — which
   * must enqueue within redis.commandTimeout — never waits for it. `loadBullmq: "on-first-use"`
   * is for the CLI, whose list/show never enqueue and should not pay for it.
   */
  constructor(
    private readonly connection: Redis,
    redisPrefix: string,
    opts: { loadBullmq?: "now" | "on-first-use" } = {},
  ) {
    this.prefix = bullPrefix(redisPrefix);
    if (opts.loadBullmq !== "on-first-use") {
      this.bullmq = import("bullmq");
      this.bullmq.catch(() => undefined); // reported by the first queue() that awaits it
    }
  }

  async queue(kind: JobKind, channel?: string): Promise<Queue> {
    const name = queueName(kind, channel);
    let q = this.queues.get(name);
    if (!q) {
      const { Queue } = await (this.bullmq ??= import("bullmq"));
      q = this.queues.get(name) ?? new Queue(name, { connection: this.connection, prefix: this.prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
      this.queues.set(name, q);
    }
    return q;
  }

  async notify(approvalId: string, channels: readonly string[], tier: number, kind: NotifyJob["kind"]): Promise<void> {
    await Promise.all(
      channels.map(async (channel) =>
        (await this.queue("notify", channel)).add("notify", { approvalId, channel, tier, kind }, { jobId: jobIds.notify(approvalId, channel, tier) }),
      ),
    );
  }

  async updates(approvalId: string, channels: readonly string[]): Promise<void> {
    await Promise.all(
      channels.map(async (channel) => (await this.queue("update", channel)).add("update", { approvalId, channel }, { jobId: jobIds.update(approvalId, channel) })),
    );
  }

  /** Delayed jobs for the escalation tiers and the deadline; they no-op if decided first. */
  async timers(approvalId: string, createdAt: number, deadline: number, config: ClawgateConfig): Promise<void> {
    const now = Date.now();
    const jobs: Array<Promise<unknown>> = [
      this.queue("expire").then((q) => q.add("expire", { approvalId }, { jobId: jobIds.expire(approvalId), delay: Math.max(0, deadline - now) })),
    ];
    let at = createdAt;
    config.escalation.tiers.forEach((tier, i) => {
      at += tier.after;
      if (at >= deadline) return;
      const delay = Math.max(0, at - now);
      jobs.push(this.queue("escalate").then((q) => q.add("escalate", { approvalId, tier: i + 1 }, { jobId: jobIds.escalate(approvalId, i + 1), delay })));
    });
    await Promise.all(jobs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
