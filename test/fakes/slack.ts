import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { SlackPace, type FakeSlackPace } from "./slack-pace.ts";
import { FAKE_APP_ID, FAKE_BOT_ID, FAKE_BOT_USER_ID, FAKE_TEAM_DOMAIN, FAKE_TEAM_ID } from "./slack-signing.ts";

export type { FakeSlackPace };

/**
 * A local, faithful fake of the Slack platform for tests, on 127.0.0.1:
 *
 * - Web API at `apiUrl` (`http://127.0.0.1:P/api/`) — pass it as `slackApiUrl` to
 *   `@slack/web-api`'s WebClient (which POSTs to `${slackApiUrl}${method}`), Bolt's
 *   `clientOptions`, or SocketModeClient's `clientOptions`. Bodies are parsed as Slack does
 *   (form-urlencoded with JSON-encoded nested fields, JSON, multipart, or a GET query);
 *   the token comes from `Authorization: Bearer …` or a form/query `token` field.
 * - `response_url`s at `responseUrl(id)`, recording what Bolt's `respond()` posts.
 * - Socket Mode: `apps.connections.open` hands out `ws://127.0.0.1:P/socket?ticket=…`; the
 *   WebSocket endpoint sends `hello`, delivers envelopes and collects acks. The WebSocket
 *   server is written here on top of node:http (RFC 6455: handshake, masking, fragments,
 *   ping→pong, close handshake) because `ws` is not installed: @slack/socket-mode 3 uses
 *   undici's WebSocket client instead.
 *
 * ## Retries: who does them
 * WebClient retries by itself unless told not to. Defaults (`@slack/web-api` 8.2):
 * `retryConfig = tenRetriesInAboutThirtyMinutes` — HTTP 5xx and network errors are
 * retried up to 10 times over ~30 min — and `rejectRateLimitedCalls = false` — on a 429
 * the client pauses its whole request queue for `Retry-After` seconds and then retries.
 * For a job queue to own retrying, build the client with BOTH
 *
 *     new WebClient(token, { slackApiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true })
 *
 * Then a 429 rejects at once with `WebAPIRateLimitedError` (`code:
 * "slack_webapi_rate_limited_error"`, `retryAfter` in seconds), and a 5xx rejects with
 * `WebAPIHTTPError` (`code: "slack_webapi_http_error"`, `statusCode`, `body`). With
 * `retries: 0` alone, a 429 still pauses that client's whole request queue for
 * `Retry-After` seconds and then rejects with `WebAPIRequestError` (`code:
 * "slack_webapi_request_error"`, the code of a refused connection) and no `retryAfter`.
 * `{ ok: false, error }` answers are never retried: `WebAPIPlatformError` with `data.error`.
 *
 * Note: a SocketModeClient given `clientOptions` without `retryConfig` writes
 * `{ retries: 100, factor: 1.3 }` into that very object (for apps.connections.open); Bolt
 * passes its App `clientOptions` object through, so set `retryConfig` explicitly there.
 *
 * Teardown: stop Socket Mode clients (`disconnect()` / `app.stop()`) before `close()`, or
 * their auto-reconnect will keep calling a closed port.
 */

// ---------------------------------------------------------------- types

export interface FakeSlackOptions {
  /** Bot token every Web API method but apps.connections.open requires. Default "xoxb-fake-bot-token". */
  botToken?: string;
  /** App-level token for apps.connections.open. Default "xapp-1-fake-app-token". */
  appToken?: string;
  /** Known users for users.info (the bot user is always known). */
  users?: Record<string, FakeSlackUser>;
  /**
   * Channels conversations.info knows. As on Slack, a private channel the bot is not in
   * answers `channel_not_found`, and a public one answers with `is_member: false`.
   */
  channels?: Record<string, FakeSlackChannel>;
  /** usergroup id -> member user ids, for usergroups.users.list. */
  userGroups?: Record<string, string[]>;
  /**
   * Slack's rate limits (test/fakes/slack-pace.ts), answered with 429 and Retry-After. Default:
   * chat.postMessage at one a second per conversation after a burst of 3. `false`: no limits.
   */
  pace?: FakeSlackPace | false;
}

export interface FakeSlackUser {
  name: string;
  real_name?: string;
  tz?: string;
  is_bot?: boolean;
  /** A deactivated account: users.info still answers, with `deleted: true`. */
  deleted?: boolean;
}

export interface FakeSlackChannel {
  name: string;
  is_private?: boolean;
  /** Whether the bot user is in the channel (default false). */
  is_member?: boolean;
  is_archived?: boolean;
}

export interface FakeSlackCall {
  method: string;
  /** Parsed arguments, `token` removed; `blocks`/`view`/`attachments`/`metadata` JSON strings decoded. */
  args: Record<string, unknown>;
  token: string | null;
  /** Date.now() when the response was decided. */
  at: number;
  /** HTTP status the fake answered with. */
  status: number;
  /** `error` of an `{ ok: false }` answer (or "ratelimited"/"http_<status>" for injected faults). */
  error?: string;
  /** Set when an `answerAfterMs` fault held the answer back: the call took effect at `at`, the answer was due this much later. */
  answerHeldMs?: number;
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  /** Current text (chat.update without `text` keeps the old one, as Slack does). */
  text: string;
  /** Current blocks, with Slack-generated `block_id`s added where the caller sent none. */
  blocks: Array<Record<string, unknown>>;
  attachments?: unknown[];
  thread_ts?: string;
  /** `metadata` given to chat.postMessage ({ event_type, event_payload }). */
  metadata?: Record<string, unknown>;
  /** A person's message (see `postAsUser`); unset for the bot's own. */
  user?: string;
  /** Number of successful chat.update / response_url replace_original calls. */
  updates: number;
  /** Earlier renderings, oldest first. */
  history: Array<{ text: string; blocks: Array<Record<string, unknown>>; at: number }>;
}

export interface FakeSlackEphemeral {
  channel: string;
  user: string;
  message_ts: string;
  text: string;
  blocks: Array<Record<string, unknown>>;
  thread_ts?: string;
}

export interface FakeSlackResponse {
  id: string;
  body: Record<string, unknown>;
  at: number;
}

/**
 * Fault for `failNext`: HTTP 429 with Retry-After; a 5xx from Slack's edge; an HTTP 200
 * `{ok:false,error}`; a delay before normal service (`hangMs`); or `answerAfterMs`: the call
 * takes effect at once (a posted message exists) but its answer is held back this long, as when
 * a request reached Slack and the caller died or timed out before the response came back
 * (Web API methods only).
 */
