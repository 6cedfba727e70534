import { verifySlackRequest } from "@slack/bolt";
import { RequestStaleError, SignatureInvalidError } from "../../src/errors.ts";

/** Slack allows five minutes of clock skew; older requests are replays, newer ones forged. */
const MAX_SKEW_SECONDS = 5 * 60;

/**
 * Verifies a request to /slack/events. Bolt checks the HMAC and rejects stale timestamps; it
 * accepts timestamps in the future, which would let a captured-and-shifted request live on, so
 * those are refused here. Pure, with an injectable clock, so tests can sign, tamper and age.
 */
export function verifySlackSignature(opts: {
  signingSecret: string;
  rawBody: string;
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs?: number;
}): void {
  const nowMs = opts.nowMs ?? Date.now();
  const ts = Number(opts.timestamp);
  if (!opts.signature || !opts.timestamp || !Number.isInteger(ts)) throw new SignatureInvalidError("missing or malformed Slack signature headers");
  if (ts > Math.floor(nowMs / 1000) + MAX_SKEW_SECONDS) throw new RequestStaleError("Slack request timestamp is in the future");
  if (ts < Math.floor(nowMs / 1000) - MAX_SKEW_SECONDS) throw new RequestStaleError("Slack request timestamp is too old");
  try {
    verifySlackRequest({
      signingSecret: opts.signingSecret,
      body: opts.rawBody,
      headers: { "x-slack-signature": opts.signature, "x-slack-request-timestamp": ts },
      nowMilliseconds: nowMs,
    });
  } catch (err) {
    throw new SignatureInvalidError(`Slack signature check failed: ${(err as Error).message}`);
  }
}
