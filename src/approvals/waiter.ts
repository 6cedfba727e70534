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
 * Waits for approval decisions over Redis pub/sub on one shared subscriber connection.
 * Subscribe first, then read the record: a decision published between the two is caught by
 * the read, one published after by the subscription. After a reconnect every waiting record
 * is read again, because messages published while the subscriber was away are gone.
 * No polling anywhere.
 */
export class DecisionWaiter {
  private readonly waiting = new Map<string, Set<Waiting>>();
  private readonly channelToId = new Map<string, string>();

  constructor(
    private readonly sub: Redis,
    private readonly store: ApprovalStore,
  ) {
    sub.on("message", (channel: string, message: string) => this.onMessage(channel, message));
    sub.on("ready", () => void this.recheckAll());
  }

  get size(): number {
    return this.waiting.size;
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
    const channel = this.store.k.decisionChannel(id);
    let set = this.waiting.get(id);
    const first = !set;
    if (!set) {
      set = new Set();
      this.waiting.set(id, set);
      this.channelToId.set(channel, id);
    }
    set.add(entry);

    const timer = setTimeout(() => settle({ kind: "timeout" }), Math.max(0, deadline - Date.now()));
    const onAbort = () => settle({ kind: "aborted" });
    signal?.addEventListener("abort", onAbort, { once: true });
    // Not awaited directly: if Redis stalls, the deadline (or abort) must still end the wait.
    const subscribeThenRead = async () => {
      if (first) await this.sub.subscribe(channel);
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
      if (set.size === 0) {
        this.waiting.delete(id);
        this.channelToId.delete(channel);
        // Best effort: a failed unsubscribe only leaves an idle subscription behind.
        this.sub.unsubscribe(channel).catch(() => undefined);
      }
    }
  }

  private onMessage(channel: string, message: string): void {
    const id = this.channelToId.get(channel);
    if (!id) return;
    let resolution: Resolution;
    try {
      resolution = JSON.parse(message) as Resolution;
    } catch {
      return;
    }
    for (const w of this.waiting.get(id) ?? []) w.settle(resolution);
  }

  private async recheckAll(): Promise<void> {
    for (const [id, set] of this.waiting) {
      const record = await this.store.get(id).catch(() => null);
      const resolution = record ? resolutionOf(record) : null;
      if (resolution) for (const w of set) w.settle(resolution);
    }
  }
}