export type FakeSlackFault = { status: 429; retryAfter: number } | { status: 500 | 502 | 503 } | { error: string } | { hangMs: number } | { answerAfterMs: number };

export type EnvelopeType = "interactive" | "slash_commands" | "events_api";

export interface FakeSlack {
  /** `http://127.0.0.1:P` */
  readonly url: string;
  /** `http://127.0.0.1:P/api/` — WebClient's `slackApiUrl`. */
  readonly apiUrl: string;
  readonly port: number;
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;

  /** Every Web API call, in arrival order (faulted and refused ones included). */
  readonly calls: FakeSlackCall[];
  callsTo(method: string): FakeSlackCall[];
  /** First call (past or future) of `method` matching `predicate`; rejects after `timeoutMs` listing the calls seen. */
  waitFor(method: string, predicate?: (call: FakeSlackCall) => boolean, timeoutMs?: number): Promise<FakeSlackCall>;

  /** Posted messages by `${channel}:${ts}`, with their current rendering. */
  readonly messages: Map<string, FakeSlackMessage>;
  message(channel: string, ts: string): FakeSlackMessage | undefined;
  readonly ephemerals: FakeSlackEphemeral[];
  /** Open modals by view id (as returned by views.open / views.update). */
  readonly views: Map<string, Record<string, unknown>>;

  /** A person's message in `channel` (a thread reply with `threadTs`), as if they typed it: no Web API call is recorded. */
  postAsUser(channel: string, user: string, text: string, threadTs?: string): FakeSlackMessage;

  /** The next `responses.length` calls of `method` (or "response_url") get these answers, in order. */
  failNext(method: string, responses: FakeSlackFault[]): void;
  /** Ends every `hangMs` / `answerAfterMs` hold now (held calls proceed); returns how many there were. */
  releaseHeld(): number;

  /**
   * A response_url for interaction `id`. When `original` names a posted message, a body with
   * `replace_original: true` re-renders it and `delete_original: true` deletes it, as Slack does.
   */
  responseUrl(id: string, original?: { channel: string; ts: string }): string;
  readonly responses: FakeSlackResponse[];
  waitForResponse(id?: string, predicate?: (r: FakeSlackResponse) => boolean, timeoutMs?: number): Promise<FakeSlackResponse>;

  /** Resolves when a Socket Mode client is connected (now, or within `timeoutMs`). */
  socketConnected(timeoutMs?: number): Promise<void>;
  /** Open Socket Mode connections. */
  readonly socketCount: number;
  /** Sends an envelope to the newest connection; resolves with its ack, rejects after `ackTimeoutMs` (5 s) without one. */
  sendEnvelope(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    opts?: { acceptsResponsePayload?: boolean; retryAttempt?: number; retryReason?: string; ackTimeoutMs?: number },
  ): Promise<{ envelope_id: string; ack: Record<string, unknown> }>;
  /** Sends `{type:"disconnect", reason}` to every connection (Slack does this before recycling a host). */
  sendSocketDisconnect(reason?: "warning" | "refresh_requested" | "link_disabled"): void;
  /** Every text frame received from Socket Mode clients, parsed. */
  readonly socketMessages: Array<Record<string, unknown>>;

  close(): Promise<void>;
}

// ---------------------------------------------------------------- helpers

const JSON_FIELDS = ["blocks", "view", "attachments", "metadata"];

type Result = Record<string, unknown> & { ok: boolean };
const fail = (error: string, extra: Record<string, unknown> = {}): Result => ({ ok: false, error, ...extra });

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

async function parseArgs(req: IncomingMessage, raw: Buffer, query: URLSearchParams): Promise<{ args: Record<string, unknown>; bodyToken: string | null } | { invalid: string }> {
  const ct = (req.headers["content-type"] ?? "").toLowerCase();
  let args: Record<string, unknown> = Object.fromEntries(query);
  let tokenAllowedInBody = true;
  if (raw.length > 0) {
    if (ct.startsWith("application/json")) {
      try {
        const parsed: unknown = JSON.parse(raw.toString("utf8"));
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return { invalid: "invalid_json" };
        args = { ...args, ...(parsed as Record<string, unknown>) };
      } catch {
        return { invalid: "invalid_json" };
      }
      // Slack ignores a token in a JSON body: JSON callers must send the Authorization header.
      tokenAllowedInBody = false;
    } else if (ct.startsWith("multipart/form-data")) {
      const form = await new Response(new Uint8Array(raw), { headers: { "content-type": ct } }).formData();
      for (const [k, v] of form) args[k] = typeof v === "string" ? v : { filename: v.name, size: v.size };
    } else {
      args = { ...args, ...Object.fromEntries(new URLSearchParams(raw.toString("utf8"))) };
    }
  }
  for (const key of JSON_FIELDS) {
    const v = args[key];
    if (typeof v === "string" && v.length > 0) {
      try {
        args[key] = JSON.parse(v) as unknown;
      } catch {
        // Left as the string; handlers report the malformed field as Slack would.
      }
    }
  }
  let bodyToken: string | null = null;
  if (typeof args.token === "string") {
    if (tokenAllowedInBody) bodyToken = args.token;
    delete args.token;
  }
  return { args, bodyToken };
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : typeof v === "number" ? String(v) : undefined;
}

/** A ts's digits as one integer ("1717171717.123456" → 1717171717123456n), for cursors. */
function tsDigits(ts: string): bigint {
  return BigInt(ts.replace(".", ""));
}

function randomBlockId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(5), (b) => alphabet[b % alphabet.length]).join("");
}

/**
 * The subset of Block Kit validation that a message-rendering bug is likely to trip: Slack
 * rejects the whole call with `invalid_blocks` and JSON-pointer messages, as here.
 */
