import type { Redis } from "ioredis";
import type { Decision } from "../policy/schema.ts";
import type { RuntimeRules } from "../policy/types.ts";
import type { Keys } from "./keys.ts";

/**
 * Runtime policy kept in Redis and shared by every gateway: `clawgate policy set/unset`
 * overrides and saved allow-always rules. Writers publish on the rules channel; readers
 * (RuntimeRulesCache) hold a copy in memory so the allow/deny path never touches Redis.
 */
export class RuntimeRulesStore {
  constructor(
    private readonly redis: Redis,
    private readonly k: Keys,
  ) {}

  async load(): Promise<RuntimeRules> {
    const [overrides, always] = await Promise.all([this.redis.hgetall(this.k.overrides), this.redis.smembers(this.k.always)]);
    return { overrides: new Map(Object.entries(overrides) as Array<[string, Decision]>), alwaysAllow: always.sort() };
  }

  async setOverride(rule: string, decision: Decision): Promise<void> {
    await this.redis.multi().hset(this.k.overrides, rule, decision).publish(this.k.rulesChannel, "override").exec();
  }

  /** Removes an override or a saved allow-always rule; true when something was removed. */
  async unset(rule: string): Promise<boolean> {
    const res = await this.redis.multi().hdel(this.k.overrides, rule).srem(this.k.always, rule).publish(this.k.rulesChannel, "unset").exec();
    return (res ?? []).slice(0, 2).some(([, n]) => Number(n) > 0);
  }
}

/**
 * In-memory copy of the runtime rules for one process. Refreshed on every rules-changed
 * message, on every (re)connect of the subscriber (messages sent while away are lost), and
 * on a slow timer as a last resort.
 */
export class RuntimeRulesCache {
  private current: RuntimeRules = { overrides: new Map(), alwaysAllow: [] };
  private version = 0;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly store: RuntimeRulesStore,
    private readonly sub: Redis,
    private readonly k: Keys,
    private readonly onChange: (rules: RuntimeRules) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  get rules(): RuntimeRules {
    return this.current;
  }

  async start(refreshMs = 30_000): Promise<void> {
    this.sub.on("message", (channel: string) => {
      if (channel === this.k.rulesChannel) void this.refresh();
    });
    this.sub.on("ready", () => void this.refresh());
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
    await this.sub.subscribe(this.k.rulesChannel);
    await this.refresh();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    // Coalesce bursts: one load in flight, and one more after it if something changed meanwhile.
    const v = ++this.version;
    if (this.loading) {
      await this.loading;
      if (v !== this.version) return;
    }
    this.loading = (async () => {
      try {
        const next = await this.store.load();
        if (!sameRules(next, this.current)) {
          this.current = next;
          this.onChange(next);
        }
      } catch (err) {
        this.onError(err);
      }
    })();
    try {
      await this.loading;
    } finally {
      this.loading = null;
    }
  }
}

function sameRules(a: RuntimeRules, b: RuntimeRules): boolean {
  if (a.overrides.size !== b.overrides.size || a.alwaysAllow.length !== b.alwaysAllow.length) return false;
  for (const [k, v] of a.overrides) if (b.overrides.get(k) !== v) return false;
  return a.alwaysAllow.every((r, i) => r === b.alwaysAllow[i]);
}
