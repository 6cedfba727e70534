import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Override } from "./schedule.ts";

const overrideSchema = z.object({
  id: z.string(),
  schedule: z.string(),
  person: z.string(),
  from: z.number(),
  to: z.number(),
  by: z.string().optional(),
  createdAt: z.number().optional(),
});

/**
 * Run-time on-call overrides (`clawgate oncall override add`), in one Redis hash under the
 * `{prefix}` hash tag: id → JSON. Read by `serve` when a tier fires and by `oncall who`.
 * Ended overrides are pruned on the next add.
 */
export class OverrideStore {
  readonly key: string;
  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `{${prefix}}:oncall:overrides`;
  }

  async list(): Promise<Override[]> {
    const all = await this.redis.hgetall(this.key);
    const out: Override[] = [];
    for (const text of Object.values(all)) {
      try {
        const r = overrideSchema.safeParse(JSON.parse(text));
        if (r.success) out.push(r.data);
      } catch {
        // A corrupt entry is ignored rather than stopping every escalation.
      }
    }
    // Newest last: among overlapping overrides the latest added wins.
    return out.sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || a.id.localeCompare(b.id));
  }

  async add(o: Omit<Override, "id" | "createdAt">, now = Date.now()): Promise<Override> {
    const full: Override = { ...o, id: `ov_${randomBytes(4).toString("hex")}`, createdAt: now };
    const stale = (await this.list()).filter((x) => x.to <= now).map((x) => x.id);
    const tx = this.redis.multi().hset(this.key, full.id, JSON.stringify(full));
    if (stale.length) tx.hdel(this.key, ...stale);
    await tx.exec();
    return full;
  }

  /** true when it existed. */
  async remove(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, id)) === 1;
  }
}
