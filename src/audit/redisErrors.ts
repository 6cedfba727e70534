import { ClawgateError, isRedisUnavailable, RedisUnavailableError } from "../errors.ts";

/**
 * Maps an ioredis failure to the catalogue. Anything that is not a server reply (refused
 * connection, offline queue disabled, retries exhausted, command timeout) means Redis is
 * unreachable, and so do transient replies; other replies are bugs or foreign data in our keys.
 */
export function fromRedisError(err: unknown, doing: string): ClawgateError {
  if (err instanceof ClawgateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const isReply = err instanceof Error && err.name === "ReplyError";
  if (!isReply || isRedisUnavailable(err)) {
    return new RedisUnavailableError(`Redis unavailable while ${doing}: ${message}`, err);
  }
  return new ClawgateError("internal", `Redis refused ${doing}: ${message}`, undefined, { cause: err });
}
