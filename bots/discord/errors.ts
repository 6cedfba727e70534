import { UnrecoverableError } from "bullmq";
import { DiscordAPIError, HTTPError, RateLimitError } from "discord.js";
import { ChannelRateLimitedError } from "../../src/channel/adapter.ts";

/**
 * Maps @discordjs/rest errors onto the queue's retry rules: 429 → hold back the route's bucket
 * (every Discord call, for the global limit) for retry_after; 5xx and network errors → retry with backoff; other 4xx (bad token, missing
 * access, unknown channel) → fail the job for inspection: retrying cannot fix them.
 * The REST client itself neither waits out 429s nor retries (rejectOnRateLimit, retries: 0).
 */
export async function discordCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // A route's bucket holds back that conversation; the global limit holds back every call.
    if (err instanceof RateLimitError) throw new ChannelRateLimitedError(Math.max(1, err.retryAfter, err.sublimitTimeout || 0), `Discord rate limit on ${err.route}`, err.global ? "channel" : "call");
    if (err instanceof DiscordAPIError && err.status >= 400 && err.status < 500 && err.status !== 408) {
      // The cause stays attached: callers fall back on some codes (unknown channel → a user's DM).
      throw Object.assign(new UnrecoverableError(`Discord refused (${err.status} ${err.code}): ${err.message}`), { cause: err });
    }
    if (err instanceof HTTPError && err.status >= 400 && err.status < 500 && err.status !== 408) throw new UnrecoverableError(`Discord refused (${err.status}): ${err.message}`);
    throw err;
  }
}
