import { UnrecoverableError } from "bullmq";
import { ErrorCode } from "@slack/web-api";
import { ChannelRateLimitedError } from "../../src/channel/adapter.ts";

/** Slack errors a retry can fix; every other platform error (bad token, unknown channel…) is final. */
const TRANSIENT = new Set(["ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"]);

/**
 * Maps @slack/web-api errors onto the queue's retry rules: 429 → hold back the bucket the call
 * drew from (a conversation's posts, the workspace's edits) for Retry-After; HTTP 5xx and network errors → retry with backoff; configuration errors → fail
 * the job for inspection (retrying cannot fix a revoked token).
 */
export async function slackCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; message: string };
    if (e.code === ErrorCode.RateLimitedError) throw new ChannelRateLimitedError(Math.max(1, e.retryAfter ?? 1) * 1000, e.message);
    if (e.code === ErrorCode.PlatformError && !TRANSIENT.has(e.data?.error ?? "")) throw new UnrecoverableError(`Slack refused: ${e.data?.error ?? e.message}`);
    throw err;
  }
}
