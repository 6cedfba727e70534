import { parseTarget } from "./targets.ts";
import type { Chain, Route } from "./chain-schema.ts";
import type { ScheduleConfig } from "./schema.ts";
import { isZone, parseTime } from "./time.ts";

type PathKey = string | number;
export interface Issue {
  path: PathKey[];
  message: string;
}

/** The parts of the config the on-call checks read (the parsed config, before cross-checks; channel blocks for targets). */
interface Checked {
  people: Record<string, { timezone?: string | undefined; outOfOffice: Array<{ from: string; to: string; delegate: string }> }>;
  oncall: { schedules: Record<string, ScheduleConfig> };
  escalation: { tiers: unknown[]; chains: Record<string, Chain>; routes: Route[] };
}

/** Cross-key checks for people, schedules, chains and routes; each issue names its key path. */
export function validateOncall(c: Checked): Issue[] {
  const out: Issue[] = [];
  const known = (id: string) => Object.hasOwn(c.people, id);
  const span = (base: PathKey[], from: string, to: string, zone: string) => {
    const a = parseTime(from, zone);
    const b = parseTime(to, zone);
    if (a === null) out.push({ path: [...base, "from"], message: `"${from}" is not a time; use "2026-12-01 09:00" or ISO 8601` });
    if (b === null) out.push({ path: [...base, "to"], message: `"${to}" is not a time; use "2026-12-01 09:00" or ISO 8601` });
    if (a !== null && b !== null && b <= a) out.push({ path: [...base, "to"], message: "must be after from" });
  };
  for (const [id, p] of Object.entries(c.people)) {
    if (p.timezone && !isZone(p.timezone)) out.push({ path: ["people", id, "timezone"], message: `"${p.timezone}" is not an IANA time zone` });
    p.outOfOffice.forEach((o, i) => {
      const base = ["people", id, "outOfOffice", i];
      if (!known(o.delegate)) out.push({ path: [...base, "delegate"], message: `no person "${o.delegate}" in people` });
      if (o.delegate === id) out.push({ path: [...base, "delegate"], message: "a person cannot delegate to themselves" });
      span(base, o.from, o.to, p.timezone && isZone(p.timezone) ? p.timezone : "UTC");
    });
  }
  for (const [name, s] of Object.entries(c.oncall.schedules)) {
    const base = ["oncall", "schedules", name];
    const members = (path: PathKey[], list: string[]) =>
      list.forEach((m, i) => {
        if (!known(m)) out.push({ path: [...path, "members", i], message: `no person "${m}" in people` });
      });
    members(base, s.members);
    s.layers.forEach((l, i) => members([...base, "layers", i], l.members));
    s.overrides.forEach((o, i) => {
      if (!known(o.person)) out.push({ path: [...base, "overrides", i, "person"], message: `no person "${o.person}" in people` });
      span([...base, "overrides", i], o.from, o.to, s.timezone);
    });
  }
  const chains = c.escalation.chains;
  if (c.escalation.tiers.length > 0 && Object.keys(chains).length > 0) {
    out.push({ path: ["escalation", "tiers"], message: "escalation.tiers is the old form of a single chain: move its tiers into escalation.chains.default (with a first tier { after: 0s, notify: [slack] })" });
  }
  for (const [name, chain] of Object.entries(chains)) {
    chain.tiers.forEach((tier, i) => {
      if (i === 0 && tier.after !== 0) out.push({ path: ["escalation", "chains", name, 0, "after"], message: "the first tier is notified with the request: use after: 0s (add a later tier for a delay)" });
      tier.notify.forEach((raw, j) => {
        const t = parseTarget(raw, c);
        if (typeof t === "string") out.push({ path: ["escalation", "chains", name, i, "notify", j], message: t });
      });
    });
  }
  c.escalation.routes.forEach((r, i) => {
    if (!Object.hasOwn(chains, r.chain)) out.push({ path: ["escalation", "routes", i, "chain"], message: `no chain "${r.chain}" in escalation.chains` });
    r.approvers?.people.forEach((p, j) => {
      if (!known(p)) out.push({ path: ["escalation", "routes", i, "approvers", "people", j], message: `no person "${p}" in people` });
    });
  });
  return out;
}
