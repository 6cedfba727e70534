import type { Recipient } from "../approvals/events.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { OnCallDirectory } from "../oncall/who.ts";
import { parseTarget, type Target } from "../oncall/targets.ts";
import { channelDestinations, channelSpec, enabledChannels, normalizeChannelId, personId } from "../../bots/specs.ts";

/** Channels that get every request when no chain says otherwise (paging only by an explicit target). */
export function requestChannels(config: ClawgateConfig): string[] {
  return enabledChannels(config).filter((c) => channelSpec(c)?.requests);
}

/** A channel's own configured destinations (slack.channel; one per email approver, so each gets a mail). */
function defaultTargets(config: ClawgateConfig, channel: string): string[] {
  return channelDestinations(config, channel);
}

/** A recipient on `channel`, labelled as its spec says (PagerDuty names the service, not the key). */
function channelRecipient(channel: string, target: string): Recipient {
  const label = channelSpec(channel)?.recipientLabel;
  return label ? { channel, target, label } : { channel, target };
}

/** A person's direct-message recipient on the first of their preferred channels that is configured. */
export function reachPerson(config: ClawgateConfig, person: string, label?: string): Recipient | null {
  const p = config.people[person];
  if (!p) return null;
  const enabled = enabledChannels(config);
  for (const channel of p.prefer) {
    const id = personId(p, channel);
    if (id && enabled.includes(channel)) return { channel, target: id, person, label: label ?? p.name ?? person };
  }
  return null;
}

export interface ResolveDeps {
  config: ClawgateConfig;
  directory: OnCallDirectory;
  log: Pick<Logger, "warn">;
}

/**
 * The recipients of a tier's targets at `at`: `oncall:<schedule>` becomes whoever is on call
 * then; a person is reached on their preferred configured channel. A target on a channel
 * this deployment does not run is skipped with a warning (`clawgate doctor` lists them too).
 */
export async function resolveTargets(deps: ResolveDeps, targets: readonly string[], at = Date.now()): Promise<Recipient[]> {
  const { config, log } = deps;
  const enabled = enabledChannels(config);
  const out: Recipient[] = [];
  const seen = new Set<string>();
  const push = (r: Recipient | null, raw: string) => {
    if (!r) {
      log.warn({ target: raw }, "escalation target skipped: not reachable on any configured channel");
      return;
    }
    if (seen.has(`${r.channel}|${r.target}`)) return;
    seen.add(`${r.channel}|${r.target}`);
    out.push(r);
  };
  for (const raw of targets) {
    const t: Target | string = parseTarget(raw, config);
    if (typeof t === "string") {
      log.warn({ target: raw, why: t }, "escalation target skipped");
      continue;
    }
    switch (t.kind) {
      case "channel":
        if (!enabled.includes(t.channel)) push(null, raw);
        else for (const target of defaultTargets(config, t.channel)) push(channelRecipient(t.channel, target), raw);
        break;
      case "address":
        push(enabled.includes(t.channel) ? channelRecipient(t.channel, t.id) : null, raw);
        break;
      case "person":
        push(reachPerson(config, t.person), raw);
        break;
      case "oncall": {
        const who = await deps.directory.who(t.schedule, at);
        if (!who.person) {
          log.warn({ target: raw }, "nobody is on call for this schedule now; target skipped");
          break;
        }
        const label = `${deps.directory.nameOf(who.person)} (on call for ${t.schedule})`;
        push(reachPerson(config, who.person, label), raw);
        break;
      }
    }
  }
  return out;
}

/**
 * Compatibility for code written against the pre-chain seam: tier 0 = each request channel's
 * destination, tier N = the legacy escalation.tiers[N-1] (people and fixed addresses only; an
 * `oncall:` target needs Redis — use resolveTargets). serve itself uses chains (src/oncall/route.ts).
 */
export function tierRecipients(config: ClawgateConfig, tier: number): Recipient[] {
  if (tier === 0) return requestChannels(config).flatMap((channel) => defaultTargets(config, channel).map((target) => channelRecipient(channel, target)));
  const out: Recipient[] = [];
  const enabled = enabledChannels(config);
  const add = (r: Recipient | null) => {
    if (r && !out.some((o) => o.channel === r.channel && o.target === r.target)) out.push(r);
  };
  for (const raw of config.escalation.tiers[tier - 1]?.notify ?? []) {
    const t = parseTarget(raw, config);
    if (typeof t === "string") continue;
    if (t.kind === "channel" && enabled.includes(t.channel)) for (const target of defaultTargets(config, t.channel)) add(channelRecipient(t.channel, target));
    else if (t.kind === "address" && enabled.includes(t.channel)) add(channelRecipient(t.channel, t.id));
    else if (t.kind === "person") add(reachPerson(config, t.person));
  }
  return out;
}

/**
 * Identities a tier's recipients give the right to decide: the person, and a direct-message
 * target's user id or address. A shared channel grants nothing by itself: its members still
 * need to be approvers (slack.approvers, or the route's approvers).
 */
export function identitiesOf(recipients: readonly Recipient[]): string[] {
  const out = new Set<string>();
  for (const r of recipients) {
    if (r.person) out.add(`person:${r.person}`);
    // A user id or a mailbox is one person's; what counts as one is the channel's (spec `grants`).
    if (channelSpec(r.channel)?.grants?.(r.target)) out.add(`${r.channel}:${normalizeChannelId(r.channel, r.target)}`);
  }
  return [...out];
}

/** Targets configured on a channel this deployment does not run: skipped at run time. For `doctor`. */
export function unreachableTargets(config: ClawgateConfig): Array<{ where: string; target: string; why: string }> {
  const enabled = enabledChannels(config);
  const out: Array<{ where: string; target: string; why: string }> = [];
  const check = (where: string, raw: string) => {
    const t = parseTarget(raw, config);
    if (typeof t === "string") return;
    if ((t.kind === "channel" || t.kind === "address") && !enabled.includes(t.channel)) {
      out.push({ where, target: raw, why: `no ${t.channel} block is configured (or the ${t.channel} channel is not available in this version); this target is skipped` });
    }
    if (t.kind === "person" && !reachPerson(config, t.person)) out.push({ where, target: raw, why: `person "${t.person}" has no id on a configured channel; skipped` });
  };
  for (const [name, chain] of Object.entries(config.escalation.chains)) chain.tiers.forEach((tier, i) => tier.notify.forEach((raw) => check(`escalation.chains.${name}[${i}]`, raw)));
  config.escalation.tiers.forEach((tier, i) => tier.notify.forEach((raw) => check(`escalation.tiers[${i}]`, raw)));
  for (const [name, s] of Object.entries(config.oncall.schedules)) {
    const members = new Set([...s.members, ...s.layers.flatMap((l) => l.members), ...s.overrides.map((o) => o.person)]);
    for (const m of members) if (!reachPerson(config, m)) out.push({ where: `oncall.schedules.${name}`, target: m, why: `person "${m}" has no id on a configured channel: when on call, nobody is notified` });
  }
  return out;
}
