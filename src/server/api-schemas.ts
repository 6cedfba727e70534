import { z } from "zod";

/**
 * Bodies and answers of the approval API, in one place: the routes validate with them and
 * docs/openapi.json is generated from them (`npm run gen:openapi`).
 */
export const MAX_WAIT_MS = 5 * 60_000;

export const createBody = z.strictObject({
  tool: z.string().min(1).max(200).describe("the tool the agent wants to call, e.g. exec"),
  params: z.unknown().optional().describe("the tool's params (any JSON); secrets are redacted before anything is stored or shown"),
  agentId: z.string().min(1).max(200).optional().describe("agent id (an agent token always uses its own)"),
  sessionKey: z.string().min(1).max(500).optional().describe("the agent's session (flood caps count per session)"),
  wait: z.string().optional().describe('long-poll up to this long for the decision, e.g. "30s" (at most 5m)'),
});

export const decisionBody = z.strictObject({
  decision: z.enum(["allow-once", "allow-always", "deny"]),
  reason: z.string().max(2_000).optional(),
});

const resolution = z.object({
  id: z.string(),
  state: z.enum(["approved", "denied", "expired", "cancelled"]),
  decision: z.string(),
  decidedBy: z.string(),
  decidedVia: z.string(),
  reason: z.string(),
  decidedAt: z.number(),
});

const approvalSchema = z
  .object({
    id: z.string(),
    tool: z.string(),
    params: z.string().describe("redacted params as JSON text"),
    agentId: z.string(),
    sessionKey: z.string(),
    rule: z.string(),
    policyReason: z.string(),
    alwaysAllowRule: z.string(),
    createdAt: z.number(),
    deadline: z.number(),
    state: z.enum(["pending", "approved", "denied", "expired", "cancelled"]),
    decision: z.string(),
    decidedBy: z.string(),
    decidedVia: z.string(),
    decisionReason: z.string(),
  })
  .loose();

export const createAnswer = z.union([
  z.object({ ok: z.literal(true), decision: z.enum(["allow", "deny"]), rule: z.string().nullable(), reason: z.string() }),
  z.object({ ok: z.literal(true), decision: z.literal("ask"), approval: approvalSchema }),
]);
export const approvalAnswer = z.object({ ok: z.literal(true), approval: approvalSchema });
export const decisionAnswer = z.object({ ok: z.literal(true), resolution });
export const errorAnswer = z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) });

export const ruleSetBody = z.strictObject({
  rule: z.string().min(1).max(2_000).describe('a policy rule, e.g. "exec(git push *)"'),
  decision: z.enum(["allow", "ask", "deny"]),
});
export const ruleUnsetBody = z.strictObject({ rule: z.string().min(1).max(2_000) });
export const tokenBody = z.strictObject({
  name: z.string().min(1).max(64),
  kind: z.enum(["person", "agent", "admin"]),
  subject: z.string().min(1).max(128).optional().describe("person id or agent id (not for admin)"),
});