function validateBlocks(blocks: unknown, max: number, path = "/blocks"): string[] {
  if (!Array.isArray(blocks)) return [`must provide an array [json-pointer:${path}]`];
  const errors: string[] = [];
  if (blocks.length > max) errors.push(`must be less than ${max + 1} items [json-pointer:${path}]`);
  const blockIds = new Set<string>();
  const textObj = (t: unknown, p: string, maxLen: number, plainOnly = false) => {
    const o = t as { type?: unknown; text?: unknown } | null;
    if (!o || typeof o !== "object") return void errors.push(`must provide an object [json-pointer:${p}]`);
    if (o.type !== "plain_text" && (plainOnly || o.type !== "mrkdwn")) errors.push(`must be a valid enum value [json-pointer:${p}/type]`);
    if (typeof o.text !== "string" || o.text.length === 0) errors.push(`must be more than 0 characters [json-pointer:${p}/text]`);
    else if (o.text.length > maxLen) errors.push(`must be less than ${maxLen + 1} characters [json-pointer:${p}/text]`);
  };
  const element = (el: unknown, p: string, actionIds: Set<string>) => {
    const e = el as Record<string, unknown> | null;
    if (!e || typeof e !== "object" || typeof e.type !== "string") return void errors.push(`must provide an object with a type [json-pointer:${p}]`);
    if (typeof e.action_id === "string") {
      if (e.action_id.length > 255) errors.push(`must be less than 256 characters [json-pointer:${p}/action_id]`);
      if (actionIds.has(e.action_id)) errors.push(`action_id already exists [json-pointer:${p}/action_id]`);
      actionIds.add(e.action_id);
    }
    if (e.type === "button") {
      textObj(e.text, `${p}/text`, 75, true);
      if (typeof e.value === "string" && e.value.length > 2000) errors.push(`must be less than 2001 characters [json-pointer:${p}/value]`);
      if (e.style !== undefined && e.style !== "primary" && e.style !== "danger") errors.push(`must be a valid enum value [json-pointer:${p}/style]`);
    }
  };
  blocks.forEach((raw, i) => {
    const p = `${path}/${i}`;
    const b = raw as Record<string, unknown> | null;
    if (!b || typeof b !== "object" || typeof b.type !== "string") return void errors.push(`must provide an object with a type [json-pointer:${p}]`);
    if (typeof b.block_id === "string") {
      if (b.block_id.length > 255) errors.push(`must be less than 256 characters [json-pointer:${p}/block_id]`);
      if (blockIds.has(b.block_id)) errors.push(`block_id already exists [json-pointer:${p}/block_id]`);
      blockIds.add(b.block_id);
    }
    const actionIds = new Set<string>();
    switch (b.type) {
      case "section":
        if (b.text === undefined && b.fields === undefined) errors.push(`must contain either "text" or "fields" [json-pointer:${p}]`);
        if (b.text !== undefined) textObj(b.text, `${p}/text`, 3000);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10) errors.push(`must be an array of at most 10 items [json-pointer:${p}/fields]`);
          else b.fields.forEach((f, j) => textObj(f, `${p}/fields/${j}`, 2000));
        }
        if (b.accessory !== undefined) element(b.accessory, `${p}/accessory`, actionIds);
        break;
      case "header":
        textObj(b.text, `${p}/text`, 150, true);
        break;
      case "context":
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) errors.push(`must be an array of 1 to 10 items [json-pointer:${p}/elements]`);
        break;
      case "actions":
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) errors.push(`must be an array of 1 to 25 items [json-pointer:${p}/elements]`);
        else b.elements.forEach((el, j) => element(el, `${p}/elements/${j}`, actionIds));
        break;
      case "input":
        textObj(b.label, `${p}/label`, 2000, true);
        if (b.element === undefined) errors.push(`must provide an element [json-pointer:${p}/element]`);
        else element(b.element, `${p}/element`, actionIds);
        break;
      default:
        break;
    }
  });
  return errors;
}

function invalidBlocks(errors: string[]): Result {
  return fail("invalid_blocks", { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
}

/** Slack fills in a block_id for every block sent without one. */
function withBlockIds(blocks: unknown[]): Array<Record<string, unknown>> {
  return (structuredClone(blocks) as Array<Record<string, unknown>>).map((b) => (typeof b.block_id === "string" ? b : { ...b, block_id: randomBlockId() }));
}

// ---------------------------------------------------------------- WebSocket (RFC 6455, server side)

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

class WsConnection {
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private closeSent = false;
  open = true;

  constructor(
    readonly socket: Duplex,
    private readonly onText: (text: string) => void,
    private readonly onClose: () => void,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("close", () => this.markClosed());
    socket.on("error", () => this.markClosed());
  }

  private markClosed(): void {
    if (!this.open) return;
    this.open = false;
    this.onClose();
  }

  onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0] as number;
      const b1 = this.buf[1] as number;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (!masked) return this.fail(1002); // clients must mask every frame
      if (this.buf.length < off + 4 + len) return;
      const mask = this.buf.subarray(off, off + 4);
      const payload = Buffer.from(this.buf.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
      this.buf = this.buf.subarray(off + 4 + len);
      this.onFrame(fin, opcode, payload);
      if (!this.open) return;
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 0x0: // continuation
      case 0x1: // text
      case 0x2: // binary
        if (opcode !== 0) {
          this.fragmentOpcode = opcode;
          this.fragments = [];
        }
        this.fragments.push(payload);
        if (fin) {
          const data = Buffer.concat(this.fragments);
          this.fragments = [];
          if (this.fragmentOpcode === 0x1) this.onText(data.toString("utf8"));
        }
        return;
      case 0x8: // close: echo it, then end the TCP connection (server closes first)
        if (!this.closeSent) this.sendFrame(0x8, payload.subarray(0, 2));
        this.closeSent = true;
        this.socket.end();
        this.markClosed();
        return;
      case 0x9: // ping → pong with the same payload (SocketModeClient pings every 5 s)
        this.sendFrame(0xa, payload);
        return;
      case 0xa: // pong
        return;
      default:
        this.fail(1002);
    }
  }

  sendFrame(opcode: number, payload: Buffer): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    let header: Buffer;
    if (payload.length < 126) header = Buffer.from([0x80 | opcode, payload.length]);
    else if (payload.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 126;
      header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    this.socket.write(Buffer.concat([header, payload]));
  }

  sendText(text: string): void {
    this.sendFrame(0x1, Buffer.from(text, "utf8"));
  }

  close(code = 1000): void {
    if (!this.open) return;
    if (!this.closeSent) {
      const p = Buffer.alloc(2);
      p.writeUInt16BE(code);
      this.sendFrame(0x8, p);
      this.closeSent = true;
    }
  }

  private fail(code: number): void {
    this.close(code);
    this.socket.destroy();
    this.markClosed();
  }

  terminate(): void {
    this.socket.destroy();
    this.markClosed();
  }
}

// ---------------------------------------------------------------- the fake

