import type { Redis } from "ioredis";
import type { Logger } from "../log.ts";

/**
 * Whether this process reaches Redis, said once per outage. Every connection `serve` opens
 * (and BullMQ's own, through its workers' error events) reports here, so an outage is one
 * warning and one "back" line, not a line per connection per reconnect attempt. A stall
 * (SIGSTOP, CLIENT PAUSE) drops no socket, so a PING every `probeMs` finds those too.
 * It also keeps the connections it watches, so a stop that cannot wait drops them all at once.
 */
export class RedisReachability {
  private downSince = 0;
  private muted = false;
  private readonly conns = new Set<Redis>();
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(private readonly log: Logger) {}

  /** Reports `redis`'s errors and reconnects here instead of logging them itself. */
  watch(redis: Redis): Redis {
    this.conns.add(redis);
    redis.on("error", (err: Error) => this.lost(err.message));
    redis.on("ready", () => this.back());
    redis.once("end", () => this.conns.delete(redis));
    return redis;
  }

  /** PINGs over `redis` (a connection with a command timeout) every `probeMs`. */
  probe(redis: Redis, probeMs = 2_000): void {
    if (this.probeTimer) return;
    this.probeTimer = setInterval(() => {
      if (this.probing) return;
      this.probing = true;
      redis
        .ping()
        .then(
          () => this.back(),
          (err: unknown) => this.lost((err as Error).message),
        )
        .finally(() => (this.probing = false));
    }, probeMs);
    this.probeTimer.unref();
  }

  lost(why: string): void {
    if (this.downSince) return;
    this.downSince = Date.now();
    if (!this.muted) this.log.warn({ err: why }, `cannot reach Redis (${why}); reconnecting every 2 s at most, and the API answers 503 until it is back`);
  }

  back(): void {
    if (!this.downSince) return;
    const s = Math.round((Date.now() - this.downSince) / 100) / 10;
    this.downSince = 0;
    if (!this.muted) this.log.info({ downSeconds: s }, `Redis reachable again after ${s} s`);
  }

  /** From now on nothing is logged: a stopping process does not narrate its reconnect attempts. */
  mute(): void {
    this.muted = true;
  }

  /** Drops every watched connection now (pending commands fail at once, nothing reconnects). */
  disconnectAll(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    for (const r of this.conns) r.disconnect();
    this.conns.clear();
  }

  stop(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }
}
