/**
 * Escalation targets as written in config, and what each one means. Kept free of channel
 * code so the config schema can validate targets: a target that can never work is a config
 * error naming its key. Targets on a channel that is not configured in this deployment
 * (`email:…` without an `email` block) are accepted and skipped at run time with a warning
 * (and a `clawgate doctor` warning), so one config can name every channel a team uses.
 */
export type Target =
  | { kind: "channel"; channel: string }
  | { kind: "address"; channel: string; id: string }
  | { kind: "person"; person: string }
  | { kind: "oncall"; schedule: string }
  | { kind: "pagerduty"; routingKey?: string };

/** Channels whose messages clawgate can post today. */
export const IMPLEMENTED_CHANNELS = ["log", "slack", "discord", "email", "pagerduty"] as const;

/**
 * The per-channel hook for `<channel>:<address>` targets: how an address looks. A channel
 * implementation plugs in by its block being configured (see enabledChannels in
 * recipients.ts); until then its targets are skipped at run time, never posted.
 */
export const ADDRESS_CHANNELS: Record<string, { pattern: RegExp; expected: string; needsBlock: boolean }> = {
  slack: { pattern: /^[CDGUW][A-Z0-9]{2,}$/, expected: "a Slack channel id (C…/G…) or user id (U…/W…)", needsBlock: true },
  discord: { pattern: /^\d{5,25}$/, expected: "a numeric Discord channel id or user id", needsBlock: true },
  email: { pattern: /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, expected: "an email address", needsBlock: false },
};

interface TargetConfig {
  log: { enabled: boolean };
  slack?: unknown;
  discord?: unknown;
  email?: unknown;
  pagerduty?: { routingKey?: string | undefined } | undefined;
  people: Record<string, { slack?: string | undefined; discord?: string | undefined; email?: string | undefined }>;
  oncall?: { schedules: Record<string, unknown> };
}

/** The meaning of `raw`, or a sentence saying why it cannot be used with this config. */
export function parseTarget(raw: string, config: TargetConfig): Target | string {
  const colon = raw.indexOf(":");
  const head = colon < 0 ? raw : raw.slice(0, colon);
  const rest = colon < 0 ? "" : raw.slice(colon + 1);
  if (head === "person") return person(rest, raw, config);
  if (head === "oncall") {
    if (!rest) return `"${raw}": name the schedule, e.g. "oncall:primary"`;
    if (!config.oncall?.schedules[rest]) return `"${raw}": no schedule "${rest}" in oncall.schedules`;
    return { kind: "oncall", schedule: rest };
  }
  if (head === "pagerduty") {
    if (!config.pagerduty) return `"${raw}": add a pagerduty block (pagerduty: { routingKey: … }) to page through PagerDuty`;
    if (!rest && !config.pagerduty.routingKey) return `"${raw}": set pagerduty.routingKey or write "pagerduty:<routing key>"`;
    return rest ? { kind: "pagerduty", routingKey: rest } : { kind: "pagerduty" };
  }
  if (head === "log") {
    if (rest) return `"${raw}": the log channel takes no address; use "log"`;
    return config.log.enabled ? { kind: "channel", channel: "log" } : `"${raw}": the log channel is disabled (log.enabled: false)`;
  }
  const channel = ADDRESS_CHANNELS[head];
  if (channel) {
    if (channel.needsBlock && !(config as unknown as Record<string, unknown>)[head]) return `"${raw}": no ${head} block is configured`;
    if (!rest) return { kind: "channel", channel: head };
    if (!channel.pattern.test(rest)) return `"${raw}": expected ${channel.expected} after "${head}:"`;
    // Mailboxes compare case-insensitively; everything else is an exact id.
    return { kind: "address", channel: head, id: head === "email" ? rest.toLowerCase() : rest };
  }
  if (colon < 0) return person(raw, raw, config);
  return `"${raw}": unknown target; use "log", "slack", "slack:<id>", "email:<address>", "discord:<id>", "oncall:<schedule>", "pagerduty", or a person id from people`;
}

function person(id: string, raw: string, config: TargetConfig): Target | string {
  const p = config.people[id];
  if (!p) return `"${raw}": no person "${id}" in people`;
  if (!(p.slack || p.discord || p.email)) return `"${raw}": person "${id}" has no slack, discord or email id to reach them on`;
  return { kind: "person", person: id };
}
