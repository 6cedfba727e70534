import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { parseEvent, type LifecycleEvent } from "../approvals/events.ts";
import type { RedisReachability } from "../redis/reachability.ts";
import { isRedisUnavailable } from "../errors.ts";
import type { Logger } from "../log.ts";

export interface ConsumerOptions {
  /** Command connection (acks, claims, dead letters). */
  redis: Redis;
  /** Connection for the blocking XREADGROUP (no command timeout); the consumer owns it and closes it on stop. */
  blocking: Redis;
  stream: string;
  deadStream: string;
  group?: string;
  handle(event: LifecycleEvent): Promise<void>;
  log: Logger;
  /** An entry unacknowledged this long (its consumer died or failed) is claimed by another. */
  claimIdleMs?: number;
  /**
   * An entry whose handler fails on its Nth delivery is dead-lettered. Deliveries are the
   * group's own count (XPENDING's times_delivered: one per read or claim), so restarts and
   * other replicas add to it rather than starting again.
   */
  maxDeliveries?: number;
  blockMs?: number;
  batch?: number;
  /**
   * Handler failures that mean "wait" rather than "broken event" (a broken audit head): the
   * event is parked — kept pending, never dead-lettered — and retried with every other parked
   * event, oldest first, one at a time, every `holdRetryMs`, until they go through.
   */
  holds?: (err: unknown) => boolean;
  holdRetryMs?: number;
  /** Called once an event leaves for good: handled and acknowledged, or dead-lettered. */
  onSettled?: (streamId: string) => void;
  /** Where an unreachable Redis is reported (once per outage) instead of a warning per retry. */
  reach?: RedisReachability;
}

/** How many times the group has delivered each entry (XPENDING's times_delivered). */
type Deliveries = (streamId: string) => number;
/** XREADGROUP `>` hands out entries never delivered before. */
const FIRST_DELIVERY: Deliveries = () => 1;

/**
 * Reads the lifecycle event stream through a consumer group, so each event is handled by one
 * `serve` replica, and entries of a replica that died are claimed by the others (XAUTOCLAIM).
 * Events of one approval are handled in stream order; different approvals concurrently.
 * A handler failure leaves the entry pending for a retry; a malformed entry, or one whose handler
 * fails on its `maxDeliveries`th delivery (counted by Redis, across restarts and replicas), moves
 * to the dead-letter stream. Handlers are idempotent, so a
 * redelivery is harmless. Entries every consumer group has acknowledged are trimmed from the
 * stream (see trimAcknowledged), so it holds only the backlog, not the history: that is the
 * audit log's job.
 */
export class EventConsumer {
  readonly group: string;
  readonly consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private running = false;
  private loop: Promise<void> | null = null;
  private claimTimer: NodeJS.Timeout | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  /** Events waiting for what `holds` names, by stream id; retried in stream order by drain(). */
  private readonly parked = new Map<string, LifecycleEvent>();
  private draining: Promise<void> | null = null;
  /** Ends the read loop's pause between failed reads (stop() must not wait out a backoff). */
  private wake: () => void = () => undefined;
  /** Settles on stop(): a read queued on a connection that is reconnecting never settles by itself. */
  private stopSignal!: Promise<null>;
  private signalStop: () => void = () => undefined;

  constructor(private readonly o: ConsumerOptions) {
    this.group = o.group ?? "serve";
  }

