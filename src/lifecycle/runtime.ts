import type { ChannelAdapter } from "../channel/adapter.ts";
import { createRedis } from "../redis/connection.ts";
import type { RedisReachability } from "../redis/reachability.ts";
import { measureQueues } from "../../queue/lag.ts";
import { queueName } from "../../queue/names.ts";
import { JobProducer } from "../../queue/producer.ts";
import { startWorkers } from "../../queue/workers.ts";
import type { RulesWriter } from "../approvals/runtime-rules.ts";
import type { ApprovalService } from "../approvals/service.ts";
import type { KeyLookup } from "../trust/signature.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { AuditBrokenError, isRedisUnavailable } from "../errors.ts";
import type { Logger } from "../log.ts";
import { Leader } from "../redis/leader.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { HeldAudit, type HeldAuditState } from "./audit-sink.ts";
import { EventConsumer } from "./consumer.ts";
import { escalationStep } from "./escalation.ts";
import { OverrideStore } from "../oncall/overrides.ts";
import { OnCallDirectory } from "../oncall/who.ts";
import { lifecycleHandler, type AuditSink } from "./handlers.ts";
import { startSweeper } from "./sweeper.ts";

export interface LifecycleDeps {
  config: ClawgateConfig;
  redisUrl: string;
  service: ApprovalService;
  channels: readonly ChannelAdapter[];
  audit: AuditSink;
  log: Logger;
  metrics?: Metrics;
  sweepIntervalMs?: number;
  /** See SweeperDeps.leaseGraceMs. */
  leaseGraceMs?: number;
  claimIdleMs?: number;
  /** serve's keys and rules writer: saves allow-always rules of validly signed decisions. */
  alwaysAllow?: { keys: KeyLookup; rules: RulesWriter };
  /** serve's one report of Redis outages: connection errors go there instead of a log line each. */
  reach?: RedisReachability;
  /** Told whenever the audit log breaks, events start or stop waiting for it, or it is repaired. */
  onAuditState?: (s: HeldAuditState) => void;
  /** How often events waiting on a broken audit log retry (the oldest first). */
  auditRetryMs?: number;
}

export interface Lifecycle {
  consumer: EventConsumer;
  producer: JobProducer;
  leader: Leader;
  /** Whether the audit log refuses appends, and how many events wait for it. */
  audit(): HeldAuditState;
  sweep(): Promise<number>;
  /** `force`: do not wait for running jobs (Redis is gone or the drain took too long); they run again on the next start. */
  close(opts?: { force?: boolean }): Promise<void>;
}

/**
 * Everything `serve` runs behind its HTTP port: the event consumer (notifications, message
 * edits, audit, timers), the BullMQ workers that talk to channels, and the leader-elected
 * sweeper. Separate from the HTTP server so tests can run it with their own channels.
 */
export async function startLifecycle(deps: LifecycleDeps): Promise<Lifecycle> {
  const { config, service, log } = deps;
  const store = service.store;
  const reach = deps.reach ? { reach: deps.reach } : {};
  const bull = createRedis(deps.redisUrl, "bullmq", { logger: log, name: "clawgate-serve-bullmq", ...reach });
  const blocking = createRedis(deps.redisUrl, "bullmq", { logger: log, name: "clawgate-serve-events", ...reach });
  const producer = new JobProducer(bull, config.redis.prefix);
  const audit = new HeldAudit(deps.audit, log, deps.onAuditState);
  const consumer = new EventConsumer({
    redis: store.redis,
    blocking,
    stream: store.k.events,
    deadStream: store.k.deadEvents,
    log,
    ...reach,
    ...(deps.claimIdleMs ? { claimIdleMs: deps.claimIdleMs } : {}),
    // A broken audit head holds events (in order) until it is repaired; nothing is dead-lettered for it.
    holds: (err) => err instanceof AuditBrokenError,
    ...(deps.auditRetryMs ? { holdRetryMs: deps.auditRetryMs } : {}),
    onSettled: (streamId) => audit.settled(streamId),
    handle: lifecycleHandler({ config, store, producer, audit, channels: deps.channels.map((c) => c.name), ...(deps.metrics ? { metrics: deps.metrics } : {}), ...(deps.alwaysAllow ? { alwaysAllow: deps.alwaysAllow } : {}), log }),
  });
  await consumer.start();
  const workers = startWorkers({
    config,
    connection: bull,
    store,
    channels: deps.channels,
    producer,
    escalate: escalationStep({ service, producer, resolve: { config, directory: new OnCallDirectory(config, new OverrideStore(store.redis, config.redis.prefix)), log }, log }),
    log,
    ...(deps.metrics ? { onJob: (queue: string, outcome: "completed" | "failed") => deps.metrics?.jobs.inc({ queue, outcome }) } : {}),
    // BullMQ's own connections report through their workers: an outage is said once, by `reach`.
    onError: (queue: string, err: Error) => {
      if (deps.reach && isRedisUnavailable(err)) deps.reach.lost(err.message);
      else log.error({ queue, err: err.message }, "worker error");
    },
  });
  const queues = [
    ...deps.channels.flatMap((c) => [
      { name: queueName("notify", c.name), delayedIsLag: true },
      { name: queueName("update", c.name), delayedIsLag: true },
    ]),
    { name: queueName("escalate"), delayedIsLag: false },
  ];
  deps.metrics?.watchQueues(() => measureQueues(store.redis, config.redis.prefix, queues));
  const leader = new Leader(store.redis, { key: store.k.leader("sweeper"), log });
  leader.start();
  const sweeper = startSweeper({
    service,
    leader,
    log,
    ...reach,
    ...(deps.sweepIntervalMs ? { intervalMs: deps.sweepIntervalMs } : {}),
    ...(deps.leaseGraceMs !== undefined ? { leaseGraceMs: deps.leaseGraceMs } : {}),
  });
  let closing: Promise<void> | null = null;
  return {
    consumer,
    producer,
    leader,
    audit: () => audit.state,
    sweep: () => sweeper.sweep(),
    close(opts = {}) {
      closing ??= (async () => {
        await sweeper.stop();
        await leader.stop();
        await consumer.stop();
        await workers.close(opts.force);
        await producer.close();
        bull.disconnect();
      })();
      return closing;
    },
  };
}
