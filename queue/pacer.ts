import type { Redis } from "ioredis";
import type { CallPace, ChannelPacing, PaceSlot } from "../src/channel/adapter.ts";
import { keys, type Keys } from "../src/approvals/keys.ts";
import { loadLuaScript, type LuaScript } from "../src/lua/script.ts";

/**
 * Paces channel calls per provider bucket and key (one Slack conversation, one Discord channel,
 * Slack's workspace for chat.update), in two layers:
 *
 * - Redis holds each bucket (takeCallToken-3.lua, GCRA on Redis's clock), shared by every
 *   `serve` replica; a provider's 429 pushes back only the bucket and key the call drew from.
 * - In this process, jobs waiting for the same bucket and key form a line ordered by job
 *   priority (the fair order the notify jobs were queued in): the best waiter takes the next
 *   token. A line holds only what its bucket lets through within HOLD_HORIZON_MS; a job beyond
 *   that is parked (moved to BullMQ's delayed set, without using an attempt) for about as long
 *   as the jobs ahead of it need, so posts to other conversations are not stuck behind a busy
 *   one and a worker's slots are not all spent waiting.
 *
 * Edits go first: an edit waiting for its bucket marks the channel, and its posts wait until
 * the mark lapses (see the script), so a channel that cannot keep up closes decided cards
 * before it shows new ones.
 */
export const HOLD_HORIZON_MS = 3_000;

export type Turn = { kind: "go" } | { kind: "skip" } | { kind: "park"; ms: number };

/** Back to the queue at once: serve is stopping (another replica, or the next start, takes it). */
const BACK: Turn = { kind: "park", ms: 0 };

/** Lower runs first: BullMQ priority, then the job's creation time, then its id. */
type Order = readonly [number, number, string];

export interface PostTurn {
  priority: number;
  timestamp: number;
  id: string;
  /** Checked before a token is taken for the job: false = skip it (its approval ended meanwhile). */
  wanted?: () => Promise<boolean>;
}

interface Waiter {
  order: Order;
  wanted?: (() => Promise<boolean>) | undefined;
  resolve(turn: Turn): void;
  reject(err: Error): void;
}

interface Line {
  readonly id: string;
  readonly channel: string;
  readonly slot: PaceSlot;
  readonly pace: Required<CallPace>;
  readonly mode: "post" | "edit";
  readonly waiters: Waiter[];
  /** Jobs this process parked for the line, to spread their return. */
  parked: Array<{ order: Order; due: number }>;
  pumping: boolean;
}

const before = (a: Order, b: Order) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);

export class Pacer {
  private readonly lines = new Map<string, Line>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  private readonly script: LuaScript;
  private readonly k: Keys;
  private seq = 0;
  private closed = false;

  constructor(redis: Redis, prefix: string) {
    this.script = loadLuaScript(redis, "lifecycle/takeCallToken-3");
    this.k = keys(prefix);
  }

  /** A post's turn on its bucket: in priority order among this process's waiting posts. */
  post(channel: string, pacing: ChannelPacing, slot: PaceSlot, job: PostTurn): Promise<Turn> {
    if (this.closed) return Promise.resolve(BACK);
    const line = this.line(channel, pacing, slot, "post");
    if (!line) return Promise.resolve({ kind: "go" });
    return new Promise<Turn>((resolve, reject) => {
      const w: Waiter = { order: [job.priority, job.timestamp, job.id], wanted: job.wanted, resolve, reject };
      const room = Math.max(1, Math.ceil(HOLD_HORIZON_MS / line.pace.intervalMs));
      if (line.waiters.length >= room) {
        const worst = line.waiters[line.waiters.length - 1] as Waiter;
        if (before(w.order, worst.order) >= 0) return this.park(line, w, line.waiters.length);
        line.waiters.pop();
        this.insert(line, w);
        this.park(line, worst, line.waiters.length);
      } else this.insert(line, w);
      this.pump(line);
    });
  }

  /** An edit's turn on its bucket, in arrival order. */
  edit(channel: string, pacing: ChannelPacing, slot: PaceSlot): Promise<Turn> {
    if (this.closed) return Promise.resolve(BACK);
    const line = this.line(channel, pacing, slot, "edit");
    if (!line) return Promise.resolve({ kind: "go" });
    return new Promise<Turn>((resolve, reject) => {
      this.insert(line, { order: [0, Date.now(), String(++this.seq).padStart(12, "0")], resolve, reject });
      this.pump(line);
    });
  }

