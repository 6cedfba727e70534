import type { ApprovalRecord } from "../src/approvals/record.ts";
import type { ClawgateConfig } from "../src/config/schema.ts";
import type { Logger } from "../src/log.ts";
import type { NotifyJob } from "../queue/jobs.ts";

/** Everything a channel needs about one approval (Probot-style context object). */
export interface ApprovalContext {
  record: ApprovalRecord;
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
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface ChannelDeps {
  config: ClawgateConfig;
  log: Logger;
  /** Where text channels print (the log channel); defaults to stdout. */
  out?: NodeJS.WritableStream;
}
