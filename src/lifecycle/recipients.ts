import type { Recipient } from "../approvals/events.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { parseTarget, type Target } from "./targets.ts";

/** The channels `serve` posts to: a channel block present and not disabled. */
export function enabledChannels(config: ClawgateConfig): string[] {
  const out: string[] = [];
  if (config.log.enabled) out.push("log");
  if (config.slack) out.push("slack");
  if (config.discord) out.push("discord");
  if (config.email) out.push("email");
  return out;
}

/** A channel's own configured destinations (slack.channel; one per email approver, so each gets a mail). */
function defaultTargets(config: ClawgateConfig, channel: string): string[] {
  if (channel === "slack" && config.slack) return [config.slack.channel];
  if (channel === "discord" && config.discord) return [config.discord.channel];
  if (channel === "email" && config.email) return [...new Set(config.email.approvers.map((a) => a.toLowerCase()))];
  return [channel];
}

function fromTarget(config: ClawgateConfig, t: Target): Recipient[] {
  switch (t.kind) {
    case "channel":
      return defaultTargets(config, t.channel).map((target) => ({ channel: t.channel, target }));
    case "address":
      return [{ channel: t.channel, target: t.id }];
    case "person": {
      const p = config.people[t.person];
      const label = p?.name ?? t.person;
      const out: Recipient[] = [];
      if (p?.slack && config.slack) out.push({ channel: "slack", target: p.slack, person: t.person, label });
      if (p?.discord && config.discord) out.push({ channel: "discord", target: p.discord, person: t.person, label });
      if (p?.email && config.email) out.push({ channel: "email", target: p.email.toLowerCase(), person: t.person, label });
      return out;
    }
  }
}

/**
 * Who tier `tier` reaches: tier 0 is every enabled channel's own destination; tier N is
 * escalation.tiers[N-1]. Targets were validated with the config, so none is unknown here.
 */
export function tierRecipients(config: ClawgateConfig, tier: number): Recipient[] {
  if (tier === 0) return enabledChannels(config).flatMap((channel) => defaultTargets(config, channel).map((target) => ({ channel, target })));
  const targets = config.escalation.tiers[tier - 1]?.notify ?? [];
  const out: Recipient[] = [];
  const seen = new Set<string>();
  for (const raw of targets) {
    const t = parseTarget(raw, config);
    for (const r of typeof t === "string" ? [] : fromTarget(config, t)) {
      if (seen.has(`${r.channel}|${r.target}`)) continue;
      seen.add(`${r.channel}|${r.target}`);
      out.push(r);
    }
  }
  return out;
}

/**
 * Identities a tier's recipients give the right to decide: the person, and a direct-message
 * target's user id. A shared channel grants nothing by itself: its members still need to be
 * approvers (slack.approvers).
 */
export function identitiesOf(recipients: readonly Recipient[]): string[] {
  const out = new Set<string>();
  for (const r of recipients) {
    if (r.person) out.add(`person:${r.person}`);
    if (r.channel === "slack" && /^[UW][A-Z0-9]+$/.test(r.target)) out.add(`slack:${r.target}`);
    // Discord channel and user ids look alike; a channel id matches no user, so granting it is harmless.
    if (r.channel === "discord") out.add(`discord:${r.target}`);
    // A mailbox is one person's: mailing it grants its owner the right to decide.
    if (r.channel === "email") out.add(`email:${r.target.toLowerCase()}`);
  }
  return [...out];
}
