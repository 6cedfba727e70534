import { z } from "zod";
import { recipientSchema } from "./events.ts";

/**
 * What was decided about an approval when it was created, fixed for its whole life and stored
 * once per distinct content ({prefix}:facts:<digest>, named by the record's `facts` field): the route's approvers, the escalation
 * chain, who the request itself went to (tier 0) and the person who asked. Every process
 * authorizes and escalates from these — serve, a gateway's `/clawgate` chat command (whose
 * config has no routes or people), the CLI — so a config reload or an on-call rotation after
 * the approval was created changes nothing for it.
 */
const approvalFactsSchema = z.object({
  v: z.literal(1),
  /** The chain's name (`escalation.chains.<name>`, or "default"). */
  chain: z.string(),
  /** The chain as it was when the approval was created (durations in ms): its steps are scheduled from it, its tiers' targets reached from it. */
  schedule: z.object({
    tiers: z.array(z.object({ after: z.number(), notify: z.array(z.string()) })),
    repeat: z.number().int().min(0),
    repeatAfter: z.number().optional(),
    end: z.union([z.literal("wait"), z.object({ deny: z.string(), after: z.number().optional() })]),
    remindBefore: z.number().optional(),
  }),
  /**
   * The route's approvers: when set they (and whoever a tier reached) decide instead of the
   * channels' approvers. `ids` holds every identity the route names (its `ids`, each channel's
   * `users`) and every identity of the listed people, for processes
   * without the `people` config.
   */
  approvers: z
    .object({
      people: z.array(z.string()).default([]),
      ids: z.array(z.string()).default([]),
    })
    .nullable(),
  /** Who the request went to with tier 0 (on-call schedules resolved when it was created). */
  recipients: z.array(recipientSchema),
  /** The person (config `people`) who asked, when the requester is one of them. */
  requesterPerson: z.string().nullable(),
  /**
   * Every identity of that person ("slack:U0ALICE", "openclaw:telegram:42", "api:alice"), so a
   * process without the `people` config (a gateway) still knows them when they try to approve.
   */
  requesterIds: z.array(z.string()).default([]),
});

export type ApprovalFacts = z.infer<typeof approvalFactsSchema>;
export type RouteApprovers = NonNullable<ApprovalFacts["approvers"]>;

/** The stored text → facts, or null for nothing stored or something that is not facts. */
export function parseFacts(text: string | null): ApprovalFacts | null {
  if (!text) return null;
  try {
    const r = approvalFactsSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
