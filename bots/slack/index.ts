import { App, LogLevel } from "@slack/bolt";
import { WebClient, type WebClientOptions } from "@slack/web-api";
import { z } from "zod";
import type { Recipient } from "../../src/approvals/events.ts";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import type { Router } from "../../src/http/router.ts";
import { CLOCK_SKEW_MS, INTENT_SETTLE_MS } from "../../queue/jobs.ts";
import { outcomeMessage, requestMessage, threadNote } from "../../templates/slack.ts";
import { assertMaySend, type ApprovalContext, type ChannelAdapter, type ChannelDeps, type ChannelPacing, type MessageRef, type NotifyKind, type PostMarker } from "../../src/channel/adapter.ts";
import { SlackApprovers } from "./approvers.ts";
import { slackCall } from "./errors.ts";
import { registerSlackHandlers } from "./handlers.ts";
import { SlackHttpReceiver, SlackSocketReceiver } from "./receivers.ts";

type SlackConfig = NonNullable<ClawgateConfig["slack"]>;

const slackRefSchema = z.object({
  channel: z.string().min(1),
  ts: z.string().min(1),
  /** A reminder or escalation note in the request's thread: never edited. */
  thread: z.boolean().optional(),
});
type SlackRef = z.infer<typeof slackRefSchema>;

/** Message metadata carrying the post's nonce, so a retry can find a post whose ref was lost. */
const EVENT_TYPE = "clawgate_approval";

/** conversations.history / replies page size (Slack recommends at most 200; `limit` goes to 999) and pages read per search. */
const FIND_PAGE_SIZE = 200;
const FIND_MAX_PAGES = 5;

/** A Slack timestamp ("seconds.micros") for a time in ms. */
function slackTs(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  return `${Math.floor(t / 1_000)}.${String(t % 1_000).padStart(3, "0")}000`;
}

interface HistoryMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/**
 * Slack: Block Kit requests with Approve / Always allow / Deny, decisions from button clicks
 * and the `/clawgate` slash command (HTTP at /slack/events, or Socket Mode with
 * slack.appToken), and edits of every posted message once the approval is final.
 */
export class SlackChannel implements ChannelAdapter {
  readonly name = "slack";
  readonly pacing: ChannelPacing = {
    buckets: {
      // chat.postMessage allows about one message a second per conversation. A steady 1/s (rather
      // than a burst then a pause) lets a higher-priority post — another agent's first ask — go
      // next within a second, however many of a noisy agent's posts wait.
      post: { intervalMs: 1_000 },
      // chat.update is a Web API Tier 3 method: 50+ calls a minute per workspace, short bursts allowed.
      edit: { intervalMs: 1_200, burst: 3 },
    },
    post: (recipient) => ({ bucket: "post", key: recipient.target }),
    // Notes in a card's thread are never edited.
    edit: (ref) => ((ref as SlackRef).thread ? null : { bucket: "edit", key: "workspace" }),
  };
  readonly refSchema = slackRefSchema;
  private readonly cfg: SlackConfig;
  private readonly client: WebClient;
  private readonly app: App;
  private readonly http: SlackHttpReceiver | null;
  private readonly socket: SlackSocketReceiver | null;
  private readonly dmChannels = new Map<string, string>();

  constructor(deps: ChannelDeps) {
    this.cfg = deps.config.slack as SlackConfig;
    // The queue does the retrying (with backoff, per-channel pauses on 429), not the client.
    const clientOptions: WebClientOptions = {
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
      ...(this.cfg.apiUrl ? { slackApiUrl: this.cfg.apiUrl } : {}),
    };
    this.client = new WebClient(this.cfg.botToken, clientOptions);
    const log = deps.log.child({ channel: "slack" });
    this.http = this.cfg.appToken ? null : new SlackHttpReceiver({ signingSecret: this.cfg.signingSecret, maxBodyBytes: deps.config.server.maxBodyBytes, log });
    this.socket = this.cfg.appToken ? new SlackSocketReceiver({ appToken: this.cfg.appToken, apiUrl: this.cfg.apiUrl, log }) : null;
    this.app = new App({
      token: this.cfg.botToken,
      receiver: (this.http ?? this.socket) as SlackHttpReceiver | SlackSocketReceiver,
      clientOptions,
      tokenVerificationEnabled: false,
      logLevel: LogLevel.ERROR,
    });
    registerSlackHandlers(this.app, { decisions: deps.decisions, approvers: new SlackApprovers(this.client, this.cfg.approvers, log), log });
  }