  /**
   * The provider refused a call for `ms`: hold back that bucket and key (or, `channel`, every
   * call of the channel). An edit held back this way holds back the channel's posts too.
   */
  async penalize(channel: string, pacing: ChannelPacing | undefined, slot: PaceSlot | null, ms: number, scope: "call" | "channel", kind: "post" | "edit" = "post"): Promise<void> {
    const pace = slot ? pacing?.buckets[slot.bucket] : undefined;
    if (scope === "channel" || !slot || !pace) {
      await this.script.run([this.k.pace(channel, "-", "-"), this.k.paceEdits(channel), this.k.pacePause(channel)], [1, 1, "pause", Math.ceil(ms)]);
      return;
    }
    await this.script.run(this.keysOf(channel, slot), [pace.intervalMs, pace.burst ?? 1, "penalize", Math.ceil(ms), kind]);
  }

  /** Sends every waiting job back to the queue at once (serve is stopping; another replica or the next start takes them). */
  close(): void {
    this.closed = true;
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.done();
    }
    this.timers.clear();
    for (const line of this.lines.values()) for (const w of line.waiters.splice(0)) w.resolve(BACK);
    this.lines.clear();
  }

  private keysOf(channel: string, slot: PaceSlot): string[] {
    return [this.k.pace(channel, slot.bucket, slot.key), this.k.paceEdits(channel), this.k.pacePause(channel)];
  }

  /** The line for a bucket and key; null when the channel does not pace this bucket. */
  private line(channel: string, pacing: ChannelPacing, slot: PaceSlot, mode: "post" | "edit"): Line | null {
    const pace = pacing.buckets[slot.bucket];
    if (!pace) return null;
    const id = `${channel}|${mode}|${slot.bucket}|${slot.key}`;
    let line = this.lines.get(id);
    if (!line) {
      line = { id, channel, slot, mode, pace: { intervalMs: Math.max(1, pace.intervalMs), burst: Math.max(1, pace.burst ?? 1) }, waiters: [], parked: [], pumping: false };
      this.lines.set(id, line);
    }
    return line;
  }

  private insert(line: Line, w: Waiter): void {
    let i = line.waiters.length;
    while (i > 0 && before(w.order, (line.waiters[i - 1] as Waiter).order) < 0) i--;
    line.waiters.splice(i, 0, w);
  }

  /**
   * Parks `w`: back in about the time the `ahead` jobs in line and the parked jobs before it
   * need, so parked jobs return one by one in their order rather than all at once.
   */
  private park(line: Line, w: Waiter, ahead: number): void {
    const now = Date.now();
    line.parked = line.parked.filter((p) => p.due > now - line.pace.intervalMs);
    const parkedAhead = line.parked.filter((p) => before(p.order, w.order) < 0).length;
    const ms = (ahead + parkedAhead) * line.pace.intervalMs;
    line.parked.push({ order: w.order, due: now + ms });
    w.resolve({ kind: "park", ms });
  }

  private remove(line: Line, w: Waiter): boolean {
    const i = line.waiters.indexOf(w);
    if (i < 0) return false;
    line.waiters.splice(i, 1);
    return true;
  }

  /** Hands out tokens to the line's best waiter, one at a time, while anyone waits. */
  private pump(line: Line): void {
    if (line.pumping || this.closed) return;
    line.pumping = true;
    void this.run(line).finally(() => {
      line.pumping = false;
      if (this.closed) return;
      if (line.waiters.length) this.pump(line);
      else if (!line.parked.some((p) => p.due > Date.now())) this.lines.delete(line.id);
    });
  }

  private async run(line: Line): Promise<void> {
    while (line.waiters.length && !this.closed) {
      const head = line.waiters[0] as Waiter;
      try {
        if (head.wanted && !(await head.wanted())) {
          if (this.remove(line, head)) head.resolve({ kind: "skip" });
          continue;
        }
        const wait = Number(await this.script.run(this.keysOf(line.channel, line.slot), [line.pace.intervalMs, line.pace.burst, line.mode]));
        if (wait <= 0) {
          // The head may have been displaced meanwhile; the token goes to whoever is best now.
          const taker = line.waiters.includes(head) ? head : line.waiters[0];
          if (taker && this.remove(line, taker)) taker.resolve({ kind: "go" });
          continue;
        }
        if (wait > HOLD_HORIZON_MS) {
          // A provider pause (or edits held back that long): nobody here goes before it ends.
          line.waiters.splice(0).forEach((w, i) => {
            line.parked.push({ order: w.order, due: Date.now() + wait + i * line.pace.intervalMs });
            w.resolve({ kind: "park", ms: wait + i * line.pace.intervalMs });
          });
          return;
        }
        await this.sleep(wait);
      } catch (err) {
        // Redis trouble: the job fails as any Redis error fails it, and is retried.
        if (this.remove(line, head)) head.reject(err as Error);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = {
        timer: setTimeout(() => {
          this.timers.delete(t);
          resolve();
        }, ms),
        done: resolve,
      };
      this.timers.add(t);
    });
  }
}
