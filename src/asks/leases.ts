import type { ApprovalStore } from "../approvals/store.ts";
import type { Logger } from "../log.ts";

/** How often the lease timer looks at the clock: a tick this late or later means the process was paused. */
const LEASE_TICK_MS = 500;
const PAUSE_NOTICE_MS = 1_000;

/**
 * Renews the leases of the approvals this process waits on: every third of a lease, at once
 * after the process was paused (the tick came late: GC, SIGSTOP, a VM or laptop asleep), and
 * at once after a reconnect. A pause does not cost the approvals (the sweeper sees this
 * process's subscriber still connected); renewing first thing afterwards ends the doubt.
 * One timer per process, however many calls wait.
 */
export class LeaseKeeper {
  private readonly waiting = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private onReady: (() => void) | undefined;

  constructor(
    private readonly store: ApprovalStore,
    private readonly log: Logger,
  ) {}

  /** Renews `id`'s lease until `release(id)`. */
  hold(id: string): void {
    this.waiting.add(id);
    this.start();
  }

  release(id: string): void {
    this.waiting.delete(id);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.onReady) this.store.redis.off("ready", this.onReady);
    this.onReady = undefined;
  }

  private start(): void {
    if (this.timer) return;
    const every = Math.floor(this.store.leaseMs / 3);
    const tickMs = Math.min(LEASE_TICK_MS, every);
    let lastTick = Date.now();
    let lastRenewal = Date.now();
    const renew = () => {
      if (this.waiting.size === 0) return;
      lastRenewal = Date.now();
      this.store.renewLeases([...this.waiting]).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "could not renew approval leases"));
    };
    this.timer = setInterval(() => {
      const now = Date.now();
      const late = now - lastTick - tickMs;
      lastTick = now;
      if (late >= PAUSE_NOTICE_MS && this.waiting.size > 0) {
        this.log.warn({ pausedMs: late, waiting: this.waiting.size }, `this process was paused for about ${Math.round(late / 100) / 10} s; renewing the leases of the approvals it waits on now`);
        renew();
      } else if (now - lastRenewal >= every) renew();
    }, tickMs);
    this.timer.unref();
    this.onReady = renew;
    this.store.redis.on("ready", renew);
  }
}
