import { createHash } from "node:crypto";

/**
 * Queue names and BullMQ's key prefix. The prefix carries the same `{prefix}` hash tag as
 * every other clawgate key, so queues and approvals live in one Redis Cluster slot.
 */
export type JobKind = "notify" | "update" | "escalate";

export function bullPrefix(prefix: string): string {
  return `{${prefix}}:q`;
}

/** notify/update queues are per channel so each channel gets its own rate limit and retries. */
export function queueName(kind: JobKind, channel?: string): string {
  return channel ? `${kind}-${channel}` : kind;
}

/** Where a message for (channel, target, tier) is recorded in the approval's refs hash. */
export function refKey(channel: string, target: string, tier: number): string {
  return `${channel}|${target}|${tier}`;
}

const short = (s: string) => createHash("sha1").update(s).digest("hex").slice(0, 12);

/** Idempotent job ids. BullMQ forbids ':' in custom ids, and targets may hold anything. */
export const jobIds = {
  notify: (approvalId: string, channel: string, target: string, tier: number) => `notify.${approvalId}.${channel}.${short(target)}.${tier}`,
  update: (approvalId: string, channel: string) => `update.${approvalId}.${channel}`,
  escalate: (approvalId: string, tier: number) => `escalate.${approvalId}.${tier}`,
  escalateStep: (approvalId: string, step: "end" | "remind") => `escalate.${approvalId}.${step}`,
};
