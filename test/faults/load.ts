import type { Redis } from "ioredis";

/** What Redis holds under a prefix, in bytes (MEMORY USAGE per key), by kind of key. */
export interface PrefixMemory {
  total: number;
  keys: number;
  /** The audit log and its dedupe keys: history, kept by design. */
  audit: number;
  byClass: Record<string, number>;
}

/** The kind of a clawgate key, for telling history (audit) from what should expire. */
function classOf(key: string, tag: string): string {
  const rest = key.slice(tag.length + 1);
  if (rest.startsWith("audit")) return "audit";
  if (rest.startsWith("q:")) return "queues";
  if (rest.startsWith("approval:")) return rest.split(":").length > 2 ? `approval:${rest.split(":")[2]}` : "approval";
  return rest.split(":")[0] ?? rest;
}

export async function prefixMemory(redis: Redis, prefix: string): Promise<PrefixMemory> {
  const tag = `{${prefix}}`;
  const out: PrefixMemory = { total: 0, keys: 0, audit: 0, byClass: {} };
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${tag}*`, "COUNT", 1000);
    cursor = next;
    if (!batch.length) continue;
    const pipe = redis.pipeline();
    for (const k of batch) pipe.memory("USAGE", k, "SAMPLES", 0);
    const sizes = (await pipe.exec()) ?? [];
    batch.forEach((k, i) => {
      const bytes = Number(sizes[i]?.[1] ?? 0);
      const c = classOf(k, tag);
      out.byClass[c] = (out.byClass[c] ?? 0) + bytes;
      out.total += bytes;
      if (c === "audit") out.audit += bytes;
      out.keys += 1;
    });
  } while (cursor !== "0");
  return out;
}

export interface QueueMetric {
  waiting: number;
  active: number;
  /** clawgate_queue_oldest_waiting_seconds */
  oldest: number;
}

/** Each queue's lag as serve's /metrics shows it. */
export async function queueMetrics(serveUrl: string): Promise<Record<string, QueueMetric>> {
  const text = await (await fetch(`${serveUrl}/metrics`)).text();
  const out: Record<string, QueueMetric> = {};
  for (const line of text.split("\n")) {
    const m = /^clawgate_queue_(waiting|active|oldest_waiting_seconds)\{queue="([^"]+)"\} (\S+)$/.exec(line);
    if (!m) continue;
    const q = (out[m[2] as string] ??= { waiting: 0, active: 0, oldest: 0 });
    const v = Number(m[3]);
    if (m[1] === "waiting") q.waiting = v;
    else if (m[1] === "active") q.active = v;
    else q.oldest = v;
  }
  return out;
}
