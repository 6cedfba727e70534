import { z } from "zod";

const approvalId = z.string().regex(/^ap_[0-9a-z]{12}$/);

export const notifyJobSchema = z.strictObject({
  approvalId,
  channel: z.string().min(1),
  tier: z.number().int().min(0),
  kind: z.enum(["request", "reminder", "escalated"]),
});
export type NotifyJob = z.infer<typeof notifyJobSchema>;

export const updateJobSchema = z.strictObject({ approvalId, channel: z.string().min(1) });
export type UpdateJob = z.infer<typeof updateJobSchema>;

export const escalateJobSchema = z.strictObject({ approvalId, tier: z.number().int().min(1) });
export type EscalateJob = z.infer<typeof escalateJobSchema>;

export const expireJobSchema = z.strictObject({ approvalId });
export type ExpireJob = z.infer<typeof expireJobSchema>;

/** Retries with exponential backoff; failed jobs are kept for inspection (`removeOnFail` by age only). */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: "exponential" as const, delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 5_000 },
  removeOnFail: { age: 14 * 24 * 3600 },
};
