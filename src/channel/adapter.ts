import { UnrecoverableError } from "bullmq";
import type { z } from "zod";
import type { Recipient } from "../approvals/events.ts";
import type { ApprovalRecord } from "../approvals/record.ts";
import type { InboundDecisions } from "../inbound/decisions.ts";
import type { Router } from "../http/router.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";

/** What a message for an approval is: the request itself, a reminder, or an escalation note. */
export const NOTIFY_KINDS = ["request", "reminder", "escalated"] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];

/** Where a posted message lives, so it can be edited later. Channel-specific, JSON-safe. */
export type MessageRef = Record<string, unknown>;

/** One message this channel posted for the approval. */
export interface PostedRef {
  target: string;
  tier: number;
  ref: MessageRef;
}

/** Everything a channel needs about one approval (Probot-style context object). */
export interface ApprovalContext {
  record: ApprovalRecord;
  /** This channel's messages already posted for the approval (validated with its refSchema). */
  refs: PostedRef[];
  config: ClawgateConfig;
  log: Logger;
}

/**
 * Written into the refs hash before a post (the posting intent), and given to the channel: a
 * retry after a crash between posting and saving the ref, or the update job once the approval
 * has ended, uses it to find the message by its nonce.
 */
export interface PostMarker {
  refKey: string;
  nonce: string;
  /** When the intent was written, on Redis's clock (ms). The message, if any, is near this time. */
  at: number;
  /**
   * For a post: the local `performance.now()` after which the create request must not be sent
   * (POST_SEND_BUDGET_MS after the intent was written). Channels call `assertMaySend` right
   * before the request that creates the message.
   */
  sendBy?: number;
}

/** The attempt took too long between writing its intent and posting: it posts nothing and is retried. */
export class PostTooLateError extends Error {
  constructor(readonly refKey: string) {
    super(`post for ${refKey} not sent: too long since its posting intent was written; the retry finds or posts it`);
    this.name = "PostTooLateError";
  }
}

/**
 * What a failed create request may have left in the channel, judged from the error:
 * - `none`: nothing, now or later — never sent (PostTooLateError, connection refused, host not
 *   found) or refused by the provider (rate limited, a 4xx or platform error, an SMTP 4xx/5xx);
 * - `now`: the provider's server answered with an error (HTTP 500, 503): whatever it created
 *   exists by now, so one search tells;
 * - `later`: no answer (a reset connection, a timeout) or a gateway's (502, 504): the provider may
 *   still be working on it, so only a search after the intent has settled tells.
 */
export function failedPostLeft(err: unknown): "none" | "now" | "later" {
  if (err instanceof PostTooLateError || err instanceof ChannelRateLimitedError || err instanceof UnrecoverableError) return "none";
  const e = err as { statusCode?: unknown; status?: unknown; responseCode?: unknown };
  const status = [e.statusCode, e.status, e.responseCode].find((v): v is number => typeof v === "number");
  if (status !== undefined) return status >= 400 && status < 500 ? "none" : status === 500 || status === 503 ? "now" : "later";
  // Clients wrap network errors (WebClient's `original`, fetch's `cause`): the system code is inside.
  for (let at: unknown = err, depth = 0; at && typeof at === "object" && depth < 5; depth++) {
    const c = (at as { code?: unknown }).code;
    if (c === "ECONNREFUSED" || c === "ENOTFOUND" || c === "EAI_AGAIN") return "none";
    at = (at as { original?: unknown; cause?: unknown }).original ?? (at as { cause?: unknown }).cause;
  }
  return "later";
}

/** Throws PostTooLateError once the marker's send budget is spent (see PostMarker.sendBy). */
export function assertMaySend(marker: PostMarker): void {
  if (marker.sendBy !== undefined && performance.now() > marker.sendBy) throw new PostTooLateError(marker.refKey);
}

/**
 * The one interface every channel implements (bolt-js Receiver style): post a message, edit it
 * when the approval is final, and optionally accept callbacks over HTTP.
 * Adding a channel = a folder under bots/ (spec.ts + index.ts, see bots/spec.ts) + one line in bots/specs.ts.
 */
