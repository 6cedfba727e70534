import type { Recipient } from "../approvals/events.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { parseTarget, type Target } from "./targets.ts";

/** The channels `serve` posts to: a channel block present and not disabled. */
export function enabledChannels(config: ClawgateConfig): string[] {
  const out: string[] = [];
  if (config.log.enabled) out.push("log");
  if (config.slack) out.push("slack");
  if (config.discord) out.push("discord");
  return out;
}

/** A channel's own configured destination (slack.channel, …). */
function defaultTarget(config: ClawgateConfig, channel: string): string {
  if (channel === "slack" && config.slack) return config.slack.channel;
  if (channel === "discord" && config.discord) return config.discord.channel;
  return channel;
}

function fromTarget(config: ClawgateConfig, t: Target): Recipient | null {
  switch (t.kind) {
    case "channel":
      return { channel: t.channel, target: defaultTarget(config, t.channel) };
    case "address":
      return { channel: t.channel, target: t.id };
    case "person": {
      const p = config.people[t.person];
      const label = p?.name ?? t.person;
      if (p?.slack && config.slack) return { channel: "slack", target: p.slack, person: t.person, label };
      if (p?.discord && config.discord) return { channel: "discord", target: p.discord, person: t.person, label };
      return null;
    }
  }
}

/**
 * Who tier `tier` reaches: tier 0 is every enabled channel's own destination; tier N is
 * escalation.tiers[N-1]. Targets were validated with the config, so none is unknown here.
 */
export function tierRecipients(config: ClawgateConfig, tier: number): Recipient[] {
  if (tier === 0) return enabledChannels(config).map((channel) => ({ channel, target: defaultTarget(config, channel) }));
  const targets = config.escalation.tiers[tier - 1]?.notify ?? [];
  const out: Recipient[] = [];
  const seen = new Set<string>();
  for (const raw of targets) {
    const t = parseTarget(raw, config);
    const r = typeof t === "string" ? null : fromTarget(config, t);
    if (!r || seen.has(`${r.channel}|${r.target}`)) continue;
    seen.add(`${r.channel}|${r.target}`);
    out.push(r);
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
  }
  return [...out];
}
