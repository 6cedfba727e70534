import { createRedis } from "../redis/connection.ts";
import type { RedisReachability } from "../redis/reachability.ts";
import type { RulesMemory } from "../approvals/runtime-rules-cache.ts";
import type { ApprovalService } from "../approvals/service.ts";
import { DecisionWaiter } from "../approvals/waiter.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { KeyLookup } from "../trust/signature.ts";
import { AskFlow } from "./flow.ts";
import { livePolicy } from "./runtime-rules.ts";

/**
 * What `serve` needs to take approval requests over HTTP: the one ask flow, judged by a policy
 * engine kept current with the signed runtime rules in Redis (like every gateway's), and a
 * pub/sub waiter for long-polls and SSE.
 */
export async function startRequestSide(config: ClawgateConfig, redisUrl: string, service: ApprovalService, keys: KeyLookup, log: Logger, memory?: RulesMemory, reach?: RedisReachability) {
  const sub = createRedis(redisUrl, "subscriber", { logger: log, name: "clawgate-serve-sub", ...(reach ? { reach } : {}) });
  const policy = livePolicy(config, service.store, sub, keys, log, { memory });
  await policy.cache.start().catch((err: unknown) => log.warn({ err: (err as Error).message }, "runtime rules not loaded yet"));
  const flow = new AskFlow({ config, service, waiter: new DecisionWaiter(sub, service.store), keys, log });
  return {
    flow,
    engine: policy.engine,
    /** The newest genuine runtime rules this process has seen (what rule changes build on). */
    rules: () => (policy.cache.rules.version > 0 ? policy.cache.rules : null),
    /** True once the runtime rules loaded: until then the API refuses to judge requests. */
    rulesReady: () => policy.cache.ready,
    rulesProblem: () => policy.cache.notReadyReason,
    close() {
      flow.close();
      policy.cache.stop();
      sub.disconnect();
    },
  };
}
