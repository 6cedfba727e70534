import type { Redis } from "ioredis";
import type { KeyLookup } from "../trust/signature.ts";
import { EMPTY_RULES, readSnapshot, type RulesSnapshot, type RuntimeRulesStore } from "./runtime-rules.ts";

/**
 * Where a gateway keeps the newest snapshot it has accepted (its OpenClaw state folder), so a
 * restart after someone deleted or rolled back the snapshot in Redis does not forget a deny.
 */
export interface RulesMemory {
  read(): string | null;
  write(raw: string): void;
}

export type RulesRefusal = "forged" | "rollback" | "deleted";

export interface RulesCacheEvents {
  /** A newer verified snapshot was accepted. */
  onChange(rules: RulesSnapshot): void;
  /** A snapshot was refused: not signed by a trusted key, older than one seen, or deleted. */
  onRefused(kind: RulesRefusal, why: string): void;
  onError(err: unknown): void;
}

/**
 * One process's copy of the runtime rules, so the allow/deny path never touches Redis. Loaded at
 * start and again on every rules-changed message, every (re)connect of the subscriber (messages
 * sent while away are lost) and a slow timer. Only a snapshot that verifies and is not older than
 * the newest one seen is applied; until one has loaded, `ready` is false and the gate blocks.
 */
export class RuntimeRulesCache {
  private current: RulesSnapshot = EMPTY_RULES;
  /** The current snapshot's exact text, to restore it when Redis loses or replaces it. */
  private currentRaw: string | null = null;
  private loaded = false;
  private problem = "runtime rules have not been loaded from Redis yet";
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | null = null;
  private pass = 0;
  private lastRefused = "";

  constructor(
    private readonly store: RuntimeRulesStore,
    private readonly sub: Redis,
    private readonly keys: KeyLookup,
    private readonly events: RulesCacheEvents,
    private readonly memory?: RulesMemory,
  ) {
    const remembered = memory?.read();
    if (remembered) {
      const r = readSnapshot(remembered, store.prefix, keys);
      if (r.kind === "ok") {
        this.current = r.snapshot;
        this.currentRaw = remembered;
        events.onChange(r.snapshot);
      }
    }
  }

  get rules(): RulesSnapshot {
    return this.current;
  }

  /** True once a load from Redis settled what the rules are. */
  get ready(): boolean {
    return this.loaded;
  }

  /** Not ready because the snapshot in Redis failed verification (failOpen never applies to that). */
  get refusedForgery(): boolean {
    return !this.loaded && this.forgedAtStart;
  }

  private forgedAtStart = false;

  /** Why the rules are not ready (shown to the agent in the block reason). */
  get notReadyReason(): string {
    return this.problem;
  }

  async start(refreshMs = 30_000): Promise<void> {
    const channel = this.store.k.rulesChannel;
    this.sub.on("message", (ch: string) => {
      if (ch === channel) void this.refresh();
    });
    this.sub.on("ready", () => void this.refresh());
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
    await this.sub.subscribe(channel);
    await this.refresh();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    // Coalesce bursts: one load in flight, and one more after it if something changed meanwhile.
    const n = ++this.pass;
    if (this.loading) {
      await this.loading;
      if (n !== this.pass) return;
    }
    this.loading = this.loadOnce().finally(() => (this.loading = null));
    await this.loading;
  }

  private async loadOnce(): Promise<void> {
    let raw: string | null;
    try {
      raw = await this.store.read();
    } catch (err) {
      if (!this.loaded) this.problem = `runtime rules could not be read from Redis: ${(err as Error).message}`;
      this.events.onError(err);
      return;
    }
    const seen = this.current.version;
    if (raw === null) {
      if (seen > 0) {
        this.refuse("deleted", `runtime rules version ${seen} are gone from Redis; keeping them and putting them back`);
        await this.restore(null);
      }
      this.settle();
      return;
    }
    const r = readSnapshot(raw, this.store.prefix, this.keys);
    if (r.kind === "forged") {
      this.refuse("forged", `runtime rules in Redis fail verification (${r.why}); ${seen > 0 ? `keeping version ${seen} and putting it back` : "none applied"}`);
      if (seen > 0) {
        await this.restore(raw);
        this.settle();
      }
      else this.forgedAtStart = true;
      if (seen === 0) this.problem = `runtime rules in Redis fail verification (${r.why}), so every call is blocked until an operator re-signs them (\`clawgate policy repair\`)`;
      return;
    }
    const v = r.snapshot.version;
    if (v < seen) {
      this.refuse("rollback", `runtime rules version ${v} in Redis are older than version ${seen} already applied; keeping ${seen} and putting it back`);
      await this.restore(raw);
    } else if (v > seen) {
      this.current = r.snapshot;
      this.currentRaw = raw;
      this.events.onChange(r.snapshot);
      try {
        this.memory?.write(raw);
      } catch (err) {
        this.events.onError(err);
      }
    }
    this.settle();
  }

  /** Writes the newest genuine snapshot this process holds back over what it found (`found`), if that is still there. */
  private async restore(found: string | null): Promise<void> {
    if (!this.currentRaw) return;
    try {
      await this.store.restore(found, this.currentRaw);
    } catch (err) {
      this.events.onError(err);
    }
  }

  private settle(): void {
    this.loaded = true;
    this.problem = "";
  }

  private refuse(kind: RulesRefusal, why: string): void {
    // Reported once per distinct problem, not on every reload.
    if (why === this.lastRefused) return;
    this.lastRefused = why;
    this.events.onRefused(kind, why);
  }
}
