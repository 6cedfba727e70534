import { z } from "zod";
import { duration } from "../text/duration.ts";
import { channelTargetForms, normalizeChannelId, personChannels } from "../../bots/specs.ts";
import { targetSyntax } from "./targets.ts";

/** Config schemas for escalation chains and routes (`escalation.chains`, `escalation.routes`). */

const chainTierSchema = z.strictObject({
  after: duration({ min: 0 }).describe("time after the previous tier (the first tier: 0s, with the request)"),
  notify: z
    .array(z.string().min(1))
    .min(1)
    .describe(`targets: ${channelTargetForms().map((f) => `\`${f}\``).join(", ")}, a person id, \`oncall:<schedule>\``),
});

const endSchema = z
  .union([
    z.literal("wait"),
    z.strictObject({
      deny: z.string().min(3).describe("reason given to the agent"),
      after: duration({ min: 0 }).optional().describe("time after the last tier (default: the last tier's `after`, at least 1m)"),
    }),
  ])
  .describe("after the last tier: `wait` for the deadline (default), or `{ deny: \"reason\" }`");

const chainObjectSchema = z.strictObject({
  tiers: z.array(chainTierSchema).min(1),
  repeat: z.number().int().min(0).max(20).default(0).describe("run the tiers again this many more times while nobody decides"),
  repeatAfter: duration({ min: 1_000 }).optional().describe("time from a pass's last tier to the next pass's first (default: the last tier's `after`, at least 1m)"),
  end: endSchema.default("wait"),
  remindBefore: duration({ min: 1_000 }).optional().describe("post a reminder to everyone notified so far this long before the deadline"),
});

const chainSchema = z
  .union([z.array(chainTierSchema).min(1), chainObjectSchema])
  .transform((c) => (Array.isArray(c) ? { tiers: c, repeat: 0, end: "wait" as const } : c))
  .describe("a list of tiers, or { tiers, repeat, repeatAfter, end, remindBefore }");

const RISK_CLASSES = ["low", "medium", "high", "critical"] as const;

/** `<channel>: { users: [...] }` for every channel that knows people: that channel's user ids. */
const channelUsers = Object.fromEntries(
  personChannels().map((c) => [c, z.strictObject({ users: z.array(z.string()).default([]) }).optional().describe(`ids of people on ${c} who may decide (the same as "${c}:<id>" in ids)`)]),
) as Record<string, z.ZodOptional<z.ZodObject<{ users: z.ZodDefault<z.ZodArray<z.ZodString>> }>>>;

const routeApproversSchema = z.strictObject({
  people: z.array(z.string().min(1)).default([]).describe("person ids who may decide on any channel"),
  ...channelUsers,
  ids: z.array(z.string().regex(/^[a-z][a-z0-9_-]*:.+$/)).default([]).describe("other identities as \"channel:id\", e.g. \"discord:123\""),
});

/** The identities a route's approvers name: `ids` and each channel's `users` ("slack:U0ALICE"). */
export type RouteApproversConfig = z.output<typeof routeApproversSchema>;

export function routeApproverIds(r: RouteApproversConfig): string[] {
  const users = personChannels().flatMap((c) => ((r as unknown as Record<string, { users: string[] } | undefined>)[c]?.users ?? []).map((u) => `${c}:${normalizeChannelId(c, u)}`));
  return [...r.ids, ...users];
}

const routeSchema = z.strictObject({
  match: z
    .strictObject({
      tool: z.string().min(1).optional().describe("tool name or glob, e.g. exec, \"write*\""),
      riskAtLeast: z.union([z.enum(RISK_CLASSES), z.number().int().min(0).max(100)]).optional().describe("risk class (low|medium|high|critical) or score 0–100"),
      agent: z.string().min(1).optional().describe("agent id or glob"),
    })
    .default({})
    .describe("all given conditions must hold; empty matches everything (a default route)"),
  chain: z.string().min(1).describe("name in escalation.chains"),
  approvers: routeApproversSchema
    .optional()
    .describe("when set, these (and whoever a tier notified) decide for this route instead of the channels' own approvers"),
});

const escalationTierSchema = z.strictObject({
  after: duration({ min: 1_000 }).describe("time since the request (or the previous tier) before this tier is notified"),
  notify: z
    .array(z.string().min(1))
    .min(1)
    .describe(`targets: ${targetSyntax()}, or a person id from \`people\` (a direct message on their channel)`),
});

/** The `escalation:` block: chains, routes and the legacy tiers. */
export const escalationSchema = z
  .strictObject({
    tiers: z.array(escalationTierSchema).default([]).describe("legacy default chain: after the request goes to every enabled channel, notify these targets, each `after` the previous tier (use `chains` instead)"),
    chains: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), chainSchema).default({}).describe("chain name → tiers; `default` is used when no route matches"),
    routes: z.array(routeSchema).default([]).describe("first match picks the chain and approvers by tool, risk and agent"),
  })
  .default({ tiers: [], chains: {}, routes: [] });

export type Chain = z.infer<typeof chainSchema>;
export type Route = z.infer<typeof routeSchema>;
export type EscalationConfig = z.output<typeof escalationSchema>;
export { RISK_CLASSES };
