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
  /** BullMQ limiter for this channel's queues, e.g. Slack's ~1 message/s per channel. */
  readonly rateLimit?: { max: number; duration: number };
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
  /** What is wrong with this channel right now, for /readyz and the log (null or absent = nothing). */
  problem?(): string | null;
}

/**
 * Thrown by a channel when its provider says "slow down" (e.g. Slack 429 Retry-After): the
 * worker pauses that channel's queue for `retryAfterMs` and retries the job without using up
 * an attempt, while other channels carry on.
 */
export class ChannelRateLimitedError extends Error {
  constructor(
    readonly retryAfterMs: number,
    message = `rate limited for ${retryAfterMs} ms`,
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
