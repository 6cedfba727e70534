import type { ClawgateConfig } from "../src/config/schema.ts";
import type { ChannelAdapter, ChannelDeps } from "./channel.ts";

/**
 * Channel name → loader. Loaders are dynamic imports so the plugin (which only needs the
 * names) never loads a channel SDK. A channel is enabled when its config block is present
 * and not `enabled: false`.
 */
const REGISTRY: Record<string, (deps: ChannelDeps) => Promise<ChannelAdapter>> = {
  log: async (deps) => new (await import("./log/index.ts")).LogChannel(deps),
  slack: async (deps) => new (await import("./slack/index.ts")).SlackChannel(deps),
};

export function enabledChannels(config: ClawgateConfig): string[] {
  return Object.keys(REGISTRY).filter((name) => {
    const block = (config as Record<string, unknown>)[name] as { enabled?: boolean } | undefined;
    return block !== undefined && block.enabled !== false;
  });
}

export async function loadChannels(deps: ChannelDeps): Promise<ChannelAdapter[]> {
  return Promise.all(enabledChannels(deps.config).map((name) => (REGISTRY[name] as (d: ChannelDeps) => Promise<ChannelAdapter>)(deps)));
}
