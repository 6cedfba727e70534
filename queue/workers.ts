import { randomUUID } from "node:crypto";
import { DelayedError, UnrecoverableError, Worker, type Job, type Processor } from "bullmq";
import type { Redis } from "ioredis";
import { ChannelRateLimitedError, failedPostLeft, type ApprovalContext, type ChannelAdapter, type MessageRef, type PaceSlot, type PostMarker, type PostedRef } from "../src/channel/adapter.ts";
import type { ApprovalStore } from "../src/approvals/store.ts";
import type { ClawgateConfig } from "../src/config/schema.ts";
import type { JobProducer } from "./producer.ts";
import type { Logger } from "../src/log.ts";
import { closeMessages, lookUp, wakeEditor } from "./intents.ts";
import { Pacer, type Turn } from "./pacer.ts";
import { decodeRefEntry, encodeRefEntry, newNonce, sameRef } from "./refEntry.ts";
import { escalateJobSchema, notifyJobSchema, POST_SEND_BUDGET_MS, updateJobSchema, WORKER_SETTINGS, type EscalateJob, type NotifyJob } from "./jobs.ts";
import { bullPrefix, queueName, refKey } from "./names.ts";

export interface WorkerDeps {
  config: ClawgateConfig;
  connection: Redis;
  store: ApprovalStore;
  channels: readonly ChannelAdapter[];
  /** For an update job woken by a post that landed after its approval ended. */
  producer: JobProducer;
  /** Runs one escalation step (src/lifecycle/escalation.ts): the escalate queue's processor. */
  escalate: (job: EscalateJob) => Promise<unknown>;
  log: Logger;
  /** Called after each job, for metrics. */
  onJob?: (queue: string, outcome: "completed" | "failed", job: Job) => void;
  /** A worker's own error (its Redis connections included); logged as "worker error" without it. */
  onError?: (queue: string, err: Error) => void;
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: Error } }, data: unknown): T {
  const r = schema.safeParse(data);
  // A malformed job will never become valid: fail it for inspection, don't retry it.
  if (!r.success) throw new UnrecoverableError(`malformed job: ${r.error.message}`);
  return r.data;
}

/** The longest a provider's Retry-After holds calls back; asked for longer, calls try again then. */
const MAX_PROVIDER_WAIT_MS = 15 * 60_000;

