import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../log.ts";
import { ScriptCode } from "../lua/codes.ts";
import { loadLuaScript } from "../lua/script.ts";

export interface LeaderOptions {
  /** Lease key, e.g. keys(prefix).leader("sweeper"). */
  key: string;
  ttlMs?: number;
  /** How often the holder renews and others try to take over (well under ttlMs). */
  renewMs?: number;
  log: Logger;
}

/**
 * Leader election for work that must run once across `serve` replicas (sweepers, a Discord
 * gateway connection, IMAP IDLE): a Redis lease (SET NX PX) renewed by its holder, with a
 * fencing token that grows with every new leader, so work started by a holder that stalled
 * past its lease can be told apart (`stillLeader()` checks both token and fence).
 */
export class Leader {
  private readonly token = randomUUID();
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private timer: NodeJS.Timeout | undefined;
  private fenceToken = 0;
  private since = 0;
  private readonly acquire;
  private readonly renew;
  private ticking: Promise<void> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly opts: LeaderOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? 5_000;
    this.renewMs = opts.renewMs ?? Math.max(100, Math.floor(this.ttlMs / 3));
    this.acquire = loadLuaScript(redis, "server/acquireLeader-2");
    this.renew = loadLuaScript(redis, "server/renewLeader-2");
  }

  get isLeader(): boolean {
    return this.fenceToken > 0;
  }

  /** When this term began (ms; 0 when not leader). */
  get heldSince(): number {
    return this.fenceToken ? this.since : 0;
  }

  /** The fencing token of the current term (0 when not leader). */
  get fence(): number {
    return this.fenceToken;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.renewMs);
    void this.tick();
  }

  /** Resolves once the first election attempt finished (tests, start-up logs). */
  async ready(): Promise<void> {
    await this.tick();
  }

  /** Checks with Redis that this process still holds the lease in the same term. */
  async stillLeader(): Promise<boolean> {
    if (!this.fenceToken) return false;
    const code = Number(await this.renew.run([this.opts.key, `${this.opts.key}:fence`], [this.token, this.ttlMs, this.fenceToken]));
    if (code !== ScriptCode.Done) this.lose("lease taken over");
    return code === ScriptCode.Done;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
    if (this.fenceToken) {
      // Hand over at once instead of making the next leader wait out the TTL.
      await this.renew.run([this.opts.key, `${this.opts.key}:fence`], [this.token, 0, this.fenceToken]).catch(() => undefined);
      this.fenceToken = 0;
    }
  }

  private tick(): Promise<void> {
    this.ticking ??= this.attempt().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async attempt(): Promise<void> {
    try {
      if (this.fenceToken) {
        await this.stillLeader();
        return;
      }
      // The fencing token, or Conflict (0) while someone else holds the lease.
      const fence = Number(await this.acquire.run([this.opts.key, `${this.opts.key}:fence`], [this.token, this.ttlMs]));
      if (fence > ScriptCode.Conflict) {
        this.fenceToken = fence;
        this.since = Date.now();
        this.opts.log.info({ lease: this.opts.key, fence }, "leader elected");
      }
    } catch (err) {
      // Without Redis nobody can prove leadership: stop acting as leader until it answers again.
      if (this.fenceToken) this.lose((err as Error).message);
    }
  }

  private lose(why: string): void {
    this.opts.log.warn({ lease: this.opts.key, fence: this.fenceToken, why }, "leadership lost");
    this.fenceToken = 0;
  }
}