interface Waiter<T> {
  match: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class FakeSlackServer implements FakeSlack {
  readonly calls: FakeSlackCall[] = [];
  readonly messages = new Map<string, FakeSlackMessage>();
  readonly ephemerals: FakeSlackEphemeral[] = [];
  readonly views = new Map<string, Record<string, unknown>>();
  readonly responses: FakeSlackResponse[] = [];
  readonly socketMessages: Array<Record<string, unknown>> = [];
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId = FAKE_TEAM_ID;
  readonly botUserId = FAKE_BOT_USER_ID;
  readonly botId = FAKE_BOT_ID;
  readonly appId = FAKE_APP_ID;
  port = 0;

  private readonly server: Server;
  private readonly users: Map<string, FakeSlackUser>;
  private readonly channels: Map<string, FakeSlackChannel>;
  private readonly userGroups: Map<string, string[]>;
  private readonly faults = new Map<string, FakeSlackFault[]>();
  private readonly callWaiters = new Set<Waiter<FakeSlackCall>>();
  private readonly responseWaiters = new Set<Waiter<FakeSlackResponse>>();
  private readonly connectWaiters = new Set<{ resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly pendingAcks = new Map<string, { resolve: (ack: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly responseTargets = new Map<string, { channel: string; ts: string }>();
  private readonly dmChannels = new Map<string, string>();
  private readonly tickets = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private readonly hangs = new Map<NodeJS.Timeout, () => void>();
  private ws: WsConnection[] = [];
  private tsCounter = 0;
  private viewCounter = 0;
  private closed = false;
  private inflight = 0;
  private onIdle: (() => void) | null = null;
  private readonly pace: SlackPace | null;

  constructor(opts: FakeSlackOptions) {
    this.pace = opts.pace === false ? null : new SlackPace(opts.pace ?? {});
    this.botToken = opts.botToken ?? "xoxb-fake-bot-token";
    this.appToken = opts.appToken ?? "xapp-1-fake-app-token";
    this.users = new Map(Object.entries(opts.users ?? {}));
    this.users.set(FAKE_BOT_USER_ID, { name: "clawgate", real_name: "clawgate", is_bot: true });
    this.userGroups = new Map(Object.entries(opts.userGroups ?? {}));
    this.channels = new Map(Object.entries(opts.channels ?? {}));
    this.server = createServer((req, res) => {
      this.inflight += 1;
      res.on("close", () => {
        this.inflight -= 1;
        if (this.inflight === 0) this.onIdle?.();
      });
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(err));
      });
    });
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    this.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get apiUrl(): string {
    return `${this.url}/api/`;
  }
  get socketCount(): number {
    return this.ws.filter((c) => c.open).length;
  }

  // ------------------------------------------------------------ public API

  callsTo(method: string): FakeSlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  waitFor(method: string, predicate: (call: FakeSlackCall) => boolean = () => true, timeoutMs = 5000): Promise<FakeSlackCall> {
    const match = (c: FakeSlackCall) => c.method === method && predicate(c);
    const found = this.calls.find(match);
    if (found) return Promise.resolve(found);
    return this.wait(this.callWaiters, match, timeoutMs, () => {
      const seen = this.calls.map((c) => `${c.method}(${c.status}${c.error ? ` ${c.error}` : ""}) ${JSON.stringify(c.args).slice(0, 160)}`);
      return `fake Slack: no ${method} call matched within ${timeoutMs} ms; calls seen (${seen.length}):${seen.length ? `\n  ${seen.join("\n  ")}` : " none"}`;
    });
  }

  message(channel: string, ts: string): FakeSlackMessage | undefined {
    return this.messages.get(`${channel}:${ts}`);
  }

  postAsUser(channel: string, user: string, text: string, threadTs?: string): FakeSlackMessage {
    const ts = this.nextTs();
    const msg: FakeSlackMessage = { channel, ts, text, blocks: [], user, ...(threadTs ? { thread_ts: threadTs } : {}), updates: 0, history: [] };
    this.messages.set(`${channel}:${ts}`, msg);
    return msg;
  }

  failNext(method: string, responses: FakeSlackFault[]): void {
    const q = this.faults.get(method) ?? [];
    q.push(...responses);
    this.faults.set(method, q);
  }

  releaseHeld(): number {
    const held = [...this.hangs.values()];
    for (const release of held) release();
    return held.length;
  }

  responseUrl(id: string, original?: { channel: string; ts: string }): string {
    if (original) this.responseTargets.set(id, original);
    return `${this.url}/response/${encodeURIComponent(id)}`;
  }

  waitForResponse(id?: string, predicate: (r: FakeSlackResponse) => boolean = () => true, timeoutMs = 5000): Promise<FakeSlackResponse> {
    const match = (r: FakeSlackResponse) => (id === undefined || r.id === id) && predicate(r);
    const found = this.responses.find(match);
    if (found) return Promise.resolve(found);
    return this.wait(this.responseWaiters, match, timeoutMs, () => {
      const seen = this.responses.map((r) => `${r.id}: ${JSON.stringify(r.body).slice(0, 160)}`);
      return `fake Slack: no response_url post${id ? ` to "${id}"` : ""} matched within ${timeoutMs} ms; posts seen (${seen.length}):${seen.length ? `\n  ${seen.join("\n  ")}` : " none"}`;
    });
  }

  socketConnected(timeoutMs = 5000): Promise<void> {
    if (this.socketCount > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        resolve: () => {
          clearTimeout(w.timer);
          this.connectWaiters.delete(w);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(w.timer);
          this.connectWaiters.delete(w);
          reject(e);
        },
        timer: setTimeout(() => w.reject(new Error(`fake Slack: no Socket Mode client connected within ${timeoutMs} ms (apps.connections.open calls: ${this.callsTo("apps.connections.open").length})`)), timeoutMs),
      };
      this.connectWaiters.add(w);
    });
  }

