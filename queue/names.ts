/**
 * Queue names and BullMQ's key prefix. The prefix carries the same `{prefix}` hash tag as
 * every other clawgate key, so queues and approvals live in one Redis Cluster slot.
 */
export type JobKind = "notify" | "update" | "escalate" | "expire";

export function bullPrefix(prefix: string): string {
  return `{${prefix}}:q`;
}

/** notify/update queues are per channel so each channel gets its own rate limit and retries. */
export function queueName(kind: JobKind, channel?: string): string {
  return channel ? `${kind}-${channel}` : kind;
}

/** Idempotent job ids: approval + channel + tier. BullMQ forbids ':' in custom ids. */
export const jobIds = {
  notify: (approvalId: string, channel: string, tier: number) => `notify.${approvalId}.${channel}.${tier}`,
  update: (approvalId: string, channel: string) => `update.${approvalId}.${channel}`,
  escalate: (approvalId: string, tier: number) => `escalate.${approvalId}.${tier}`,
  expire: (approvalId: string) => `expire.${approvalId}`,
};
