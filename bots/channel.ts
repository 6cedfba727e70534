import type { ApprovalRecord } from "../src/approvals/record.ts";
import type { ApprovalService } from "../src/approvals/service.ts";
import type { Router } from "../src/server/http.ts";
import type { ClawgateConfig } from "../src/config/schema.ts";
import type { Logger } from "../src/log.ts";
import type { NotifyJob } from "../queue/jobs.ts";

/** Everything a channel needs about one approval (Probot-style context object). */
export interface ApprovalContext {
  record: ApprovalRecord;
  /** Messages already posted for this approval, keyed "channel:tier" (e.g. to thread a reminder). */
  refs: Record<string, MessageRef>;
  config: ClawgateConfig;
  log: Logger;
}

/** Where a posted message lives, so it can be edited later. Channel-specific, JSON-safe. */
export type MessageRef = Record<string, unknown>;

/**
 * The one interface every channel implements (bolt-js Receiver style): post a message,
 * edit it when the approval is final, and optionally accept callbacks over HTTP.
 * Adding a channel = a folder under bots/ + one line in bots/registry.ts.
 */
export interface ChannelAdapter {
  readonly name: string;
  /** BullMQ limiter for this channel's queues, e.g. Slack's ~1 message/s per channel. */
  readonly rateLimit?: { max: number; duration: number };
  post(ctx: ApprovalContext, kind: NotifyJob["kind"], tier: number): Promise<MessageRef>;
  /** Edit a message posted earlier to show the final outcome (and drop its buttons). */
  update(ctx: ApprovalContext, ref: MessageRef): Promise<void>;
  /** HTTP callback routes (button clicks, replies) on the service's own port. */
  routes?(router: Router): void;
  start?(): Promise<void>;
  stop?(): Promise<void>;
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
  /** Decisions arriving through this channel's callbacks go here. */
  service: ApprovalService;
  /** Where text channels print (the log channel); defaults to stdout. */
  out?: NodeJS.WritableStream;
}