  sendEnvelope(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    opts: { acceptsResponsePayload?: boolean; retryAttempt?: number; retryReason?: string; ackTimeoutMs?: number } = {},
  ): Promise<{ envelope_id: string; ack: Record<string, unknown> }> {
    const conn = [...this.ws].reverse().find((c) => c.open);
    if (!conn) return Promise.reject(new Error("fake Slack: sendEnvelope with no Socket Mode client connected (await socketConnected() first)"));
    const envelope_id = randomUUID();
    const timeoutMs = opts.ackTimeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingAcks.delete(envelope_id);
        reject(new Error(`fake Slack: no ack for ${type} envelope ${envelope_id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingAcks.set(envelope_id, { resolve: (ack) => resolve({ envelope_id, ack }), reject, timer });
      conn.sendText(
        JSON.stringify({
          envelope_id,
          type,
          payload,
          accepts_response_payload: opts.acceptsResponsePayload ?? true,
          retry_attempt: opts.retryAttempt ?? 0,
          retry_reason: opts.retryReason ?? "",
        }),
      );
    });
  }

  sendSocketDisconnect(reason: "warning" | "refresh_requested" | "link_disabled" = "refresh_requested"): void {
    for (const c of this.ws) if (c.open) c.sendText(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "applink-fake" } }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error("fake Slack closed");
    for (const w of this.callWaiters) w.reject(err);
    for (const w of this.responseWaiters) w.reject(err);
    for (const w of this.connectWaiters) w.reject(err);
    for (const [, p] of this.pendingAcks) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pendingAcks.clear();
    for (const c of this.ws) {
      c.close(1001);
      c.terminate();
    }
    this.ws = [];
    // Stop accepting, drop idle keep-alive connections, and give requests already being
    // served (e.g. a respond() still in flight when a test ends) a moment to be answered.
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const release of [...this.hangs.values()]) release();
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 250);
        this.onIdle = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.server.closeAllConnections();
    for (const sock of this.sockets) sock.destroy();
    await done;
  }

  // ------------------------------------------------------------ plumbing

  private wait<T>(set: Set<Waiter<T>>, match: (item: T) => boolean, timeoutMs: number, describe: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = {
        match,
        resolve: (item) => {
          clearTimeout(w.timer);
          set.delete(w);
          resolve(item);
        },
        reject: (e) => {
          clearTimeout(w.timer);
          set.delete(w);
          reject(e);
        },
        timer: setTimeout(() => w.reject(new Error(describe())), timeoutMs),
      };
      set.add(w);
    });
  }

  private notify<T>(set: Set<Waiter<T>>, item: T): void {
    for (const w of [...set]) if (w.match(item)) w.resolve(item);
  }

  private record(call: FakeSlackCall): void {
    this.calls.push(call);
    this.notify(this.callWaiters, call);
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  /** Applies a queued fault; returns true when the request has been answered. */
  private async applyFault(key: string, res: ServerResponse, onAnswered: (status: number, error: string) => void): Promise<boolean> {
    const queued = this.faults.get(key);
    // An answer to hold back is applied after the call took effect (see heldAnswer).
    if (queued?.[0] && "answerAfterMs" in queued[0]) return false;
    const fault = queued?.shift();
    if (!fault) return false;
    if ("hangMs" in fault) {
      await this.hold(fault.hangMs);
      return false;
    }
    if ("answerAfterMs" in fault) return false;
    if ("error" in fault) {
      onAnswered(key === "response_url" ? 404 : 200, fault.error);
      this.sendJson(res, key === "response_url" ? 404 : 200, { ok: false, error: fault.error });
      return true;
    }
    if (fault.status === 429) {
      onAnswered(429, "ratelimited");
      this.sendJson(res, 429, { ok: false, error: "ratelimited" }, { "retry-after": String(fault.retryAfter) });
      return true;
    }
    onAnswered(fault.status, `http_${fault.status}`);
    if (fault.status === 500) {
      res.writeHead(500, { "content-length": "0" });
      res.end();
    } else {
      const title = fault.status === 502 ? "502 Bad Gateway" : "503 Service Temporarily Unavailable";
      const html = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
      res.writeHead(fault.status, { "content-type": "text/html", "content-length": String(Buffer.byteLength(html)) });
      res.end(html);
    }
    return true;
  }

  /** Waits `ms`, or less if the fake is closed meanwhile. */
  private hold(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(t);
        this.hangs.delete(t);
        resolve();
      };
      const t = setTimeout(release, ms);
      this.hangs.set(t, release);
    });
  }

  /** Takes a queued `answerAfterMs` fault for `key`, if it is next: how long to hold the answer. */
  private heldAnswer(key: string): number | undefined {
    const next = this.faults.get(key)?.[0];
    if (!next || !("answerAfterMs" in next)) return undefined;
    this.faults.get(key)?.shift();
    return next.answerAfterMs;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const raw = await readBody(req);
    if (url.pathname.startsWith("/api/")) return this.handleApi(decodeURIComponent(url.pathname.slice(5)), req, raw, url.searchParams, res);
    if (url.pathname.startsWith("/response/") && req.method === "POST") return this.handleResponseUrl(decodeURIComponent(url.pathname.slice(10)), req, raw, res);
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  }

  private async handleApi(method: string, req: IncomingMessage, raw: Buffer, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const parsed = await parseArgs(req, raw, query);
    const args = "args" in parsed ? parsed.args : {};
    const auth = req.headers.authorization;
    const headerToken = auth && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, "").trim() : null;
    const token = headerToken || ("bodyToken" in parsed ? parsed.bodyToken : null) || null;
    const base = { method, args, token };

    if (await this.applyFault(method, res, (status, error) => this.record({ ...base, at: Date.now(), status, error }))) return;
    const channelArg = "args" in parsed ? str(parsed.args.channel) : undefined;
    const retryAfter = this.pace?.retryAfter(method, channelArg && this.resolveChannel(channelArg));
    if (retryAfter) {
      this.record({ ...base, at: Date.now(), status: 429, error: "ratelimited" });
      this.sendJson(res, 429, { ok: false, error: "ratelimited" }, { "retry-after": String(retryAfter) });
      return;
    }

    let result: Result;
    const handler = this.handlers[method];
    if ("invalid" in parsed) result = fail(parsed.invalid);
    else if (!handler) result = fail("unknown_method", { req_method: method });
    else {
      const kind = method === "apps.connections.open" ? "app" : "bot";
      const expected = kind === "app" ? this.appToken : this.botToken;
      const other = kind === "app" ? this.botToken : this.appToken;
      if (!token) result = fail("not_authed");
      else if (token === other) result = fail("not_allowed_token_type");
      else if (token !== expected) result = fail("invalid_auth");
      else result = handler(args);
    }
    const heldMs = this.heldAnswer(method);
    this.record({ ...base, at: Date.now(), status: 200, ...(result.ok ? {} : { error: String(result.error) }), ...(heldMs !== undefined ? { answerHeldMs: heldMs } : {}) });
    const scopes: Record<string, string> = token === this.botToken ? { "x-oauth-scopes": "chat:write,im:write,users:read,usergroups:read,commands" } : {};
    if (heldMs !== undefined) {
      await this.hold(heldMs);
      // The caller may be gone by now (killed, timed out): then the answer is simply lost.
      if (res.destroyed || res.writableEnded) return;
    }
    this.sendJson(res, 200, result, scopes);
  }

  private async handleResponseUrl(id: string, req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    if (await this.applyFault("response_url", res, () => {})) return;
    let body: Record<string, unknown>;
    const text = raw.toString("utf8");
    try {
      const ct = (req.headers["content-type"] ?? "").toLowerCase();
      const parsed: unknown = ct.startsWith("application/x-www-form-urlencoded") ? JSON.parse(new URLSearchParams(text).get("payload") ?? "") : JSON.parse(text);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      body = parsed as Record<string, unknown>;
    } catch {
      this.sendJson(res, 400, { ok: false, error: "invalid_payload" });
      return;
    }
    const target = this.responseTargets.get(id);
    const msg = target ? this.message(target.channel, target.ts) : undefined;
    if (msg && (body.delete_original === true || body.delete_original === "true")) {
      this.messages.delete(`${msg.channel}:${msg.ts}`);
    } else if (msg && (body.replace_original === true || body.replace_original === "true")) {
      if (body.blocks !== undefined) {
        const errors = validateBlocks(body.blocks, 50);
        if (errors.length) {
          this.sendJson(res, 400, { ok: false, error: "invalid_blocks", errors });
          return;
        }
      }
      this.rerender(msg, str(body.text), body.blocks, body.attachments);
    }
    const rec: FakeSlackResponse = { id, body, at: Date.now() };
    this.responses.push(rec);
    this.notify(this.responseWaiters, rec);
    this.sendJson(res, 200, { ok: true });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", this.url);
    const key = req.headers["sec-websocket-key"];
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (this.closed) return void socket.destroy();
    if (url.pathname !== "/socket" || (req.headers.upgrade ?? "").toLowerCase() !== "websocket" || typeof key !== "string") return refuse("400 Bad Request");
    const ticket = url.searchParams.get("ticket") ?? "";
    if (!this.tickets.delete(ticket)) return refuse("401 Unauthorized"); // tickets are single-use, as Slack's are
    const accept = createHash("sha1").update(key + WS_GUID).digest("base64");
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const conn = new WsConnection(
      socket,
      (text) => this.onSocketText(text),
      () => {
        this.ws = this.ws.filter((c) => c !== conn);
      },
    );
    this.ws.push(conn);
    if (head.length) conn.onData(head);
    conn.sendText(
      JSON.stringify({
        type: "hello",
        num_connections: this.socketCount,
        debug_info: { host: "applink-fake-1", build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
    for (const w of [...this.connectWaiters]) w.resolve();
  }

  private onSocketText(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    this.socketMessages.push(msg);
    const id = typeof msg.envelope_id === "string" ? msg.envelope_id : undefined;
    const pending = id ? this.pendingAcks.get(id) : undefined;
    if (id && pending) {
      clearTimeout(pending.timer);
      this.pendingAcks.delete(id);
      pending.resolve(msg);
    }
  }

  // ------------------------------------------------------------ Web API methods

  /** Slack's ts: the post time in seconds with microseconds, unique within a channel (here: globally). */
  private nextTs(): string {
    const micros = Math.max(Date.now() * 1_000, this.tsCounter + 1);
    this.tsCounter = micros;
    return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, "0")}`;
  }

  /** Posting to a user id (U…/W…) posts into the DM with that user, as Slack does. */
  private resolveChannel(channel: string): string {
    return /^[UW][A-Z0-9]+$/.test(channel) ? this.dmFor(channel) : channel;
  }

  private dmFor(userId: string): string {
    let dm = this.dmChannels.get(userId);
    if (!dm) {
      dm = `D0FAKE${String(this.dmChannels.size + 1).padStart(4, "0")}`;
      this.dmChannels.set(userId, dm);
    }
    return dm;
  }

  private badChannel(channel: string | undefined): Result | null {
    if (!channel || channel.startsWith("CBAD")) return fail("channel_not_found");
    return null;
  }

  private rerender(msg: FakeSlackMessage, text: string | undefined, blocks: unknown, attachments: unknown): void {
    msg.history.push({ text: msg.text, blocks: msg.blocks, at: Date.now() });
    if (text !== undefined) msg.text = text;
    if (Array.isArray(blocks)) msg.blocks = withBlockIds(blocks);
    if (Array.isArray(attachments)) msg.attachments = structuredClone(attachments);
    msg.updates += 1;
  }

  /**
   * conversations.history (newest first) and conversations.replies (the thread oldest first, the
   * parent leading): `oldest`/`latest` exclusive unless `inclusive`, `metadata` only with
   * `include_all_metadata`, at most `limit` per page (default 100, at most 999). When more match,
   * `has_more` is true and `response_metadata.next_cursor` names where the next page starts; the
   * caller passes it back as `cursor` with the same other arguments. Cursors are opaque base64
   * like Slack's (`next_ts:<ts digits>`); one that does not decode is `invalid_cursor`.
   */
  private listMessages(a: Record<string, unknown>, replies: boolean): Result {
    const bad = this.badChannel(str(a.channel));
    if (bad) return bad;
    const channel = this.resolveChannel(str(a.channel) as string);
    const parent = str(a.ts);
    if (replies && (!parent || !this.message(channel, parent))) return fail(parent ? "thread_not_found" : "invalid_arguments");
    const inclusive = a.inclusive === true || a.inclusive === "true" || a.inclusive === "1";
    const oldest = Number(str(a.oldest) ?? "0");
    const latest = Number(str(a.latest) ?? "Infinity");
    const limit = Math.min(999, Number(str(a.limit) ?? a.limit ?? 100) || 100);
    const withMeta = a.include_all_metadata === true || a.include_all_metadata === "true" || a.include_all_metadata === "1";
    const cursor = str(a.cursor);
    let from: bigint | null = null;
    if (cursor) {
      const m = /^next_ts:(\d+)$/.exec(Buffer.from(cursor, "base64").toString("utf8"));
      if (!m) return fail("invalid_cursor");
      from = BigInt(m[1] as string);
    }
    const order = replies ? 1 : -1;
    const rows = [...this.messages.values()]
      .filter((m) => m.channel === channel)
      .filter((m) => (replies ? m.ts === parent || m.thread_ts === parent : !m.thread_ts || m.thread_ts === m.ts))
      .filter((m) => {
        const t = Number(m.ts);
        return (inclusive ? t >= oldest : t > oldest) && (inclusive ? t <= latest : t < latest);
      })
      .filter((m) => from === null || (replies ? tsDigits(m.ts) >= from : tsDigits(m.ts) <= from))
      .sort((x, y) => order * (Number(x.ts) - Number(y.ts)));
    const page = rows.slice(0, limit).map((m) => ({ ...this.listed(m), ...(withMeta && m.metadata ? { metadata: m.metadata } : {}) }));
    const next = rows[limit];
    return {
      ok: true,
      messages: page,
      has_more: next !== undefined,
      response_metadata: { next_cursor: next ? Buffer.from(`next_ts:${tsDigits(next.ts)}`).toString("base64") : "" },
    };
  }

  /** A message as history and replies list it: the bot's own, or a person's. */
  private listed(m: FakeSlackMessage): Record<string, unknown> {
    if (!m.user) return this.botMessage(m);
    return { type: "message", user: m.user, text: m.text, ts: m.ts, team: this.teamId, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) };
  }

  private botMessage(m: { ts: string; text: string; blocks: Array<Record<string, unknown>>; attachments?: unknown[]; thread_ts?: string }): Record<string, unknown> {
    return {
      user: this.botUserId,
      type: "message",
      ts: m.ts,
      bot_id: this.botId,
      app_id: this.appId,
      text: m.text,
      team: this.teamId,
      bot_profile: { id: this.botId, app_id: this.appId, name: "clawgate", deleted: false, team_id: this.teamId },
      ...(m.blocks.length ? { blocks: m.blocks } : {}),
      ...(m.attachments ? { attachments: m.attachments } : {}),
      ...(m.thread_ts ? { thread_ts: m.thread_ts, parent_user_id: this.botUserId } : {}),
    };
  }

  private readonly handlers: Record<string, (a: Record<string, unknown>) => Result> = {
    "api.test": (a) => ({ ok: true, args: a }),

    "auth.test": () => ({
      ok: true,
      url: `https://${FAKE_TEAM_DOMAIN}.slack.com/`,
      team: "Fake Team",
      user: "clawgate",
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    }),

    "chat.postMessage": (a) => {
      const bad = this.badChannel(str(a.channel));
      if (bad) return bad;
      const channel = this.resolveChannel(str(a.channel) as string);
      const text = typeof a.text === "string" ? a.text : "";
      if (!text && a.blocks === undefined && a.attachments === undefined) return fail("no_text");
      if (text.length > 40_000) return fail("msg_too_long");
      if (a.blocks !== undefined) {
        const errors = validateBlocks(a.blocks, 50);
        if (errors.length) return invalidBlocks(errors);
      }
      const ts = this.nextTs();
      const thread_ts = str(a.thread_ts);
      const msg: FakeSlackMessage = {
        channel,
        ts,
        text,
        blocks: Array.isArray(a.blocks) ? withBlockIds(a.blocks) : [],
        ...(Array.isArray(a.attachments) ? { attachments: structuredClone(a.attachments) } : {}),
        ...(thread_ts ? { thread_ts } : {}),
        ...(a.metadata && typeof a.metadata === "object" ? { metadata: structuredClone(a.metadata as Record<string, unknown>) } : {}),
        updates: 0,
        history: [],
      };
      this.messages.set(`${channel}:${ts}`, msg);
      return { ok: true, channel, ts, message: this.botMessage(msg) };
    },

    "chat.update": (a) => {
      const bad = this.badChannel(str(a.channel));
      if (bad) return bad;
      const channel = str(a.channel) as string;
      const ts = str(a.ts);
      const msg = ts ? this.message(channel, ts) : undefined;
      if (!msg) return fail("message_not_found");
      if (a.text === undefined && a.blocks === undefined && a.attachments === undefined) return fail("no_text");
      if (a.blocks !== undefined) {
        const errors = validateBlocks(a.blocks, 50);
        if (errors.length) return invalidBlocks(errors);
      }
      this.rerender(msg, typeof a.text === "string" ? a.text : undefined, a.blocks, a.attachments);
      return { ok: true, channel, ts: msg.ts, text: msg.text, message: this.botMessage(msg) };
    },

    "chat.delete": (a) => {
      const bad = this.badChannel(str(a.channel));
      if (bad) return bad;
      const channel = str(a.channel) as string;
      const ts = str(a.ts) ?? "";
      if (!this.messages.delete(`${channel}:${ts}`)) return fail("message_not_found");
      return { ok: true, channel, ts };
    },

    "chat.getPermalink": (a) => {
      const channel = str(a.channel);
      const ts = str(a.message_ts);
      if (!channel || !ts || !this.message(channel, ts)) return fail(channel ? "message_not_found" : "channel_not_found");
      return { ok: true, channel, permalink: `https://${FAKE_TEAM_DOMAIN}.slack.com/archives/${channel}/p${ts.replace(".", "")}` };
    },

    "chat.postEphemeral": (a) => {
      const bad = this.badChannel(str(a.channel));
      if (bad) return bad;
      const user = str(a.user);
      if (!user) return fail("user_not_in_channel");
      const text = typeof a.text === "string" ? a.text : "";
      if (!text && a.blocks === undefined && a.attachments === undefined) return fail("no_text");
      if (a.blocks !== undefined) {
        const errors = validateBlocks(a.blocks, 50);
        if (errors.length) return invalidBlocks(errors);
      }
      const message_ts = this.nextTs();
      const thread_ts = str(a.thread_ts);
      this.ephemerals.push({
        channel: this.resolveChannel(str(a.channel) as string),
        user,
        message_ts,
        text,
        blocks: Array.isArray(a.blocks) ? withBlockIds(a.blocks) : [],
        ...(thread_ts ? { thread_ts } : {}),
      });
      return { ok: true, message_ts };
    },

    "views.open": (a) => {
      if (!str(a.trigger_id) && !str(a.interactivity_pointer)) return fail("invalid_arguments", { response_metadata: { messages: ["[ERROR] missing required field: trigger_id"] } });
      const problem = this.validateView(a.view);
      if (problem) return problem;
      const view = this.storeView(a.view as Record<string, unknown>, undefined);
      return { ok: true, view };
    },

    "views.update": (a) => {
      const viewId = str(a.view_id);
      const externalId = str(a.external_id);
      if (!viewId && !externalId) return fail("invalid_arguments", { response_metadata: { messages: ["[ERROR] missing required field: view_id"] } });
      const existing = viewId ? this.views.get(viewId) : [...this.views.values()].find((v) => v.external_id === externalId);
      if (!existing) return fail("not_found");
      if (str(a.hash) && a.hash !== existing.hash) return fail("hash_conflict");
      const problem = this.validateView(a.view);
      if (problem) return problem;
      const view = this.storeView(a.view as Record<string, unknown>, existing);
      return { ok: true, view };
    },

    "usergroups.users.list": (a) => {
      const group = str(a.usergroup);
      const members = group ? this.userGroups.get(group) : undefined;
      if (!members) return fail("no_such_subteam");
      return { ok: true, users: [...members] };
    },

    "users.info": (a) => {
      const id = str(a.user);
      const u = id ? this.users.get(id) : undefined;
      if (!id || !u) return fail("user_not_found");
      const real = u.real_name ?? u.name;
      return {
        ok: true,
        user: {
          id,
          team_id: this.teamId,
          name: u.name,
          deleted: u.deleted ?? false,
          real_name: real,
          tz: u.tz ?? "America/Los_Angeles",
          tz_label: "Pacific Standard Time",
          tz_offset: -28800,
          is_bot: u.is_bot ?? false,
          is_app_user: false,
          profile: { real_name: real, display_name: u.name, team: this.teamId },
        },
      };
    },

    "conversations.history": (a) => this.listMessages(a, false),

    "conversations.replies": (a) => this.listMessages(a, true),

    "conversations.info": (a) => {
      const id = str(a.channel);
      if (!id) return fail("channel_not_found");
      const dmUser = [...this.dmChannels].find(([, dm]) => dm === id)?.[0];
      if (dmUser && !dmUser.startsWith("mpim:")) {
        return { ok: true, channel: { id, created: 1_700_000_000, is_im: true, is_org_shared: false, user: dmUser, is_user_deleted: false, priority: 0 } };
      }
      const c = this.channels.get(id);
      if (!c || (c.is_private && !c.is_member)) return fail("channel_not_found");
      return {
        ok: true,
        channel: {
          id,
          name: c.name,
          name_normalized: c.name,
          is_channel: !c.is_private,
          is_group: false,
          is_im: false,
          is_mpim: false,
          is_private: c.is_private ?? false,
          is_archived: c.is_archived ?? false,
          is_general: false,
          is_shared: false,
          is_org_shared: false,
          is_ext_shared: false,
          is_member: c.is_member ?? false,
          created: 1_700_000_000,
          creator: FAKE_BOT_USER_ID,
          context_team_id: this.teamId,
          topic: { value: "", creator: "", last_set: 0 },
          purpose: { value: "", creator: "", last_set: 0 },
        },
      };
    },

    "conversations.open": (a) => {
      const channel = str(a.channel);
      if (channel) return { ok: true, no_op: true, already_open: true, channel: { id: channel } };
      const users = (str(a.users) ?? "").split(",").map((u) => u.trim()).filter(Boolean);
      if (users.length === 0) return fail("users_list_not_supplied");
      if (users.length > 8) return fail("too_many_users");
      const unknown = users.find((u) => !this.users.has(u) && !/^[UW][A-Z0-9]+$/.test(u));
      if (unknown) return fail("user_not_found");
      if (users.length === 1) {
        const already = this.dmChannels.has(users[0] as string);
        const id = this.dmFor(users[0] as string);
        return already ? { ok: true, no_op: true, already_open: true, channel: { id } } : { ok: true, channel: { id } };
      }
      const key = [...users].sort().join(",");
      return { ok: true, channel: { id: this.dmFor(`mpim:${key}`).replace(/^D/, "G") } };
    },

    "apps.connections.open": () => {
      const ticket = randomUUID();
      this.tickets.add(ticket);
      return { ok: true, url: `ws://127.0.0.1:${this.port}/socket?ticket=${ticket}&app_id=${this.appId}` };
    },
  };

  private validateView(view: unknown): Result | null {
    const invalid = (m: string) => fail("invalid_arguments", { response_metadata: { messages: [`[ERROR] ${m}`] } });
    if (!view || typeof view !== "object" || Array.isArray(view)) return invalid("missing required field: view");
    const v = view as Record<string, unknown>;
    if (v.type !== "modal" && v.type !== "home") return invalid("must be a valid enum value [json-pointer:/view/type]");
    if (v.type === "modal") {
      const title = v.title as { type?: unknown; text?: unknown } | undefined;
      if (!title || title.type !== "plain_text" || typeof title.text !== "string") return invalid("missing required field: title [json-pointer:/view/title]");
      if (title.text.length > 24) return invalid("must be less than 25 characters [json-pointer:/view/title/text]");
    }
    if (typeof v.private_metadata === "string" && v.private_metadata.length > 3000) return invalid("must be less than 3001 characters [json-pointer:/view/private_metadata]");
    if (typeof v.callback_id === "string" && v.callback_id.length > 255) return invalid("must be less than 256 characters [json-pointer:/view/callback_id]");
    const errors = validateBlocks(v.blocks, 100, "/view/blocks");
    if (errors.length) return invalid(errors[0] as string);
    if (v.type === "modal" && (v.blocks as Array<{ type?: unknown }>).some((b) => b.type === "input") && !v.submit) {
      return invalid("submit is required when an input block is present [json-pointer:/view/submit]");
    }
    return null;
  }

  private storeView(view: Record<string, unknown>, existing: Record<string, unknown> | undefined): Record<string, unknown> {
    let id = existing?.id as string | undefined;
    if (!id) {
      this.viewCounter += 1;
      id = `V0FAKE${String(this.viewCounter).padStart(5, "0")}`;
    }
    const blocks = withBlockIds(view.blocks as unknown[]);
    const stored: Record<string, unknown> = {
      id,
      team_id: this.teamId,
      type: view.type,
      blocks,
      private_metadata: view.private_metadata ?? "",
      callback_id: view.callback_id ?? "",
      state: { values: {} },
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString("hex")}`,
      title: view.title,
      clear_on_close: view.clear_on_close ?? false,
      notify_on_close: view.notify_on_close ?? false,
      close: view.close ?? null,
      submit: view.submit ?? null,
      previous_view_id: null,
      root_view_id: existing?.root_view_id ?? id,
      app_id: this.appId,
      external_id: view.external_id ?? existing?.external_id ?? "",
      app_installed_team_id: this.teamId,
      bot_id: this.botId,
    };
    this.views.set(id, stored);
    return stored;
  }
}

/** Starts a fake Slack on 127.0.0.1 and a free port. Call `close()` in teardown. */
export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const fake = new FakeSlackServer(opts);
  await fake.listen();
  return fake;
}
