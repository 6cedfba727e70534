import { z } from "zod";

/**
 * The lifecycle event stream ({prefix}:events). Approval state changes are appended by the
 * same Lua script that makes them (created, decided, expired, cancelled, escalated), so an
 * event can be neither lost nor invented; refusals and audit-only facts (policy denials, tool
 * outcomes, rule changes) are appended with a single XADD. `clawgate serve` consumes the
 * stream through a consumer group and does everything a change implies: notifications,
 * message edits, the audit chain, metrics.
 */
const EVENT_TYPES = [
  "approval.created",
  "approval.decided",
  "approval.expired",
  "approval.cancelled",
  "approval.escalated",
  "approval.refused",
  "approval.forged",
  "rules.refused",
  "rules.changed",
  "policy.denied",
  "policy.override.set",
  "policy.override.unset",
  "tool.outcome",
  "token.created",
  "token.revoked",
  "oncall.override.added",
  "oncall.override.removed",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const createdData = z.object({
  tool: z.string(),
  agentId: z.string(),
  sessionKey: z.string(),
  rule: z.string(),
  risk: z.number(),
  reason: z.string(),
});
export const finalData = z.object({
  state: z.enum(["approved", "denied", "expired", "cancelled"]),
  decision: z.string(),
  by: z.string(),
  via: z.string(),
  reason: z.string(),
});
export const recipientSchema = z.strictObject({
  channel: z.string().min(1),
  target: z.string().min(1),
  person: z.string().optional(),
  /** Label shown in escalation notes, e.g. "Bob (on call for primary)". */
  label: z.string().optional(),
});
export type Recipient = z.infer<typeof recipientSchema>;
export const escalatedData = z.object({ tier: z.number().int().min(1), recipients: z.array(recipientSchema) });
export const refusedData = z.object({ actor: z.string(), via: z.string(), decision: z.string().optional(), why: z.string() });
export const auditOnlyData = z.object({
  actor: z.string().optional(),
  tool: z.string().optional(),
  agentId: z.string().optional(),
  reason: z.string().optional(),
  rule: z.string().optional(),
  decision: z.string().optional(),
  via: z.string().optional(),
});

export interface LifecycleEvent {
  /** Stream entry id, e.g. "1732612345678-0": unique, used to make every handler idempotent. */
  streamId: string;
  type: EventType;
  /** Approval id ("" for events that are not about one approval). */
  id: string;
  at: number;
  data: Record<string, unknown>;
}

/** A stream entry as XREADGROUP returns it, or why it is malformed. */
export function parseEvent(streamId: string, fields: readonly string[]): LifecycleEvent | string {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] as string, fields[i + 1] as string);
  const type = f.get("type") ?? "";
  if (!(EVENT_TYPES as readonly string[]).includes(type)) return `unknown event type "${type}"`;
  const at = Number(f.get("at"));
  if (!Number.isFinite(at)) return `event has no valid "at"`;
  let data: unknown;
  try {
    data = JSON.parse(f.get("data") ?? "{}");
  } catch {
    return "event data is not JSON";
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) return "event data is not an object";
  return { streamId, type: type as EventType, id: f.get("id") ?? "", at, data: data as Record<string, unknown> };
}
