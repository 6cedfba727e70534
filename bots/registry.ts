import type { ClawgateConfig } from "../src/config/schema.ts";
import { enabledChannels } from "../src/lifecycle/recipients.ts";
import type { ChannelAdapter, ChannelDeps } from "./channel.ts";

/**
 * Channel name → loader. Loaders are dynamic imports so nothing loads a channel SDK that
 * is not configured. Only `clawgate serve` loads channels.
 */
const REGISTRY: Record<string, (deps: ChannelDeps) => Promise<ChannelAdapter>> = {
  log: async (deps) => new (await import("./log/index.ts")).LogChannel(deps),
  slack: async (deps) => new (await import("./slack/index.ts")).SlackChannel(deps),
  discord: async (deps) => new (await import("./discord/index.ts")).DiscordChannel(deps),
  email: async (deps) => new (await import("./email/index.ts")).EmailChannel(deps),
  pagerduty: async (deps) => new (await import("./pagerduty/index.ts")).PagerDutyChannel(deps),
};

export { enabledChannels };

export async function loadChannels(deps: ChannelDeps): Promise<ChannelAdapter[]> {
  return Promise.all(
    enabledChannels(deps.config as ClawgateConfig).map((name) => {
      const load = REGISTRY[name];
      if (!load) throw new Error(`no channel implementation registered for "${name}"`);
      return load(deps);
    }),
  );
}
