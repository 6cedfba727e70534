import { RateLimitError, UnrecoverableError, Worker, type Job, type Processor } from "bullmq";
import type { Redis } from "ioredis";
import { ChannelRateLimitedError, type ApprovalContext, type ChannelAdapter, type MessageRef } from "../bots/channel.ts";
import type { ApprovalService } from "../src/approvals/service.ts";
import type { ClawgateConfig } from "../src/config/schema.ts";
import type { Logger } from "../src/log.ts";
import { escalateJobSchema, expireJobSchema, notifyJobSchema, updateJobSchema } from "./jobs.ts";
import { bullPrefix, queueName } from "./names.ts";
import type { JobProducer } from "./producer.ts";

export interface WorkerDeps {
  config: ClawgateConfig;
  connection: Redis;
  service: ApprovalService;
  producer: JobProducer;
  channels: readonly ChannelAdapter[];
  log: Logger;
  /** Called after each job, for metrics. */
  onJob?: (queue: string, outcome: "completed" | "failed", job: Job) => void;
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: Error } }, data: unknown): T {
  const r = schema.safeParse(data);
  // A malformed job will never become valid: fail it for inspection, don't retry it.
  if (!r.success) throw new UnrecoverableError(`malformed job: ${r.error.message}`);
  return r.data;
}

/** All BullMQ workers of `clawgate serve`: per-channel notify/update, plus escalate and expire. */
export function startWorkers(deps: WorkerDeps): { close(): Promise<void> } {
  const { service, config, log } = deps;
  const store = service.store;
  const workers: Worker[] = [];
  const enabled = deps.channels.map((c) => c.name);

  const context = async (approvalId: string): Promise<ApprovalContext> => {
    const record = await store.get(approvalId);
    if (!record) throw new UnrecoverableError(`approval ${approvalId} no longer exists`);
    return { record, refs: (await store.refs(approvalId)) as Record<string, MessageRef>, config, log: log.child({ approvalId }) };
  };

  const add = (name: string, processor: Processor, extra: { limiter?: { max: number; duration: number }; concurrency?: number } = {}) => {
    const guarded: Processor = async (job, token) => {
      try {
        return await processor(job, token);
      } catch (err) {
        if (!(err instanceof ChannelRateLimitedError)) throw err;
        // Pause this queue (this channel only) for as long as the provider asked, then retry
        // the job without spending an attempt.
        log.warn({ queue: name, jobId: job.id, retryAfterMs: err.retryAfterMs }, "channel rate limited");
        await w.rateLimit(err.retryAfterMs);
        throw new RateLimitError();
      }
    };
    const w: Worker = new Worker(name, guarded, {
      connection: deps.connection,
      prefix: bullPrefix(config.redis.prefix),
      concurrency: extra.concurrency ?? 8,
      ...(extra.limiter ? { limiter: extra.limiter } : {}),
    });
    w.on("failed", (job, err) => {
      log.warn({ queue: name, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, "job failed");
      if (job) deps.onJob?.(name, "failed", job);
    });
    w.on("completed", (job) => deps.onJob?.(name, "completed", job));
    w.on("error", (err) => log.error({ queue: name, err: err.message }, "worker error"));
    workers.push(w);
  };

  for (const channel of deps.channels) {
    const limiter = channel.rateLimit ? { limiter: channel.rateLimit } : {};
    add(
      queueName("notify", channel.name),
      async (job) => {
        const data = parse(notifyJobSchema, job.data);
        const ctx = await context(data.approvalId);
        // Never post a fresh request card for something already decided elsewhere.
        if (ctx.record.state !== "pending") return { skipped: ctx.record.state };
        const ref = await channel.post(ctx, data.kind, data.tier);
        await store.addRef(data.approvalId, `${channel.name}:${data.tier}`, ref);
        // A decision may have landed while we were posting, and its update job may already
        // have run without this ref: edit the message ourselves.
        const after = await store.get(data.approvalId);
        if (after && after.state !== "pending") await channel.update({ ...ctx, record: after }, ref);
        return { posted: true };
      },
      limiter,
    );
    add(
      queueName("update", channel.name),
      async (job) => {
        const data = parse(updateJobSchema, job.data);
        const ctx = await context(data.approvalId);
        const mine = Object.entries(ctx.refs).filter(([key]) => key.startsWith(`${channel.name}:`));
        for (const [, ref] of mine) await channel.update(ctx, ref);
        return { updated: mine.length };
      },
      limiter,
    );
  }

  add(queueName("expire"), async (job) => {
    const { approvalId } = parse(expireJobSchema, job.data);
    const r = await service.close(approvalId, "expired", "clawgate", "deadline passed", true);
    return { state: r?.state ?? "gone" };
  });

  add(queueName("escalate"), async (job) => {
    const { approvalId, tier } = parse(escalateJobSchema, job.data);
    const ctx = await context(approvalId);
    if (ctx.record.state !== "pending") return { skipped: ctx.record.state };
    const targets = config.escalation.tiers[tier - 1]?.notify ?? [];
    const channels = targets.filter((t) => enabled.includes(t));
    await deps.producer.notify(approvalId, channels, tier, "escalated");
    return { notified: channels };
  });

  return {
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
