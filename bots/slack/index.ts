import { App, LogLevel } from "@slack/bolt";
import { WebClient, type WebClientOptions } from "@slack/web-api";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import type { Router } from "../../src/server/http.ts";
import type { NotifyJob } from "../../queue/jobs.ts";
import { outcomeMessage, requestMessage, threadNote } from "../../templates/slack.ts";
import type { ApprovalContext, ChannelAdapter, ChannelDeps, MessageRef } from "../channel.ts";
import { SlackApprovers } from "./approvers.ts";
import { slackCall } from "./errors.ts";
import { registerSlackHandlers } from "./handlers.ts";
import { SlackHttpReceiver, SlackSocketReceiver } from "./receivers.ts";

type SlackConfig = NonNullable<ClawgateConfig["slack"]>;

interface SlackRef extends MessageRef {
  channel: string;
  ts: string;
  /** A reminder or escalation note in the request's thread: never edited. */
  thread?: boolean;
}

/**
 * Slack: Block Kit requests with Approve / Always allow / Deny, decisions from button clicks
 * (HTTP at /slack/events, or Socket Mode with slack.appToken), and edits of every posted
 * message once the approval is final.
 */
export class SlackChannel implements ChannelAdapter {
  readonly name = "slack";
  // chat.postMessage allows about one message a second per channel, with short bursts.
  readonly rateLimit = { max: 10, duration: 10_000 };
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
    registerSlackHandlers(this.app, { service: deps.service, approvers: new SlackApprovers(this.client, this.cfg.approvers, log), log });
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

  async post(ctx: ApprovalContext, kind: NotifyJob["kind"], tier: number): Promise<MessageRef> {
    const parent = ctx.refs["slack:0"] as SlackRef | undefined;
    if (parent && (kind !== "request" || tier > 0)) {
      const note = threadNote(ctx.record, kind);
      const res = await slackCall(() => this.client.chat.postMessage({ channel: parent.channel, thread_ts: parent.ts, text: note.text }));
      return { channel: parent.channel, ts: res.ts as string, thread: true } satisfies SlackRef;
    }
    const channel = await this.target();
    const msg = requestMessage(ctx.record);
    const res = await slackCall(() => this.client.chat.postMessage({ channel, text: msg.text, blocks: msg.blocks as never }));
    return { channel: res.channel as string, ts: res.ts as string } satisfies SlackRef;
  }

  async update(ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    const r = ref as SlackRef;
    if (r.thread) return;
    const msg = outcomeMessage(ctx.record);
    await slackCall(() => this.client.chat.update({ channel: r.channel, ts: r.ts, text: msg.text, blocks: msg.blocks as never }));
  }

  /** slack.channel may be a channel id, or a user id (U…/W…) for a direct message. */
  private async target(): Promise<string> {
    const id = this.cfg.channel;
    if (!/^[UW][A-Z0-9]+$/.test(id)) return id;
    let dm = this.dmChannels.get(id);
    if (!dm) {
      const res = await slackCall(() => this.client.conversations.open({ users: id }));
      dm = (res.channel?.id ?? id) as string;
      this.dmChannels.set(id, dm);
    }
    return dm;
  }
}
