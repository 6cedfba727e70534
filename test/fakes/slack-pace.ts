/**
 * Slack's rate limits for the fake (test/fakes/slack.ts), answered as Slack answers them: HTTP
 * 429, `{ok:false,error:"ratelimited"}` and `Retry-After` in whole seconds. A refused call has
 * no effect and does not count against the limit.
 *
 * - `chat.postMessage`: about one message a second per conversation (the channel id, or a
 *   user's DM once a user id is resolved), with short bursts tolerated; Slack's limit is per
 *   conversation, not per app, so posts to other conversations are unaffected.
 * - `chat.update`: a Tier 3 method, "50+ per minute" per workspace; off unless asked for.
 *
 * Each limit is a GCRA bucket: `burst` calls at once, then one per interval.
 */
export interface FakeSlackPace {
  /** chat.postMessage per conversation: one per this many ms. Default 1000. */
  postIntervalMs?: number;
  /** Posts one conversation may make at once before the interval applies. Default 3. */
  postBurst?: number;
  /** chat.update per workspace, calls a minute (Tier 3 is 50+). Default: not limited. */
  updatesPerMinute?: number;
  /** chat.update calls at once before the per-minute pace applies. Default 5. */
  updateBurst?: number;
}

class Bucket {
  private readonly tat = new Map<string, number>();
  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
  ) {}

  /** 0 = the call may go (and is counted); otherwise ms until it may. */
  take(key: string, now: number): number {
    const tat = Math.max(this.tat.get(key) ?? 0, now);
    const allowAt = tat - (this.burst - 1) * this.intervalMs;
    if (now < allowAt) return allowAt - now;
    this.tat.set(key, tat + this.intervalMs);
    return 0;
  }
}

export class SlackPace {
  private readonly posts: Bucket;
  private readonly updates: Bucket | null;

  constructor(opts: FakeSlackPace) {
    this.posts = new Bucket(opts.postIntervalMs ?? 1_000, Math.max(1, opts.postBurst ?? 3));
    this.updates = opts.updatesPerMinute ? new Bucket(60_000 / opts.updatesPerMinute, Math.max(1, opts.updateBurst ?? 5)) : null;
  }

  /**
   * Seconds the caller must wait (Slack's Retry-After), or null when the call may go.
   * `conversation` is the post's resolved channel id.
   */
  retryAfter(method: string, conversation: string | undefined, now = Date.now()): number | null {
    let wait = 0;
    if (method === "chat.postMessage" && conversation) wait = this.posts.take(conversation, now);
    else if (method === "chat.update" && this.updates) wait = this.updates.take("workspace", now);
    return wait > 0 ? Math.max(1, Math.ceil(wait / 1000)) : null;
  }
}
