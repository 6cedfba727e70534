import { z } from "zod";

/**
 * What gets audited. `decision` is a valid decision on an approval (by a human on any channel,
 * the CLI or the API); `refusal` is an attempt that was turned away (not an allowed approver,
 * already decided, expired, bad signature). The rest name the lifecycle step they record.
 */
const AUDIT_EVENT_TYPES = [
  "decision",
  "refusal",
  "approval.created",
  "approval.escalated",
  "approval.expired",
  "approval.cancelled",
  "policy.denied",
  "policy.override.set",
  "policy.override.unset",
  "tool.outcome",
  "token.created",
  "token.revoked",
  "oncall.override.added",
  "oncall.override.removed",
  "config.rejected",
  "forgery",
  "rules.changed",
  "audit.repaired",
] as const;

type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/**
 * Strict on purpose: an unknown property is rejected rather than stored, so a caller cannot
 * slip un-redacted data in under a new name. Free-form data goes in `details`, which callers
 * must pass already redacted.
 */
export const auditEventSchema = z.strictObject({
  type: z.enum(AUDIT_EVENT_TYPES),
  approvalId: z.string().optional(),
  actor: z.string().optional(),
  channel: z.string().optional(),
  decision: z.string().optional(),
  reason: z.string().optional(),
  tool: z.string().optional(),
  agentId: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export type AuditEvent = z.infer<typeof auditEventSchema>;

/**
 * An event as read back. Its type is widened because a newer clawgate may have written a type
 * this one does not know; reading history must not fail on that.
 */
export type StoredAuditEvent = Omit<AuditEvent, "type"> & { type: AuditEventType | (string & {}) };

export const storedAuditEventSchema = auditEventSchema.extend({ type: z.string() }).loose();
