// Which approvals a test's calls created, read from Redis as the CLI would: the e2e tests' way of
// learning the id of the approval a waiting gateway call is blocked on.
import type { Redis } from "ioredis";

export interface PendingWatch {
  /** The ids pending now. */
  ids(): Promise<string[]>;
  /** The first id pending that was not in `before`; fails at once if `call` returned first (it did not ask). */
  next(before: string[], call: Promise<unknown>): Promise<string>;
  /** Starts `call()` and returns it with the id of the approval it created. */
  ask<T>(call: () => Promise<T>): Promise<{ id: string; call: Promise<T> }>;
}

export function pendingWatch(db: Redis, prefix: string): PendingWatch {
  const ids = async () => db.zrange(`{${prefix}}:pending`, 0, "-1");
  async function next(before: string[], call: Promise<unknown>): Promise<string> {
    let settled: unknown = null;
    void call.then((v) => (settled = v ?? "settled"), (e) => (settled = e));
    for (let i = 0; i < 200; i++) {
      const fresh = (await ids()).filter((id) => !before.includes(id));
      if (fresh[0]) return fresh[0];
      if (settled) throw new Error(`the call returned before any approval appeared: ${JSON.stringify(settled)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("no pending approval appeared");
  }
  return {
    ids,
    next,
    async ask(start) {
      const before = await ids();
      const call = start();
      return { id: await next(before, call), call };
    },
  };
}
