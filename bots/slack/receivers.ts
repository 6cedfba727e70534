import type { IncomingMessage, ServerResponse } from "node:http";
import type { App, Receiver, ReceiverEvent } from "@slack/bolt";
import { SocketModeClient } from "@slack/socket-mode";
import { BadRequestError } from "../../src/errors.ts";
import type { Logger } from "../../src/log.ts";
import { readBody, sendJson } from "../../src/http/router.ts";
import { verifySlackSignature } from "./verify.ts";

/** Slack must get its ack within 3 s; listeners ack first and work after. */
const ACK_DEADLINE_MS = 2_500;

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  try {
    if ((contentType ?? "").includes("application/json")) return JSON.parse(raw) as Record<string, unknown>;
    const form = Object.fromEntries(new URLSearchParams(raw));
    // Interactivity posts `payload=<json>`; slash commands post plain form fields.
    return typeof form.payload === "string" ? (JSON.parse(form.payload) as Record<string, unknown>) : form;
  } catch {
    throw new BadRequestError("Slack request body is not valid JSON or form data");
  }
}

/**
 * Bolt receiver for HTTP mode on clawgate's own port (`POST /slack/events`): verify, parse,
 * hand the event to Bolt, answer with whatever the listener acked.
 */
export class SlackHttpReceiver implements Receiver {
  private app: App | undefined;

  constructor(private readonly opts: { signingSecret: string; maxBodyBytes: number; log: Logger }) {}

  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (await readBody(req, this.opts.maxBodyBytes)).toString("utf8");
    verifySlackSignature({
      signingSecret: this.opts.signingSecret,
      rawBody: raw,
      signature: header(req, "x-slack-signature"),
      timestamp: header(req, "x-slack-request-timestamp"),
    });
    const body = parseBody(raw, header(req, "content-type"));
    if (body.type === "url_verification") return sendJson(res, 200, { challenge: body.challenge });
    if (!this.app) throw new Error("Slack receiver used before Bolt initialised it");

    let acked: (response: unknown) => void = () => undefined;
    const ackPromise = new Promise<unknown>((resolve) => (acked = resolve));
    let ackCalled = false;
    const event: ReceiverEvent = {
      body,
      retryNum: Number(header(req, "x-slack-retry-num") ?? 0) || undefined,
      retryReason: header(req, "x-slack-retry-reason"),
      ack: async (response?: unknown) => {
        if (ackCalled) return;
        ackCalled = true;
        acked(response);
      },
    };
    const processing = this.app.processEvent(event).catch((err: unknown) => {
      this.opts.log.error({ err: (err as Error).message }, "Slack listener failed");
      if (!ackCalled) throw err;
    });
    const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ACK_DEADLINE_MS).unref());
    const response = await Promise.race([ackPromise, processing.then(() => (ackCalled ? ackPromise : undefined)), timeout]);
    if (response === "timeout") this.opts.log.warn({ type: body.type }, "Slack listener did not ack in time");
    if (response && typeof response === "object") return sendJson(res, 200, response);
    res.writeHead(200, typeof response === "string" ? { "content-type": "text/plain; charset=utf-8" } : {});
    res.end(typeof response === "string" ? response : "");
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Bolt receiver for Socket Mode (teams without a public URL), on @slack/socket-mode directly.
 * It gets a WebClient options object of its own: SocketModeClient writes its own retry
 * settings into the object it is given, which must not leak into the client that posts
 * messages (there the queue does the retrying).
 */
export class SlackSocketReceiver implements Receiver {
  private app: App | undefined;
  readonly client: SocketModeClient;

  constructor(opts: { appToken: string; apiUrl: string | undefined; log: Logger }) {
    this.client = new SocketModeClient({ appToken: opts.appToken, ...(opts.apiUrl ? { clientOptions: { slackApiUrl: opts.apiUrl } } : {}) });
    this.client.on("slack_event", async ({ ack, body, retry_num, retry_reason }: { ack: (r?: unknown) => Promise<void>; body: Record<string, unknown>; retry_num?: number; retry_reason?: string }) => {
      if (!this.app) return;
      await this.app
        .processEvent({ body, ack: async (response?: unknown) => ack(response), retryNum: retry_num, retryReason: retry_reason })
        .catch((err: unknown) => opts.log.error({ err: (err as Error).message }, "Slack listener failed"));
    });
  }

  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {
    await this.client.start();
  }
  async stop(): Promise<void> {
    await this.client.disconnect();
  }
}
