import { Redis } from "ioredis";

import { uniquePrefix as tagged } from "../helpers/redis.ts";

export { connect, deleteKeys, REDIS_URL } from "../helpers/redis.ts";

/** A prefix no other test (or test run) shares, so suites can run in parallel on one Redis. */
export function uniquePrefix(): string {
  return tagged("audit");
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
    const edited = edit(Number(id.split("-")[1]), fields);
    if (edited === null) continue;
    await redis.xadd(stream, id, ...Object.entries(edited).flat());
  }
}