export interface ChannelAdapter {
  readonly name: string;
  /** How the provider limits this channel's calls (see ChannelPacing); none = unpaced. */
  readonly pacing?: ChannelPacing;
  /** Shape of this channel's refs; a stored ref that does not match is logged and skipped. */
  readonly refSchema: z.ZodType<MessageRef>;
  /** Post for `recipient`; the message must carry `marker.nonce` where `find` can see it. */
  post(ctx: ApprovalContext, recipient: Recipient, kind: NotifyKind, tier: number, marker: PostMarker): Promise<MessageRef>;
  /**
   * The message posted with this marker, if any: searched by its nonce among the messages posted
   * between `marker.at - CLOCK_SKEW_MS` and `marker.at + INTENT_SETTLE_MS + CLOCK_SKEW_MS`
   * (queue/jobs.ts), through a bounded number of pages the channel documents. Returns the same
   * ref `post` returned for it. Once the approval has ended the update job calls it with
   * `{ channel, target }` only (it knows the ref key, not the notify job's recipient).
   */
  find?(ctx: ApprovalContext, recipient: Recipient, kind: NotifyKind, tier: number, marker: PostMarker): Promise<MessageRef | null>;
  /** Edit a message posted earlier to show the final outcome (and drop its buttons). */
  update(ctx: ApprovalContext, ref: MessageRef): Promise<void>;
  /**
   * Take back a message that turned out to be a second copy (two attempts of one post ran at
   * once). Without it, the copy stays and is edited with the others when the approval is final.
   */
  retract?(ctx: ApprovalContext, ref: MessageRef): Promise<void>;
  /** HTTP callback routes (button clicks, replies) on the service's own port. */
  routes?(router: Router): void;
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** What is wrong with this channel right now, for /readyz and the log (null or absent = nothing). */
  problem?(): string | null;
}

/** A provider's pace for one kind of call: `burst` calls at once, then one every `intervalMs`. */
export interface CallPace {
  intervalMs: number;
  burst?: number;
}

/** The rate bucket one call draws from, and its key within the bucket (a conversation, a workspace). */
export interface PaceSlot {
  bucket: string;
  key: string;
}

/**
 * A channel's provider rate limits, applied per real API call (queue/pacer.ts): named buckets,
 * and which bucket and key a post or an edit draws from. Posts and edits may share a bucket
 * (PagerDuty's per routing key) or not (Slack's chat.postMessage per conversation and
 * chat.update per workspace).
 */
export interface ChannelPacing {
  readonly buckets: Readonly<Record<string, CallPace>>;
  /** A post (request card, reminder or escalation note in its thread) to `recipient`. */
  post(recipient: Recipient): PaceSlot;
  /** Editing `ref` once the approval is final; null when that makes no provider call (a thread note). */
  edit(ref: MessageRef): PaceSlot | null;
}

/**
 * Thrown by a channel when its provider says "slow down" (e.g. Slack 429 Retry-After): the
 * worker holds back the bucket the call drew from (`scope: "channel"`: every call of the
 * channel, e.g. Discord's global limit) for `retryAfterMs`, and retries the job then without
 * using up an attempt, while other conversations and channels carry on.
 */
export class ChannelRateLimitedError extends Error {
  constructor(
    readonly retryAfterMs: number,
    message = `rate limited for ${retryAfterMs} ms`,
    readonly scope: "call" | "channel" = "call",
  ) {
    super(message);
    this.name = "ChannelRateLimitedError";
  }
}

export interface ChannelDeps {
  config: ClawgateConfig;
  log: Logger;
  /** Decisions arriving through this channel's callbacks and commands go here. */
  decisions: InboundDecisions;
  /** Where text channels print (the log channel); defaults to stdout. */
  out?: NodeJS.WritableStream;
  /** DNS lookups for mail authentication (DKIM/SPF/DMARC); tests pass a local stand-in. */
  dnsResolver?: (name: string, rrtype: string) => Promise<string[][] | string[]>;
}
