import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Resolution } from "./record.ts";
import { resolutionOf } from "./record.ts";
import type { ApprovalStore } from "./store.ts";

export type WaitResult = { kind: "decided"; resolution: Resolution } | { kind: "timeout" } | { kind: "aborted" };

interface Waiting {
  id: string;
  settle: (r: Resolution) => void;
}

/**
 * What a waiter does with an outcome it is told about. The gate passes a check that a
 * resolution is one it may honour (an approval signed by a trusted key for this very call):
 * anything else — a forged record or message — is reported and ignored, and the wait goes on.
 */
export interface WaitOptions {
  signal?: AbortSignal | undefined;
  accept?: (r: Resolution) => boolean;
}

/**
 * Waits for approval decisions over Redis pub/sub: ONE subscription per process, to the
 * prefix's shared decisions channel (every resolution carries its approval id), however many
 * calls wait — a subscription costs Redis memory per channel, so one per waiting call would
 * cost every pending approval a few hundred bytes more.
 * Subscribed first, then the record read: a decision published between the two is caught by
 * the read, one published after by the subscription. After a reconnect every waiting record
 * is read again, because messages published while the subscriber was away are gone.
 * No polling anywhere.
 */
export class DecisionWaiter {
  private readonly waiting = new Map<string, Set<Waiting>>();
  private readonly channel: string;
  private subscribed: Promise<unknown> | null = null;
  /**
   * This process's waiter id. Approvals it holds a lease on record it, and it subscribes to a
   * channel of that name: the sweeper tells a paused process (still subscribed, its socket
   * open) from a dead one (its socket closed) with one PUBSUB NUMSUB, not one channel per call.
   */
  readonly id = randomBytes(6).toString("hex");

  constructor(
    private readonly sub: Redis,
    private readonly store: ApprovalStore,
  ) {
    this.channel = store.k.decisions;
    sub.on("message", (channel: string, message: string) => this.onMessage(channel, message));
    sub.on("ready", () => void this.recheckAll());
  }

  get size(): number {
    return this.waiting.size;
  }

  /** The shared subscriptions (decisions, and this waiter's liveness channel), made once; ioredis renews them after a reconnect. */
  subscribe(): Promise<unknown> {
    this.subscribed ??= this.sub.subscribe(this.channel, this.store.k.waiterChannel(this.id)).catch((err: unknown) => {
      this.subscribed = null;
      throw err;
    });
    return this.subscribed;
  }

  async wait(id: string, deadline: number, opts: WaitOptions | AbortSignal = {}): Promise<WaitResult> {
    const { signal, accept } = opts instanceof AbortSignal ? { signal: opts, accept: undefined } : opts;
    if (signal?.aborted) return { kind: "aborted" };
    let settle!: (r: WaitResult) => void;
    const done = new Promise<WaitResult>((resolve) => (settle = resolve));
    const entry: Waiting = {
      id,
      settle: (resolution) => {
        if (!accept || accept(resolution)) settle({ kind: "decided", resolution });
      },
    };
    let set = this.waiting.get(id);
    if (!set) {
      set = new Set();
      this.waiting.set(id, set);
    }
    set.add(entry);

    const timer = setTimeout(() => settle({ kind: "timeout" }), Math.max(0, deadline - Date.now()));
    const onAbort = () => settle({ kind: "aborted" });
    signal?.addEventListener("abort", onAbort, { once: true });
    // Not awaited directly: if Redis stalls, the deadline (or abort) must still end the wait.
    const subscribeThenRead = async () => {
      await this.subscribe();
      const record = await this.store.get(id);
      const resolution = record ? resolutionOf(record) : null;
      if (resolution) entry.settle(resolution);
    };
    subscribeThenRead().catch(() => undefined);
    try {
      return await done;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      set.delete(entry);
      if (set.size === 0) this.waiting.delete(id);
    }
  }

  private onMessage(channel: string, message: string): void {
    if (channel !== this.channel || this.waiting.size === 0) return;
    let resolution: Resolution;
    try {
      resolution = JSON.parse(message) as Resolution;
    } catch {
      return;
    }
    for (const w of this.waiting.get(resolution.id) ?? []) w.settle(resolution);
  }

  private async recheckAll(): Promise<void> {
    for (const [id, set] of this.waiting) {
      const record = await this.store.get(id).catch(() => null);
      const resolution = record ? resolutionOf(record) : null;
      if (resolution) for (const w of set) w.settle(resolution);
    }
  }
}
