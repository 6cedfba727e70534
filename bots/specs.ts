import { discordSpec } from "./discord/spec.ts";
import { emailSpec } from "./email/spec.ts";
import { logSpec } from "./log/spec.ts";
import { pagerdutySpec } from "./pagerduty/spec.ts";
import { slackSpec } from "./slack/spec.ts";
import { telegramSpec } from "./telegram/spec.ts";
import type { AnyChannelSpec } from "./spec.ts";

/**
 * The channels clawgate has: one line each (see bots/spec.ts). The order is the order requests
 * fan out, config keys and docs list them, and people's default `prefer`.
 */
export const CHANNEL_SPECS = [
  logSpec,
  slackSpec,
  discordSpec,
  telegramSpec,
  emailSpec,
  pagerdutySpec,
] as const;

/** A name of a channel in the list. */
export type ChannelName = (typeof CHANNEL_SPECS)[number]["name"];

/*
 * Generic code over the list: what config, targets, people, recipients and `doctor` call. They
 * read CHANNEL_SPECS on every call, so a channel appended to it (in a test, before the config
 * schema module is loaded) is everywhere at once.
 */

const SPECS: readonly AnyChannelSpec[] = CHANNEL_SPECS;

export function channelSpecs(): readonly AnyChannelSpec[] {
  return SPECS;
}

export function channelSpec(name: string): AnyChannelSpec | undefined {
  return SPECS.find((s) => s.name === name);
}

/** The channel's parsed config block, or undefined when absent. */
export function channelBlock(config: object, spec: AnyChannelSpec): unknown {
  return (config as Record<string, unknown>)[spec.name] ?? undefined;
}

function isEnabled(config: object, spec: AnyChannelSpec): boolean {
  const block = channelBlock(config, spec);
  return block !== undefined && (spec.enabled ? spec.enabled(block) : true);
}

/** The channels `serve` runs: a channel block present and not disabled. */
export function enabledChannels(config: object): string[] {
  return SPECS.filter((s) => isEnabled(config, s)).map((s) => s.name);
}

/** A channel's own destinations (none when its block is absent). */
export function channelDestinations(config: object, name: string): string[] {
  const spec = channelSpec(name);
  const block = spec && channelBlock(config, spec);
  return spec && block !== undefined ? spec.destinations(block) : [];
}

/** `id` as its channel compares it (email addresses lower-cased). */
export function normalizeChannelId(name: string, id: string): string {
  const spec = channelSpec(name);
  return spec?.normalizeId ? spec.normalizeId(id) : id;
}

/** Channels with a `people.<id>.<name>` field, in list order. */
export function personChannels(): string[] {
  return SPECS.filter((s) => s.person).map((s) => s.name);
}

/** A person's id on `channel` (people.<id>.<channel>), normalized; undefined when unset. */
export function personId(person: object, channel: string): string | undefined {
  const id = (person as Record<string, unknown>)[channel];
  return typeof id === "string" && id ? normalizeChannelId(channel, id) : undefined;
}

/** The target forms of every channel, for descriptions and errors: `log`, `slack`, `slack:<id>`, … */
export function channelTargetForms(): string[] {
  return SPECS.flatMap((s) => (s.address ? [s.name, `${s.name}:<${s.address.placeholder ?? "id"}>`] : [s.name]));
}

/** Every channel's callback paths on clawgate's port ("/slack/events", …), for the self-protection policy. */
export function channelCallbacks(): string[] {
  return SPECS.flatMap((s) => s.callbacks ?? []);
}