/** All BullMQ workers of `clawgate serve`: per-channel notify/update, plus escalate (whose steps src/lifecycle runs). */
export function startWorkers(deps: WorkerDeps): { close(force?: boolean): Promise<void> } {
  const { store, config, log } = deps;
  const workers: Worker[] = [];

  /** The record and this channel's posted refs, each validated with the channel's schema. */
  const context = async (approvalId: string, channel: ChannelAdapter): Promise<ApprovalContext & { raw: Record<string, string> }> => {
    const record = await store.get(approvalId);
    if (!record) throw new UnrecoverableError(`approval ${approvalId} no longer exists`);
    const raw = await store.refs(approvalId);
    const refs: PostedRef[] = [];
    for (const [key, text] of Object.entries(raw)) {
      const [ch, target = "", tier = "0"] = key.split("|");
      if (ch !== channel.name) continue;
      const entry = decodeRefEntry(text);
      if (entry?.s !== "posted") {
        if (!entry) log.warn({ approvalId, refKey: key }, "malformed message ref skipped");
        continue;
      }
      const ref = channel.refSchema.safeParse(entry.ref);
      if (ref.success) refs.push({ target, tier: Number(tier), ref: ref.data });
      else log.warn({ approvalId, refKey: key, err: ref.error.message }, "message ref does not match the channel's schema; skipped");
    }
    return { record, refs, raw, config, log: log.child({ approvalId, channel: channel.name }) };
  };

  /**
   * This attempt posted `ref`, but its intent had been moved on when it came to save the ref. If
   * the entry now names the same message, another attempt found ours: nothing to do. Otherwise ours
   * is a second card (or came after the approval ended and its intent settled): take it back; where
   * the channel cannot, keep its ref beside the first while the approval is pending (the final edit
   * reaches both), or, once it has ended, edit it here — nobody else knows of it.
   */
  const dropDuplicate = async (ctx: ApprovalContext, channel: ChannelAdapter, approvalId: string, key: string, ref: MessageRef) => {
    const now = decodeRefEntry(await store.ref(approvalId, key));
    if (now?.s === "posted" && sameRef(now.ref, ref)) return { already: true };
    ctx.log.warn({ refKey: key, entry: now?.s ?? "none" }, "this attempt's message is a second copy; taking it back");
    try {
      if (!channel.retract) throw new Error(`the ${channel.name} channel cannot take a message back`);
      await channel.retract(ctx, ref);
      return { retracted: true };
    } catch (err) {
      const dupKey = `${key}|dup-${randomUUID().slice(0, 8)}`;
      if ((await store.swapPendingRef(approvalId, dupKey, null, encodeRefEntry({ s: "posted", ref }))) === "set") {
        ctx.log.warn({ refKey: key, err: (err as Error).message }, "second copy kept; it is edited with the others once the approval is final");
        return { kept: true };
      }
      // The approval has ended and its update job may be done: edit the copy here, then record it
      // closed. (Recorded open first, the update job could edit it too.) If the edit fails, record
      // it open and hand it to the update job.
      ctx.log.warn({ refKey: key, err: (err as Error).message }, "second copy posted after the approval ended; editing it to the outcome");
      try {
        const record = await store.get(approvalId);
        if (record) await channel.update({ ...ctx, record }, ref);
      } catch (editErr) {
        await store.setRef(approvalId, dupKey, encodeRefEntry({ s: "posted", ref }));
        await wakeEditor(deps.producer, approvalId, channel.name);
        throw editErr;
      }
      await store.setRef(approvalId, dupKey, encodeRefEntry({ s: "posted", ref, closed: true }));
      return { closedCopy: true };
    }
  };

  /**
   * Posts; if the post fails, settles this attempt's intent where the error allows, so a retry need
   * not wait for it (see failedPostLeft): a message the provider created despite a server error is
   * saved as this post's; an intent that left nothing is marked unposted, and the retry posts at
   * once. After an unanswered request the intent stays, and the retry finds or waits for it.
   */
  const postOrSettle = async (ctx: ApprovalContext, channel: ChannelAdapter, data: NotifyJob, key: string, intent: string, marker: PostMarker): Promise<MessageRef> => {
    try {
      return await channel.post(ctx, data.recipient, data.kind, data.tier, marker);
    } catch (err) {
      const left = failedPostLeft(err);
      if (left === "later") throw err;
      if (left === "now" && channel.find) {
        const found = await channel.find(ctx, data.recipient, data.kind, data.tier, marker).catch(() => undefined);
        if (found) return found;
        if (found === undefined) throw err;
      }
      await store.swapRef(data.approvalId, key, intent, encodeRefEntry({ s: "unposted", at: await store.now() }));
      throw err;
    }
  };

  const pacer = new Pacer(deps.connection, config.redis.prefix);
  /** Errors of paced calls: the slot a provider's 429 holds back, or "parked" (the pacer's own wait). */
  const pacedErrors = new WeakMap<Error, PaceSlot | "parked">();
  const GO: Turn = { kind: "go" };

  /** The channel with every edit paced per provider call (posts are paced per job, before it runs). */
  const paced = (channel: ChannelAdapter): ChannelAdapter => {
    const pacing = channel.pacing;
    if (!pacing) return channel;
    const update = async (ctx: ApprovalContext, ref: MessageRef) => {
      const slot = pacing.edit(ref);
      if (slot) {
        const turn = await pacer.edit(channel.name, pacing, slot);
        if (turn.kind === "park") {
          const err = new ChannelRateLimitedError(turn.ms, `edits of ${channel.name} wait ${turn.ms} ms for their turn`);
          pacedErrors.set(err, "parked");
          throw err;
        }
      }
      try {
        await channel.update(ctx, ref);
      } catch (err) {
        if (err instanceof ChannelRateLimitedError && slot) pacedErrors.set(err, slot);
        throw err;
      }
    };
    return {
      name: channel.name,
      pacing,
      refSchema: channel.refSchema,
      post: (...a) => channel.post(...a),
      update,
      ...(channel.find ? { find: channel.find.bind(channel) } : {}),
      ...(channel.retract ? { retract: channel.retract.bind(channel) } : {}),
    };
  };

  /** Back to the queue (BullMQ's delayed set) for `ms`, without using up an attempt or holding a worker: a turn with the provider, or a young posting intent. */
  const park = async (job: Job, token: string | undefined, ms: number): Promise<never> => {
    try {
      await job.moveToDelayed(Date.now() + ms, token);
    } catch (err) {
      // The job's lock lapsed while it waited (Redis was unreachable or stalled): it is no longer
      // this worker's to move. BullMQ's stalled-job check hands it out again; nothing to report.
      if (!/Missing lock|lock mismatch|not in the active state/i.test((err as Error).message)) throw err;
      log.info({ jobId: job.id, err: (err as Error).message }, "a waiting job lost its lock; the stalled-job check runs it again");
    }
    throw new DelayedError();
  };

  interface AddOptions {
    concurrency?: number;
    channel?: ChannelAdapter;
    /** The job's turn with the provider, before it runs (posts: priority order per conversation). */
    gate?: (job: Job) => Promise<Turn>;
    /** The bucket a provider's 429 during the job holds back, when the call did not say. */
    slotOf?: (job: Job) => PaceSlot | null;
  }

  const add = (name: string, processor: Processor, extra: AddOptions = {}) => {
    const guarded: Processor = async (job, token) => {
      const turn = extra.gate ? await extra.gate(job) : GO;
      if (turn.kind === "skip") return { skipped: "approval ended while the post waited for its turn" };
      if (turn.kind === "park") return park(job, token, turn.ms);
      try {
        return await processor(job, token);
      } catch (err) {
        if (!(err instanceof ChannelRateLimitedError)) throw err;
        const known = pacedErrors.get(err);
        // A provider's wait, within reason: a garbled or hostile Retry-After must not silence a conversation for good.
        const waitMs = Number.isFinite(err.retryAfterMs) ? Math.min(MAX_PROVIDER_WAIT_MS, Math.max(1, err.retryAfterMs)) : 1_000;
        if (known !== "parked" && extra.channel) {
          // The provider said "slow down": hold back what the call drew from (one conversation,
          // or the whole channel for a global limit), not the queue.
          const slot = known ?? extra.slotOf?.(job) ?? null;
          log.warn({ queue: name, jobId: job.id, retryAfterMs: err.retryAfterMs, bucket: slot?.bucket, key: err.scope === "channel" ? "*" : slot?.key }, "channel rate limited");
          // A slot the error carries is an edit's (see paced()); otherwise it is the job's post.
          await pacer.penalize(extra.channel.name, extra.channel.pacing, slot, waitMs, err.scope, known ? "edit" : "post");
        }
        return park(job, token, waitMs);
      }
    };
    const w: Worker = new Worker(name, guarded, {
      connection: deps.connection,
      prefix: bullPrefix(config.redis.prefix),
      concurrency: extra.concurrency ?? 8,
      ...WORKER_SETTINGS,
    });
    w.on("failed", (job, err) => {
      log.warn({ queue: name, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, "job failed");
      if (job) deps.onJob?.(name, "failed", job);
    });
    w.on("completed", (job) => deps.onJob?.(name, "completed", job));
    w.on("error", (err) => (deps.onError ? deps.onError(name, err) : log.error({ queue: name, err: err.message }, "worker error")));
    workers.push(w);
  };

  for (const raw of deps.channels) {
    const channel = paced(raw);
    const pacing = raw.pacing;
    const postSlot = (job: Job): PaceSlot | null => {
      const data = notifyJobSchema.safeParse(job.data);
      return pacing && data.success ? pacing.post(data.data.recipient) : null;
    };
    const notifyGate = async (job: Job): Promise<Turn> => {
      const slot = postSlot(job);
      if (!pacing || !slot) return GO;
      const approval = store.k.approval(String((job.data as { approvalId?: unknown }).approvalId));
      return pacer.post(raw.name, pacing, slot, {
        priority: job.opts.priority ?? 0,
        timestamp: job.timestamp,
        id: String(job.id),
        // A post whose approval ended while it waited gives its turn to the next one.
        wanted: async () => (await store.redis.hget(approval, "state")) === "pending",
      });
    };
    add(
      queueName("notify", channel.name),
      async (job, token) => {
        const data = parse(notifyJobSchema, job.data);
        if (data.recipient.channel !== channel.name) throw new UnrecoverableError(`job for ${data.recipient.channel} on the ${channel.name} queue`);
        const ctx = await context(data.approvalId, channel);
        const key = refKey(channel.name, data.recipient.target, data.tier);
        const intents = { store, channel };
        // Every write below is a compare-and-set against what this attempt read or wrote: an
        // earlier attempt whose job lock lapsed (a Redis stall) may still be running alongside.
        let seen = ctx.raw[key] ?? null;
        const entry = decodeRefEntry(seen);
        if (ctx.record.state !== "pending") {
          // Never post for something that has ended. An interrupted post's message may exist:
          // save its ref if it does, and make sure the channel's update job (the one editor) runs.
          if (entry?.s !== "posting" || seen === null) return { skipped: ctx.record.state };
          const found = await lookUp(intents, ctx, key, seen, entry, data.recipient, await store.now());
          await wakeEditor(deps.producer, data.approvalId, channel.name, found.kind === "found");
          return { skipped: ctx.record.state, intent: found.kind };
        }
        if (entry?.s === "posted") return { already: true };
        if (entry?.s === "posting" && seen !== null) {
          // An earlier attempt wrote this intent and did not save a ref (it died, or is still
          // posting): find its message before posting again, so nobody sees a second live card.
          const found = await lookUp(intents, ctx, key, seen, entry, data.recipient, await store.now());
          if (found.kind === "found") return { found: true };
          if (found.kind === "changed") throw new Error(`message ref ${key} changed under this attempt; retrying`);
          // Not there yet, but it may still land: look again rather than post a second copy.
          if (found.kind === "young" && channel.find) await park(job, token, found.retryInMs);
        }
        const sendBy = performance.now() + POST_SEND_BUDGET_MS;
        const marker: PostMarker = { refKey: key, nonce: newNonce(), at: await store.now(), sendBy };
        const intent = encodeRefEntry({ s: "posting", nonce: marker.nonce, at: marker.at });
        const wrote = await store.swapPendingRef(data.approvalId, key, seen, intent);
        if (wrote === "final") return { skipped: "ended" };
        if (wrote === "changed") throw new Error(`message ref ${key} changed under this attempt; retrying`);
        seen = intent;
        const ref = await postOrSettle(ctx, channel, data, key, intent, marker);
        // If the approval ended meanwhile, its update job saw this intent and waits for it: it
        // edits the message once the ref is saved (never this job, so nothing is edited twice).
        if (!(await store.swapRef(data.approvalId, key, seen, encodeRefEntry({ s: "posted", ref })))) return { duplicate: await dropDuplicate(ctx, channel, data.approvalId, key, ref) };
        return { posted: true };
      },
      { channel: raw, gate: notifyGate, slotOf: postSlot },
    );
    add(
      queueName("update", channel.name),
      async (job, token) => {
        const data = parse(updateJobSchema, job.data);
        const ctx = await context(data.approvalId, channel);
        if (ctx.record.state === "pending") return { skipped: "pending" };
        const out = await closeMessages({ store, channel }, ctx, ctx.raw);
        // A post may still be landing: come back for it (edits done so far are marked closed).
        if (out.recheckInMs !== null) await park(job, token, out.recheckInMs);
        return { updated: out.edited, unposted: out.unposted };
      },
      { channel: raw },
    );
  }

  add(queueName("escalate"), async (job) => deps.escalate(parse(escalateJobSchema, job.data)));

  return {
    /** `force`: do not wait for running jobs; their locks lapse and they run again (BullMQ stalled-job check). */
    async close(force = false) {
      // Jobs waiting for their turn go back to the queue, so closing does not wait for them.
      pacer.close();
      await Promise.all(workers.map((w) => w.close(force)));
    },
  };
}
