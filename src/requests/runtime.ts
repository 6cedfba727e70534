import { createRedis } from "../../queue/connection.ts";
import type { RedisReachability } from "../../queue/reachability.ts";
import { RuntimeRulesCache, type RulesMemory } from "../approvals/runtime-rules-cache.ts";
import { RuntimeRulesStore } from "../approvals/runtime-rules.ts";
import type { ApprovalService } from "../approvals/service.ts";
import { DecisionWaiter } from "../approvals/waiter.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import { PolicyEngine } from "../policy/engine.ts";
import { selfProtectionContext } from "../config/self-protection.ts";
import type { KeyLookup } from "../trust/signature.ts";
import { ApprovalRequester } from "./requester.ts";

/**
 * What `serve` needs to take approval requests over HTTP: a policy engine kept current with the
 * signed runtime rules in Redis (like every gateway's), and a pub/sub waiter for long-polls and SSE.
 */
export async function startRequestSide(config: ClawgateConfig, redisUrl: string, service: ApprovalService, keys: KeyLookup, log: Logger, memory?: RulesMemory, reach?: RedisReachability) {
  const sub = createRedis(redisUrl, "subscriber", { logger: log, name: "clawgate-serve-sub", ...(reach ? { reach } : {}) });
  let engine = new PolicyEngine(config.policy, undefined, { protect: selfProtectionContext(config) });
  const rules = new RuntimeRulesCache(new RuntimeRulesStore(service.store.redis, service.store.k, config.redis.prefix), sub, keys, {
    onChange: (runtime) => {
      try {
        engine = engine.withRuntime(runtime);
      } catch (err) {
        log.error({ err: (err as Error).message }, "runtime rules rejected; keeping the previous ones");
      }
    },
    onRefused: (kind, why) => log.error({ kind, why }, "runtime rules refused"),
    onError: (err) => log.warn({ err: (err as Error).message }, "could not load runtime rules"),
  }, memory);
  await rules.start().catch((err: unknown) => log.warn({ err: (err as Error).message }, "runtime rules not loaded yet"));
  return {
    requester: new ApprovalRequester(service, config, () => engine, keys),
    waiter: new DecisionWaiter(sub, service.store),
    /** The newest genuine runtime rules this process has seen (what rule changes build on). */
    rules: () => (rules.rules.version > 0 ? rules.rules : null),
    /** True once the runtime rules loaded: until then the API refuses to judge requests. */
    rulesReady: () => rules.ready,
    rulesProblem: () => rules.notReadyReason,
    close() {
      rules.stop();
      sub.disconnect();
    },
  };
}
