/**
 * Escalation targets as written in config, and what each one means. Kept free of channel
 * code so the config schema can validate targets: a target no code implements is a config
 * error naming its key, never silently skipped.
 */
export type Target =
  | { kind: "channel"; channel: string }
  | { kind: "address"; channel: string; id: string }
  | { kind: "person"; person: string };

/** Channels whose messages clawgate can post today. */
export const IMPLEMENTED_CHANNELS = ["log", "slack", "discord", "email"] as const;

interface TargetConfig {
  log: { enabled: boolean };
  slack?: unknown;
  discord?: unknown;
  email?: unknown;
  people: Record<string, { slack?: string | undefined; discord?: string | undefined; email?: string | undefined }>;
}

/** The meaning of `raw`, or a sentence saying why it cannot be used with this config. */
export function parseTarget(raw: string, config: TargetConfig): Target | string {
  const colon = raw.indexOf(":");
  const head = colon < 0 ? raw : raw.slice(0, colon);
  const rest = colon < 0 ? "" : raw.slice(colon + 1);
  if (head === "oncall" || head === "pagerduty") {
    return `"${raw}": ${head} targets are not implemented in this version of clawgate`;
  }
  if (head === "person") return person(rest, raw, config);
  if (head === "log") {
    if (rest) return `"${raw}": the log channel takes no address; use "log"`;
    return config.log.enabled ? { kind: "channel", channel: "log" } : `"${raw}": the log channel is disabled (log.enabled: false)`;
  }
  if (head === "slack") {
    if (!config.slack) return `"${raw}": no slack block is configured`;
    if (!rest) return { kind: "channel", channel: "slack" };
    if (!/^[CDGUW][A-Z0-9]{2,}$/.test(rest)) return `"${raw}": expected a Slack channel id (C…/G…) or user id (U…/W…) after "slack:"`;
    return { kind: "address", channel: "slack", id: rest };
  }
  if (head === "discord") {
    if (!config.discord) return `"${raw}": no discord block is configured`;
    if (!rest) return { kind: "channel", channel: "discord" };
    if (!/^\d{15,22}$/.test(rest)) return `"${raw}": expected a numeric Discord channel id or user id after "discord:"`;
    return { kind: "address", channel: "discord", id: rest };
  }
  if (head === "email") {
    if (!config.email) return `"${raw}": no email block is configured`;
    if (!rest) return { kind: "channel", channel: "email" };
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(rest)) return `"${raw}": expected an address after "email:", e.g. "email:alice@example.com"`;
    return { kind: "address", channel: "email", id: rest.toLowerCase() };
  }
  if (colon < 0) return person(raw, raw, config);
  return `"${raw}": unknown target; use "log", "slack", "slack:<id>", "discord", "discord:<id>", "email", "email:<address>" or a person id from people`;
}

function person(id: string, raw: string, config: TargetConfig): Target | string {
  const p = config.people[id];
  if (!p) return `"${raw}": no person "${id}" in people`;
  if (!((p.slack && config.slack) || (p.discord && config.discord) || (p.email && config.email))) {
    return `"${raw}": person "${id}" has no identity on a configured channel (set people.${id}.slack, .discord or .email with that channel's block)`;
  }
  return { kind: "person", person: id };
}