  routes(router: Router): void {
    const http = this.http;
    if (http) router.on("POST", "/slack/events", (req, res) => http.handle(req, res));
  }

  async start(): Promise<void> {
    if (this.socket) await this.app.start();
  }

  async stop(): Promise<void> {
    if (this.socket) await this.app.stop();
  }

  /** The request card already posted to this target, for threading reminders and escalation notes. */
  private parent(ctx: ApprovalContext, target: string): SlackRef | undefined {
    return ctx.refs.find((r) => r.target === target && !(r.ref as SlackRef).thread)?.ref as SlackRef | undefined;
  }

  async post(ctx: ApprovalContext, recipient: Recipient, kind: NotifyKind, _tier: number, marker: PostMarker): Promise<MessageRef> {
    const metadata = { event_type: EVENT_TYPE, event_payload: { approval_id: ctx.record.id, nonce: marker.nonce } };
    const parent = kind === "request" ? undefined : this.parent(ctx, recipient.target);
    if (parent) {
      const note = threadNote(ctx.record, kind, recipient.label);
      assertMaySend(marker);
      const res = await slackCall(() => this.client.chat.postMessage({ channel: parent.channel, thread_ts: parent.ts, text: note.text, metadata }));
      return { channel: parent.channel, ts: res.ts as string, thread: true } satisfies SlackRef;
    }
    const channel = await this.conversation(recipient.target);
    const msg = requestMessage(ctx.record);
    assertMaySend(marker);
    const res = await slackCall(() => this.client.chat.postMessage({ channel, text: msg.text, blocks: msg.blocks as never, metadata }));
    return { channel: res.channel as string, ts: res.ts as string } satisfies SlackRef;
  }

  /**
   * Looks for the message posted with this marker, by the nonce in its metadata: the channel's
   * history (a thread's replies for a note) between the intent's time less the clock skew and its
   * settling time plus the skew, newest first, FIND_PAGE_SIZE at a time for at most FIND_MAX_PAGES
   * pages (1,000 messages posted in those two minutes or so: beyond that it is reported missing).
   */
  async find(ctx: ApprovalContext, recipient: Recipient, kind: NotifyKind, _tier: number, marker: PostMarker): Promise<MessageRef | null> {
    const parent = kind === "request" ? undefined : this.parent(ctx, recipient.target);
    const channel = parent?.channel ?? (await this.conversation(recipient.target));
    const window = { oldest: slackTs(marker.at - CLOCK_SKEW_MS), latest: slackTs(marker.at + INTENT_SETTLE_MS + CLOCK_SKEW_MS), inclusive: true, include_all_metadata: true, limit: FIND_PAGE_SIZE };
    let cursor: string | undefined;
    for (let page = 0; page < FIND_MAX_PAGES; page++) {
      const args = { channel, ...window, ...(cursor ? { cursor } : {}) };
      const res = parent ? await slackCall(() => this.client.conversations.replies({ ...args, ts: parent.ts })) : await slackCall(() => this.client.conversations.history(args));
      const hit = ((res.messages ?? []) as HistoryMessage[]).find((m) => m.metadata?.event_type === EVENT_TYPE && m.metadata.event_payload?.nonce === marker.nonce);
      if (hit?.ts) return parent ? ({ channel, ts: hit.ts, thread: true } satisfies SlackRef) : ({ channel, ts: hit.ts } satisfies SlackRef);
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!res.has_more || !cursor) return null;
    }
    ctx.log.warn({ refKey: marker.refKey, pages: FIND_MAX_PAGES }, "message not found within the pages searched; the channel is busier than the search covers");
    return null;
  }

  async update(ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    const r = ref as SlackRef;
    if (r.thread) return;
    const msg = outcomeMessage(ctx.record);
    await slackCall(() => this.client.chat.update({ channel: r.channel, ts: r.ts, text: msg.text, blocks: msg.blocks as never }));
  }

  async retract(_ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    const r = ref as SlackRef;
    await slackCall(() => this.client.chat.delete({ channel: r.channel, ts: r.ts }));
  }

  /** A channel id as is; a user id (U…/W…) → the id of the direct-message conversation with them. */
  private async conversation(target: string): Promise<string> {
    if (!/^[UW][A-Z0-9]+$/.test(target)) return target;
    let dm = this.dmChannels.get(target);
    if (!dm) {
      const res = await slackCall(() => this.client.conversations.open({ users: target }));
      dm = (res.channel?.id ?? target) as string;
      this.dmChannels.set(target, dm);
    }
    return dm;
  }
}
