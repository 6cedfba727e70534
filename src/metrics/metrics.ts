import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { QueueLag } from "../../queue/lag.ts";

/** Prometheus metrics of `clawgate serve`. */
export function createMetrics(pendingCount: () => Promise<number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "clawgate_" });
  const resolved = new Counter({
    name: "clawgate_approvals_resolved_total",
    help: "Approvals that reached a final state, by state and channel",
    labelNames: ["state", "via"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "clawgate_approval_decision_seconds",
    help: "Time from request to final state",
    labelNames: ["state"] as const,
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  });
  const jobs = new Counter({
    name: "clawgate_jobs_total",
    help: "Queue jobs processed, by queue and outcome",
    labelNames: ["queue", "outcome"] as const,
    registers: [registry],
  });
  const events = new Counter({
    name: "clawgate_events_total",
    help: "Lifecycle events handled from the event stream, by type (redeliveries count again)",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const forgeries = new Counter({
    name: "clawgate_forgeries_total",
    help: "Approvals, runtime rules and tokens found in Redis without a valid signature (refused), by what was forged",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const auditAnchor = new Gauge({
    name: "clawgate_audit_anchor_seq",
    help: "Sequence number of the newest audit entry at the last anchor (compare with `clawgate audit verify --anchor`)",
    registers: [registry],
  });
  const auditBroken = new Gauge({
    name: "clawgate_audit_broken",
    help: "1 while the audit log refuses appends (its head was rolled back, deleted or garbled: run `clawgate audit verify`, then `clawgate audit repair`)",
    registers: [registry],
  });
  const auditWaiting = new Gauge({
    name: "clawgate_audit_waiting_events",
    help: "Events whose audit entry waits for the audit log to be repaired (appended in order once it is)",
    registers: [registry],
  });
  new Gauge({
    name: "clawgate_approvals_pending",
    help: "Approvals waiting for a decision",
    registers: [registry],
    async collect() {
      this.set(await pendingCount().catch(() => Number.NaN));
    },
  });
  // Each queue's lag, measured once per scrape for the three gauges (serve's lifecycle sets the source).
  let lagSource: (() => Promise<QueueLag[]>) | null = null;
  let lagOfScrape: { at: number; lags: Promise<QueueLag[]> } | null = null;
  const lags = (): Promise<QueueLag[]> => {
    if (!lagSource) return Promise.resolve([]);
    if (!lagOfScrape || Date.now() - lagOfScrape.at > 500) lagOfScrape = { at: Date.now(), lags: lagSource().catch(() => []) };
    return lagOfScrape.lags;
  };
  const queueGauge = (name: string, help: string, value: (l: QueueLag) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["queue"] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const l of await lags()) this.set({ queue: l.queue }, value(l));
      },
    });
  queueGauge("clawgate_queue_waiting", "Jobs waiting per queue: not started, or (notify/update queues) parked for a provider's rate limit or backing off after a failure", (l) => l.waiting);
  queueGauge("clawgate_queue_active", "Jobs a worker holds per queue: running, or waiting in serve for their provider's turn", (l) => l.active);
  queueGauge("clawgate_queue_oldest_waiting_seconds", "Age of the oldest unfinished job per queue (waiting, parked or held for its turn): the queue's lag; 0 when empty", (l) => l.oldestMs / 1000);
  const watchQueues = (source: () => Promise<QueueLag[]>) => {
    lagSource = source;
  };
  return { registry, resolved, latency, jobs, events, auditAnchor, auditBroken, auditWaiting, forgeries, watchQueues };
}

export type Metrics = ReturnType<typeof createMetrics>;
