import { ConfigInvalidError } from "../errors.ts";

export interface AuditKeys {
  /** Stream of chained entries; stream ids are `0-<seq>` so a seq maps straight to an id. */
  readonly stream: string;
  /** Hash `{ seq, hash }` of the newest entry, updated in the same script as the stream. */
  readonly head: string;
  /** Sorted set dedupe key → seq of the entry it appended, trimmed to the dedupe window. */
  readonly dedupe: string;
}

/**
 * The `{prefix}` hash tag puts every audit key in one Redis Cluster slot, which is what lets
 * one Lua script touch the stream and its head atomically.
 */
export function auditKeys(prefix: string): AuditKeys {
  if (prefix === "" || /[{}]/.test(prefix)) {
    throw new ConfigInvalidError(`redis.prefix must be non-empty and contain no "{" or "}" (got "${prefix}")`, {
      path: "redis.prefix",
    });
  }
  const tag = `{${prefix}}`;
  return { stream: `${tag}:audit`, head: `${tag}:audit:head`, dedupe: `${tag}:audit:dedupe` };
}