  async start(): Promise<void> {
    await this.ensureGroup();
    this.running = true;
    this.stopSignal = new Promise((resolve) => (this.signalStop = () => resolve(null)));
    this.loop = this.run();
    this.claimTimer = setInterval(() => void this.claim().then(() => this.trimAcknowledged()), Math.max(200, Math.floor((this.o.claimIdleMs ?? 3_000) / 3)));
    this.holdTimer = setInterval(() => void this.drain(), this.o.holdRetryMs ?? 2_000);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.claimTimer) clearInterval(this.claimTimer);
    if (this.holdTimer) clearInterval(this.holdTimer);
    // Ends a read blocked in XREADGROUP now rather than after blockMs.
    this.o.blocking.disconnect();
    this.signalStop();
    this.wake();
    await this.loop;
    await this.draining;
    // Removing this consumer drops its pending entries for good: only do it when none are left
    // (a successor would otherwise wait claimIdleMs for nothing). Parked or failed entries stay
    // pending under this name, and the next serve claims them.
    if (this.parked.size) return;
    const mine = (await this.o.redis.xpending(this.o.stream, this.group, "-", "+", 1, this.consumer).catch(() => [1])) as unknown[];
    if (mine.length === 0) await this.o.redis.xgroup("DELCONSUMER", this.o.stream, this.group, this.consumer).catch(() => undefined);
  }

  /** Logs a failed background step, unless it is Redis being away: `reach` says that once. */
  private warn(err: unknown, msg: string): void {
    const text = (err as Error).message;
    if (this.o.reach && isRedisUnavailable(err)) this.o.reach.lost(text);
    else this.o.log.warn({ err: text }, msg);
  }

  private async ensureGroup(): Promise<void> {
    try {
      // From the start of the stream: events written before any serve ran still get handled.
      await this.o.redis.xgroup("CREATE", this.o.stream, this.group, "0", "MKSTREAM");
    } catch (err) {
      if (!String((err as Error).message).includes("BUSYGROUP")) throw err;
    }
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        const read = this.o.blocking.xreadgroup(
          "GROUP",
          this.group,
          this.consumer,
          "COUNT",
          this.o.batch ?? 200,
          "BLOCK",
          this.o.blockMs ?? 1_000,
          "STREAMS",
          this.o.stream,
          ">",
        ) as Promise<Array<[string, Array<[string, string[]]>]> | null>;
        read.catch(() => undefined);
        const res = await Promise.race([read, this.stopSignal]);
        if (!this.running) break;
        backoff = 100;
        const entries = res?.[0]?.[1] ?? [];
        if (entries.length) await this.process(entries, FIRST_DELIVERY);
      } catch (err) {
        const msg = (err as Error).message;
        if (msg.includes("NOGROUP")) await this.ensureGroup().catch(() => undefined);
        else if (this.running) this.warn(err, "event stream read failed; retrying");
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  }

  /** Takes over entries other consumers (or this one) left unacknowledged for too long. */
  private async claim(): Promise<void> {
    if (!this.running) return;
    try {
      await this.keepParked();
      const res = (await this.o.redis.xautoclaim(this.o.stream, this.group, this.consumer, this.o.claimIdleMs ?? 3_000, "0-0", "COUNT", 100)) as [
        string,
        Array<[string, string[]] | null>,
        string[]?,
      ];
      const entries = (res[1] ?? []).filter((e): e is [string, string[]] => Array.isArray(e) && Array.isArray(e[1]));
      // Entries trimmed from the stream while pending come back empty: nothing left to do.
      const gone = (res[1] ?? []).filter((e) => !Array.isArray(e) || !Array.isArray(e[1])).map((e) => (Array.isArray(e) ? e[0] : null)).filter(Boolean) as string[];
      const deleted = [...gone, ...(res[2] ?? [])];
      if (deleted.length) await this.o.redis.xack(this.o.stream, this.group, ...deleted);
      if (entries.length) await this.process(entries, await this.deliveries(entries.map(([id]) => id)));
    } catch (err) {
      this.warn(err, "claiming stale events failed");
    }
  }

  /**
   * A parked event waits on purpose (for the audit log's repair, which may take hours): resetting
   * its idle time keeps it from being claimed, by this consumer or another, and JUSTID leaves its
   * delivery count alone, so waiting never counts towards dead-lettering. Should this process
   * die, its parked events are claimed once each (one delivery) and parked again by the claimer.
   */
  private async keepParked(): Promise<void> {
    if (this.parked.size === 0) return;
    await this.o.redis.xclaim(this.o.stream, this.group, this.consumer, 0, ...this.parked.keys(), "JUSTID");
  }

  /** The group's delivery count of each entry just claimed (the claim itself included). */
  private async deliveries(ids: readonly string[]): Promise<Deliveries> {
    const pipe = this.o.redis.pipeline();
    for (const id of ids) pipe.xpending(this.o.stream, this.group, id, id, 1);
    const counts = new Map<string, number>();
    for (const [i, [err, rows]] of ((await pipe.exec()) ?? []).entries()) {
      // [[id, consumer, idle ms, times delivered]]; nothing when someone acknowledged it meanwhile.
      const row = err ? undefined : (rows as Array<[string, string, number, number]>)[0];
      if (row) counts.set(ids[i] as string, Number(row[3]));
    }
    return (id) => counts.get(id) ?? 1;
  }

  /**
   * Drops the entries every consumer group of the stream is done with: ids below the oldest
   * entry still pending (delivered, not yet acknowledged) in any group, and below any group's
   * last-delivered id. Another group (an operator's own reader) holds entries back the same
   * way. Approximate (`~`): Redis drops whole stream nodes only, so up to a node's worth of
   * handled entries stays. `approvals.eventRetention` still caps an unhandled backlog.
   */
  async trimAcknowledged(): Promise<void> {
    if (!this.running) return;
    try {
      const groups = (await this.o.redis.xinfo("GROUPS", this.o.stream)) as unknown[][];
      let floor: StreamId | null = null;
      for (const flat of groups) {
        const info = new Map<string, unknown>();
        for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
        let keep = parseStreamId(String(info.get("last-delivered-id") ?? "0-0"));
        if (Number(info.get("pending") ?? 0) > 0) {
          const [, oldest] = (await this.o.redis.xpending(this.o.stream, String(info.get("name")))) as [number, string | null];
          if (oldest) keep = lowerId(keep, parseStreamId(oldest));
        }
        floor = floor === null ? keep : lowerId(floor, keep);
      }
      if (floor && (floor[0] > 0n || floor[1] > 0n)) await this.o.redis.xtrim(this.o.stream, "MINID", "~", `${floor[0]}-${floor[1]}`);
    } catch (err) {
      this.warn(err, "trimming handled events failed");
    }
  }

  private async process(entries: Array<[string, string[]]>, deliveries: Deliveries): Promise<void> {
    const byApproval = new Map<string, LifecycleEvent[]>();
    for (const [streamId, fields] of entries) {
      const ev = parseEvent(streamId, fields);
      if (typeof ev === "string") {
        await this.deadLetter(streamId, fields, ev);
        continue;
      }
      const list = byApproval.get(ev.id || streamId) ?? [];
      list.push(ev);
      byApproval.set(ev.id || streamId, list);
    }
    await Promise.all([...byApproval.values()].map((list) => this.inOrder(list, deliveries)));
  }

  private async inOrder(list: LifecycleEvent[], deliveries: Deliveries): Promise<void> {
    for (const [i, ev] of list.entries()) {
      // drain() owns parked events (our own claims hand them back here every few seconds), and
      // this approval's later events wait behind them.
      if (this.parked.has(ev.streamId)) {
        for (const later of list.slice(i)) this.parked.set(later.streamId, later);
        return;
      }
      try {
        await this.o.handle(ev);
        await this.o.redis.xack(this.o.stream, this.group, ev.streamId);
      } catch (err) {
        if (this.o.holds?.(err)) {
          // This approval's later events wait behind it, so they keep their order.
          for (const later of list.slice(i)) this.parked.set(later.streamId, later);
          return;
        }
        const n = deliveries(ev.streamId);
        const last = n >= (this.o.maxDeliveries ?? 10);
        this.o.log.warn({ event: ev.type, approvalId: ev.id, streamId: ev.streamId, delivery: n, err: (err as Error).message }, last ? "event handler failed" : "event handler failed; will retry");
        if (last) {
          await this.deadLetter(ev.streamId, ["type", ev.type, "id", ev.id, "at", String(ev.at), "data", JSON.stringify(ev.data)], `${(err as Error).message} (delivery ${n})`);
        }
        // Later events of this approval wait for the failed one's retry, keeping their order.
        return;
      }
    }
  }

  /** Retries parked events oldest first, one at a time; stops at the first that must still wait. */
  private drain(): Promise<void> {
    if (!this.running || this.parked.size === 0) return Promise.resolve();
    this.draining ??= (async () => {
      for (const ev of [...this.parked.values()].sort((a, b) => compareIds(a.streamId, b.streamId))) {
        if (!this.running) return;
        try {
          await this.o.handle(ev);
          await this.o.redis.xack(this.o.stream, this.group, ev.streamId);
          this.parked.delete(ev.streamId);
        } catch (err) {
          if (this.o.holds?.(err)) return;
          // Not a wait any more: an ordinary failure. No longer kept fresh, it is claimed again
          // (a delivery, counted) once idle.
          this.parked.delete(ev.streamId);
          this.o.log.warn({ event: ev.type, approvalId: ev.id, streamId: ev.streamId, err: (err as Error).message }, "event handler failed; will retry");
          return;
        }
      }
    })().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private async deadLetter(streamId: string, fields: readonly string[], why: string): Promise<void> {
    this.o.log.error({ streamId, why }, "event dead-lettered");
    try {
      await this.o.redis.xadd(this.o.deadStream, "MAXLEN", "~", 10_000, "*", "source", streamId, "why", why.slice(0, 500), ...fields.slice(0, 16));
      await this.o.redis.xack(this.o.stream, this.group, streamId);
      this.o.onSettled?.(streamId);
    } catch (err) {
      this.o.log.error({ streamId, err: (err as Error).message }, "could not dead-letter an event; it stays pending");
    }
  }
}

type StreamId = readonly [bigint, bigint];

function parseStreamId(id: string): StreamId {
  const [ms = "0", seq = "0"] = id.split("-");
  return /^\d+$/.test(ms) && /^\d+$/.test(seq) ? [BigInt(ms), BigInt(seq)] : [0n, 0n];
}

function lowerId(a: StreamId, b: StreamId): StreamId {
  return a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]) ? a : b;
}

/** Stream order of two entry ids ("ms-seq"). */
export function compareIds(a: string, b: string): number {
  const [x, y] = [parseStreamId(a), parseStreamId(b)];
  return x[0] === y[0] ? (x[1] === y[1] ? 0 : x[1] < y[1] ? -1 : 1) : x[0] < y[0] ? -1 : 1;
}
