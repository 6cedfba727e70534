/**
 * Fail-closed timing that measures Redis, not our own queue. A burst of asks on one
 * connection queues behind itself: 10,000 creates take seconds to build and send, and a
 * fixed per-ask timer (or ioredis's per-command timeout, started when a command is sent)
 * then fails healthy asks closed. So:
 * - at most `maxInFlight` asks talk to Redis at once; the rest wait their turn here, where
 *   no command timer runs yet, and each ask is built only when it is sent;
 * - an ask fails only when Redis has stopped answering: no ask finished for `stallMs`
 *   while this one waited (or it waited `maxMs` in all). Checks run after the event loop has
 *   read pending replies (setImmediate after the timer), so time the process spent busy is
 *   not blamed on Redis.
 */
export class RedisProgress {
  private lastReply = 0;
  private inFlight = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    private readonly stallMs: number,
    private readonly maxInFlight = 128,
  ) {}

  /** Something Redis answered: it is alive. */
  note(): void {
    this.lastReply = Date.now();
  }

  run<T>(work: () => Promise<T>, maxMs: number, onStall: () => Error): Promise<T> {
    const started = Date.now();
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      let queued: (() => void) | null = null;
      const finish = (): void => {
        done = true;
        clearTimeout(timer);
        if (queued) {
          const i = this.queue.indexOf(queued);
          if (i >= 0) this.queue.splice(i, 1);
        }
      };
      const check = (): void => {
        if (done) return;
        const now = Date.now();
        const quietFor = now - Math.max(this.lastReply, started);
        if (quietFor >= this.stallMs || now - started >= maxMs) {
          finish();
          reject(onStall());
          return;
        }
        arm(Math.min(this.stallMs - quietFor, maxMs - (now - started)));
      };
      const arm = (ms: number): void => {
        timer = setTimeout(() => setImmediate(check), Math.max(1, ms));
      };
      const start = (): void => {
        queued = null;
        if (done) return;
        this.inFlight++;
        let settled = false;
        const release = (): void => {
          if (settled) return;
          settled = true;
          this.inFlight--;
          this.queue.shift()?.();
        };
        work().then(
          (v) => {
            this.note();
            release();
            if (done) return;
            finish();
            resolve(v);
          },
          (err: unknown) => {
            release();
            if (done) return;
            finish();
            reject(err);
          },
        );
      };
      arm(Math.min(this.stallMs, maxMs));
      if (this.inFlight < this.maxInFlight) start();
      else {
        queued = start;
        this.queue.push(start);
      }
    });
  }
}
