import type { ApprovalFacts } from "../approvals/facts.ts";
import type { ApprovalRecord } from "../approvals/record.ts";
import type { ApprovalStore } from "../approvals/store.ts";
import { People } from "../inbound/identity.ts";
import { chainFor } from "../oncall/route.ts";
import { requestChannels, resolveTargets, type ResolveDeps } from "./recipients.ts";

/**
 * The facts of an approval as this config and this moment see them: the route and chain it
 * matches, tier 0's recipients (whoever is on call now) and the requester's person. serve
 * computes them once, when it first sees the approval, and fixes them in Redis (see
 * ApprovalFacts); everything after reads them back.
 */
async function computeFacts(deps: ResolveDeps, record: ApprovalRecord, at = Date.now()): Promise<ApprovalFacts> {
  const { config } = deps;
  const picked = chainFor(config, record, requestChannels(config));
  const { chain } = picked;
  const route = picked.route?.approvers;
  const people = new People(config);
  const requesterPerson = people.requesterPerson(record.requester);
  return {
    v: 1,
    chain: picked.name,
    schedule: JSON.parse(JSON.stringify(chain)) as ApprovalFacts["schedule"],
    approvers: route ? people.routeApprovers(route) : null,
    recipients: await resolveTargets(deps, chain.tiers[0]?.notify ?? [], at),
    requesterPerson,
    // As their channels know them, and as an OpenClaw chat sender deciding with /clawgate.
    requesterIds: requesterPerson ? people.identitiesOf(requesterPerson).flatMap((k) => (k.startsWith("openclaw:") ? [k] : [k, `openclaw:${k}`])) : [],
  };
}

/** The approval's facts: the fixed ones, else computed now and fixed (first writer wins). */
export async function factsOf(deps: ResolveDeps, store: ApprovalStore, record: ApprovalRecord): Promise<ApprovalFacts> {
  return (await store.facts(record.id)) ?? store.fixFacts(record.id, await computeFacts(deps, record));
}
