import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A prefix no other test (or test run) shares, so suites can run in parallel on one Redis. */
export function uniquePrefix(): string {
  return `test-audit-${randomUUID()}`;
}

export function connect(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
}

/** Deletes every key under `{prefix}`; `{` and `}` are not glob characters, so MATCH takes them as is. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

/**
 * Rewrites the stream with the same ids, letting `edit` change any entry's fields. This is the
 * attacker with Redis write access: entries cannot be edited in place, but the stream can be
 * dropped and rebuilt (explicit ids are accepted again on a fresh stream).
 */
export async function rewriteStream(
  redis: Redis,
  stream: string,
  edit: (seq: number, fields: Record<string, string>) => Record<string, string> | null,
): Promise<void> {
  const entries = await redis.xrange(stream, "-", "+");
  await redis.del(stream);
  for (const [id, flat] of entries) {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    const edited = edit(Number(fields.seq), fields);
    if (edited === null) continue;
    await redis.xadd(stream, id, ...Object.entries(edited).flat());
  }
}
