import { z } from "zod";
import { recipientSchema } from "../src/approvals/events.ts";
import { NOTIFY_KINDS } from "../src/channel/adapter.ts";

const approvalId = z.string().regex(/^ap_[0-9a-z]{12}$/);

/** Post one message for one approval to one recipient (a channel, a person's DM, …). */
export const notifyJobSchema = z.strictObject({
  approvalId,
  recipient: recipientSchema,
  tier: z.number().int().min(0),
  kind: z.enum(NOTIFY_KINDS),
});
export type NotifyJob = z.infer<typeof notifyJobSchema>;

export const updateJobSchema = z.strictObject({ approvalId, channel: z.string().min(1) });

/** A chain step: a tier (1.. — tier 0 goes out with the request), the end action, or the reminder. */
export const escalateJobSchema = z.strictObject({ approvalId, tier: z.number().int().min(0), step: z.enum(["tier", "end", "remind"]).default("tier") });

/**
 * Reminders are posted under this tier number so their refs (channel|target|tier) never
 * collide with a tier's own message; channels thread them under the request card.
 */
export const REMINDER_TIER = 10_000;
export type EscalateJob = z.infer<typeof escalateJobSchema>;

/**
 * Retries with exponential backoff (8 attempts ≈ 4 min); completed jobs are removed at once
 * (their effect is recorded in the approval's refs), failed ones kept 14 days for inspection.
 */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: "exponential" as const, delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { age: 14 * 24 * 3600 },
};

/**
 * Length BullMQ trims each queue's own event stream (`{prefix}:q:<queue>:events`) to, roughly
 * (whole stream nodes of 100 entries go at once). Those events only feed QueueEvents
 * listeners, which clawgate does not use (a job's effect is in the approval's refs and
 * record), so a short tail for inspection is enough; BullMQ's default keeps 10,000 per queue.
 * Every Queue clawgate creates sets it (it lives in the queue's meta hash).
 */
export const QUEUE_EVENTS_MAXLEN = 100;

/**
 * Worker lock and stall settings, chosen for "a restarted serve redelivers within 5 s" and
 * "repeated crashes never drop a notification": a dead worker's lock lapses after 2.5 s, the
 * stall check runs every second, and a job may stall (its worker die) many times before BullMQ
 * gives up on it (its default of 1 fails a job on the second crash).
 */
export const WORKER_SETTINGS = {
  lockDuration: 2_500,
  stalledInterval: 1_000,
  maxStalledCount: 50,
};

/**
 * How long after writing its posting intent an attempt may still send the request that creates
 * the message (channels check it right before that request, see `assertMaySend`). One lock period:
 * an attempt that took longer than that between the two steps may have lost its job lock (a
 * Redis stall, a paused process) while BullMQ handed the job to another attempt; it posts nothing
 * and lets the retry find or post.
 */
export const POST_SEND_BUDGET_MS = WORKER_SETTINGS.lockDuration;

/**
 * How long a provider may take to act on a create request it received: a request sent by an
 * attempt that then died may still create its message this long afterwards. (A live attempt
 * learns of its own late message from the answer and takes it back, or edits it, itself.)
 */
const PROVIDER_GRACE_MS = 10_000;

/**
 * An intent older than this (on Redis's clock) can no longer gain a message: its attempt sent
 * the create request within POST_SEND_BUDGET_MS of writing it or not at all, and the provider
 * acted on it within PROVIDER_GRACE_MS or not at all. 12.5 s with the settings above. Until then
 * a message not found may still appear; after it, not found means never posted.
 */
export const INTENT_SETTLE_MS = POST_SEND_BUDGET_MS + PROVIDER_GRACE_MS;

/**
 * Clock difference allowed between Redis (which times intents) and a provider (which stamps
 * messages) when a channel searches for a message by its intent's time.
 */
export const CLOCK_SKEW_MS = 60_000;
