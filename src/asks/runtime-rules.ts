import type { Redis } from "ioredis";
import { RuntimeRulesCache, type RulesMemory } from "../approvals/runtime-rules-cache.ts";
import { RuntimeRulesStore } from "../approvals/runtime-rules.ts";
import type { ApprovalStore } from "../approvals/store.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import { PolicyEngine } from "../policy/engine.ts";
import { selfProtectionContext } from "../config/self-protection.ts";
import type { KeyLookup } from "../trust/signature.ts";

interface LivePolicyOptions {
  /** The engine to build on (the gate's, already judging before Redis is reached); a fresh one from the config otherwise. */
  initial?: PolicyEngine;
  /** Where the last verified snapshot is remembered between restarts. */
  memory?: RulesMemory | undefined;
  /** Every new engine, as soon as it is built: the gate keeps it in a field its synchronous judge reads. */
  onEngine?: (engine: PolicyEngine) => void;
  /** Log each applied snapshot (the gate does; serve's request side stays quiet). */
  announce?: boolean;
  /** Also record refused snapshots as a `rules.refused` event (the gate does: serve audits it). */
  auditRefusals?: boolean;
}

/**
 * The policy every asker judges by: the config's rules plus the signed runtime rules in Redis,
 * kept current over pub/sub. The gate and serve's request API build it the same way, so an ask
 * is judged alike wherever it is made.
 */
export function livePolicy(config: ClawgateConfig, store: ApprovalStore, sub: Redis, keys: KeyLookup, log: Logger, opts: LivePolicyOptions = {}) {
  let engine = opts.initial ?? new PolicyEngine(config.policy, undefined, { protect: selfProtectionContext(config) });
  const cache = new RuntimeRulesCache(
    new RuntimeRulesStore(store.redis, store.k, config.redis.prefix),
    sub,
    keys,
    {
      onChange: (runtime) => {
        try {
          engine = engine.withRuntime(runtime);
          opts.onEngine?.(engine);
          if (opts.announce) log.info({ version: runtime.version, overrides: runtime.overrides.size, alwaysAllow: runtime.alwaysAllow.length }, "runtime rules updated");
        } catch (err) {
          // A signed rule this version cannot parse must not take the process down: keep the last good rules.
          log.error({ err: (err as Error).message }, "runtime rules rejected; keeping the previous ones");
        }
      },
      onRefused: (kind, why) => {
        log.error({ kind, why }, "runtime rules refused");
        if (opts.auditRefusals) store.appendEvent("rules.refused", "", { reason: why, decision: kind }).catch(() => undefined);
      },
      onError: (err) => log.warn({ err: (err as Error).message }, "could not load runtime rules"),
    },
    opts.memory,
  );
  return { engine: () => engine, cache };
}
