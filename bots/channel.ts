import type { z } from "zod";
import type { Recipient } from "../src/approvals/events.ts";
import type { ApprovalRecord } from "../src/approvals/record.ts";
import type { InboundDecisions } from "../src/inbound/decisions.ts";
import type { Router } from "../src/server/http.ts";
import type { ClawgateConfig } from "../src/config/schema.ts";
import type { Logger } from "../src/log.ts";
import type { NotifyKind } from "../queue/jobs.ts";

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
 * Written into the refs hash before a post, and given to the channel: a retry after a crash
 * between posting and saving the ref uses it to find the message it already posted.
 */
export interface PostMarker {
  refKey: string;
  nonce: string;
  at: number;
}

/**
 * The one interface every channel implements (bolt-js Receiver style): post a message, edit it
 * when the approval is final, and optionally accept callbacks over HTTP.
 * Adding a channel = a folder under bots/ + one line in bots/registry.ts.
 */
export interface ChannelAdapter {
  readonly name: string;
  /** How the provider limits this channel's calls (see ChannelPacing); none = unpaced. */
  readonly pacing?: ChannelPacing;
  /** Shape of this channel's refs; a stored ref that does not match is logged and skipped. */
  readonly refSchema: z.ZodType<MessageRef>;
  /** Post for `recipient`; the message must carry `marker.nonce` where `find` can see it. */
  post(ctx: ApprovalContext, recipient: Recipient, kind: NotifyKind, tier: number, marker: PostMarker): Promise<MessageRef>;
  /** The message an interrupted earlier attempt posted with this marker, if any. */
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
