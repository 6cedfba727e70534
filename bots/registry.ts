import type { ChannelAdapter, ChannelDeps } from "../src/channel/adapter.ts";
import type { AdapterClass } from "./spec.ts";
import { channelSpec, enabledChannels } from "./specs.ts";

/** What a spec's `load` resolves to (bots/spec.ts's AdapterClass), with the adapter contract applied. */
type AdapterConstructor = new (deps: ChannelDeps) => ChannelAdapter;

/**
 * The adapters of the enabled channels, each loaded by its spec's `load` (a dynamic import), so
 * nothing loads a channel SDK that is not configured. Only `clawgate serve` loads channels.
 */
export async function loadChannels(deps: ChannelDeps): Promise<ChannelAdapter[]> {
  return Promise.all(
    enabledChannels(deps.config).map(async (name) => {
      const spec = channelSpec(name);
      if (!spec) throw new Error(`no channel implementation registered for "${name}"`);
      const loaded: AdapterClass = await spec.load();
      const Adapter = loaded as unknown as AdapterConstructor;
      if (typeof Adapter !== "function") throw new Error(`channel "${name}": its spec's load() did not return an adapter class`);
      return new Adapter(deps);
    }),
  );
}
