import type { ChannelAdapter } from "../../bots/channel.ts";
import { createRedis } from "../../queue/connection.ts";
import { measureQueues } from "../../queue/lag.ts";
import { queueName } from "../../queue/names.ts";
import { JobProducer } from "../../queue/producer.ts";
import { startWorkers } from "../../queue/workers.ts";
import type { RulesWriter } from "../approvals/runtime-rules.ts";
import type { ApprovalService } from "../approvals/service.ts";
import type { KeyLookup } from "../trust/signature.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import { Leader } from "../server/leader.ts";
import type { Metrics } from "../server/metrics.ts";
import { EventConsumer } from "./consumer.ts";
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
  claimIdleMs?: number;
  /** serve's keys and rules writer: saves allow-always rules of validly signed decisions. */
  alwaysAllow?: { keys: KeyLookup; rules: RulesWriter };
}

export interface Lifecycle {
  consumer: EventConsumer;
  producer: JobProducer;
  leader: Leader;
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Everything `serve` runs behind its HTTP port: the event consumer (notifications, message
 * edits, audit, timers), the BullMQ workers that talk to channels, and the leader-elected
 * sweeper. Separate from the HTTP server so tests can run it with their own channels.
 */
export async function startLifecycle(deps: LifecycleDeps): Promise<Lifecycle> {
  const { config, service, log } = deps;
  const store = service.store;
  const bull = createRedis(deps.redisUrl, "bullmq", { logger: log, name: "clawgate-serve-bullmq" });
  const blocking = createRedis(deps.redisUrl, "bullmq", { logger: log, name: "clawgate-serve-events" });
  const producer = new JobProducer(bull, config.redis.prefix);
  const consumer = new EventConsumer({
    redis: store.redis,
    blocking,
    stream: store.k.events,
    deadStream: store.k.deadEvents,
    log,
    ...(deps.claimIdleMs ? { claimIdleMs: deps.claimIdleMs } : {}),
    handle: lifecycleHandler({ config, store, producer, audit: deps.audit, channels: deps.channels.map((c) => c.name), ...(deps.metrics ? { metrics: deps.metrics } : {}), ...(deps.alwaysAllow ? { alwaysAllow: deps.alwaysAllow } : {}), log }),
  });
  await consumer.start();
  const workers = startWorkers({
    config,
    connection: bull,
    store,
    channels: deps.channels,
    producer,
    log,
    ...(deps.metrics ? { onJob: (queue: string, outcome: "completed" | "failed") => deps.metrics?.jobs.inc({ queue, outcome }) } : {}),
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
  const sweeper = startSweeper({ service, leader, log, ...(deps.sweepIntervalMs ? { intervalMs: deps.sweepIntervalMs } : {}) });
  let closing: Promise<void> | null = null;
  return {
    consumer,
    producer,
    leader,
    sweep: () => sweeper.sweep(),
    close() {
      closing ??= (async () => {
        await sweeper.stop();
        await leader.stop();
        await consumer.stop();
        await workers.close();
        await producer.close();
        bull.disconnect();
      })();
      return closing;
    },
  };
}
