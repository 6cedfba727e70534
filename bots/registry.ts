import type { ChannelAdapter, ChannelDeps } from "../src/channel/adapter.ts";
import { channelSpec, enabledChannels } from "./specs.ts";

/** What a spec's `load` resolves to (bots/spec.ts). */
type AdapterClass = new (deps: ChannelDeps) => ChannelAdapter;

/**
 * The adapters of the enabled channels, each loaded by its spec's `load` (a dynamic import), so
 * nothing loads a channel SDK that is not configured. Only `clawgate serve` loads channels.
 */
export async function loadChannels(deps: ChannelDeps): Promise<ChannelAdapter[]> {
  return Promise.all(
    enabledChannels(deps.config).map(async (name) => {
      const spec = channelSpec(name);
      if (!spec) throw new Error(`no channel implementation registered for "${name}"`);
      const Adapter = (await spec.load()) as AdapterClass;
      if (typeof Adapter !== "function") throw new Error(`channel "${name}": its spec's load() did not return an adapter class`);
      return new Adapter(deps);
    }),
  );
}
