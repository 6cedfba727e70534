import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

/**
 * A faithful local fake of the parts of Discord clawgate uses: REST v10 (messages with embeds
 * and components, `nonce` + `enforce_nonce`, threads, DMs, guild command bulk overwrite,
 * interaction callbacks and webhooks, 429 with retry_after, 5xx) and the Gateway (HELLO,
 * IDENTIFY → READY, heartbeats → ACK, dispatches with increasing `s`, RESUME after a dropped
 * socket with a replay of missed events). Checked against discord.js's own clients in
 * test/fakes/discord.test.ts. Everything it receives is recorded for assertions.
 */

export const FAKE_APP_ID = "111111111111111111";
export const FAKE_GUILD_ID = "222222222222222222";
export const FAKE_CHANNEL_ID = "333333333333333333";
export const FAKE_BOT_ID = "999999999999999999";

export interface FakeDiscordMessage {
  id: string;
  channel_id: string;
  content: string;
  embeds: Array<Record<string, unknown>>;
  components: Array<{ type: number; components: Array<{ type: number; custom_id?: string; label?: string; style?: number }> }>;
  nonce?: string;
  message_reference?: { message_id: string };
  edited_timestamp: string | null;
  timestamp: string;
  author: { id: string; username: string; bot: boolean };
}

export interface FakeDiscordCall {
  method: string;
  path: string;
  body: unknown;
  status: number;
  at: number;
  auth: string | undefined;
}

export interface FakeFault {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

let seq = 0n;
/** Snowflakes as Discord makes them: ms since 2015 in the top 42 bits, so an id says when it was made. */
export function snowflake(): string {
  const now = BigInt(Date.now() - 1_420_070_400_000) << 22n;
  seq = now > seq ? now : seq + 1n;
  return seq.toString();
}

interface Socket {
  ws: WebSocket;
  sessionId: string | null;
}

export class FakeDiscord {
  readonly botToken = `fake.${randomBytes(8).toString("hex")}`;
  readonly calls: FakeDiscordCall[] = [];
  readonly messages = new Map<string, FakeDiscordMessage>();
  /** Channel id → kind. Messages to any other id get 404 Unknown Channel, as on Discord. */
  readonly channels = new Map<string, "text" | "thread" | "dm">([[FAKE_CHANNEL_ID, "text"]]);
  readonly commands = new Map<string, unknown[]>();
  readonly callbacks = new Map<string, unknown>();
  readonly webhookCalls: Array<{ method: string; token: string; target: string; body: unknown }> = [];
  readonly gatewayLog: Array<{ dir: "in" | "out"; op: number; t?: string | null; s?: number | null }> = [];
  private readonly faults: Array<{ match: (method: string, path: string) => boolean; fault: FakeFault }> = [];
  private readonly waiters = new Set<() => void>();
  private readonly nonces = new Map<string, string>();
  private readonly dms = new Map<string, string>();
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private socket: Socket | null = null;
  private sessionId: string | null = null;
  private s = 0;
  /** Every dispatch of the current session, so a RESUME can replay what a dropped socket missed. */
  private readonly sent: Array<{ s: number; t: string; d: unknown }> = [];
  port = 0;
  heartbeatIntervalMs = 41_250;
  /** Gateway sockets opened so far (each one a connection attempt). */
  connections = 0;
  /** When set, every IDENTIFY and RESUME is answered by closing the socket with this code. */
  closeOnIdentify: number | null = null;

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on("upgrade", (req, socket, head) => {
      if (!(req.url ?? "").startsWith("/gateway")) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }
  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }
  get identifies(): number {
    return this.gatewayLog.filter((e) => e.dir === "in" && e.op === 2).length;
  }
  get resumes(): number {
    return this.gatewayLog.filter((e) => e.dir === "in" && e.op === 6).length;
  }
  get connected(): boolean {
    return this.socket?.sessionId != null;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `count` requests matching `method path` (path regex) get `fault` instead. */
  failNext(method: string, path: RegExp, fault: FakeFault, count = 1): void {
    for (let i = 0; i < count; i++) this.faults.push({ match: (m, p) => m === method && path.test(p), fault });
  }

  /** Resolves with the first value `probe` returns that is not undefined, checked on every change. */
  waitFor<T>(probe: () => T | undefined, what = "condition", timeoutMs = 5_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const v = probe();
        if (v === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`fake Discord: timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private changed(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Messages in `channel`, oldest first. */
  messagesIn(channel: string): FakeDiscordMessage[] {
    return [...this.messages.values()].filter((m) => m.channel_id === channel);
  }

  /** Sends INTERACTION_CREATE over the Gateway (as Discord does for bots without an endpoint URL). */
  dispatch(t: string, d: unknown): number {
    this.s += 1;
    this.sent.push({ s: this.s, t, d });
    this.sendOp({ op: 0, t, s: this.s, d });
    return this.s;
  }

  /** Drops the Gateway socket without a close frame, as a network failure would. */
  dropSocket(): void {
    this.socket?.ws.terminate();
    this.socket = null;
  }

  // ---------------------------------------------------------------- Gateway

  private onSocket(ws: WebSocket): void {
    this.connections += 1;
    this.socket?.ws.terminate();
    const sock: Socket = { ws, sessionId: null };
    this.socket = sock;
    ws.on("message", (raw) => this.onOp(sock, JSON.parse(String(raw)) as { op: number; d: unknown }));
    ws.on("close", () => {
      if (this.socket === sock) this.socket = null;
      this.changed();
    });
    this.sendOp({ op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs, _trace: ["fake-discord"] } }, sock);
  }

  private sendOp(payload: { op: number; t?: string; s?: number; d: unknown }, to: Socket | null = this.socket): void {
    if (!to || to.ws.readyState !== 1) return;
    this.gatewayLog.push({ dir: "out", op: payload.op, t: payload.t ?? null, s: payload.s ?? null });
    to.ws.send(JSON.stringify({ t: null, s: null, ...payload }));
  }

  private onOp(sock: Socket, msg: { op: number; d: unknown }): void {
    this.gatewayLog.push({ dir: "in", op: msg.op });
    switch (msg.op) {
      case 1: // heartbeat
        this.sendOp({ op: 11, d: null }, sock);
        break;
      case 2: {
        if (this.closeOnIdentify) return void sock.ws.close(this.closeOnIdentify, "closed by the test");
        const d = msg.d as { token?: string; intents?: number };
        if (d.token !== this.botToken && d.token !== `Bot ${this.botToken}`) return void sock.ws.close(4004, "Authentication failed.");
        if (typeof d.intents !== "number") return void sock.ws.close(4013, "Invalid intent(s).");
        this.sessionId = randomBytes(16).toString("hex");
        this.s = 0;
        this.sent.length = 0;
        sock.sessionId = this.sessionId;
        this.dispatchTo(sock, "READY", {
          v: 10,
          user: { id: FAKE_BOT_ID, username: "clawgate", discriminator: "0", global_name: null, avatar: null, bot: true },
          guilds: [{ id: FAKE_GUILD_ID, unavailable: true }],
          session_id: this.sessionId,
          resume_gateway_url: this.gatewayUrl,
          shard: [0, 1],
          application: { id: FAKE_APP_ID, flags: 0 },
        });
        break;
      }
      case 6: {
        if (this.closeOnIdentify) return void sock.ws.close(this.closeOnIdentify, "closed by the test");
        const d = msg.d as { token?: string; session_id?: string; seq?: number };
        if (d.token !== this.botToken && d.token !== `Bot ${this.botToken}`) return void sock.ws.close(4004, "Authentication failed.");
        if (!this.sessionId || d.session_id !== this.sessionId) return this.sendOp({ op: 9, d: false }, sock);
        sock.sessionId = this.sessionId;
        for (const e of this.sent) if (e.s > (d.seq ?? 0)) this.sendOp({ op: 0, t: e.t, s: e.s, d: e.d }, sock);
        this.dispatchTo(sock, "RESUMED", { _trace: ["fake-discord"] }, false);
        break;
      }
      default:
        break;
    }
    this.changed();
  }

  private dispatchTo(sock: Socket, t: string, d: unknown, record = true): void {
    this.s += 1;
    if (record) this.sent.push({ s: this.s, t, d });
    this.sendOp({ op: 0, t, s: this.s, d }, sock);
  }

  // ---------------------------------------------------------------- REST

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return this.reply(res, { method, path: url.pathname, body: text, auth: req.headers.authorization }, 400, { code: 50109, message: "The request body contains invalid JSON." });
      }
    }
    const path = url.pathname.replace(/^\/api\/v10/, "");
    const call = { method, path, body, auth: req.headers.authorization };
    if (!url.pathname.startsWith("/api/v10/")) return this.reply(res, call, 404, { message: "404: Not Found", code: 0 });
    const faultAt = this.faults.findIndex((f) => f.match(method, path));
    if (faultAt >= 0) {
      const { fault } = this.faults.splice(faultAt, 1)[0] as { fault: FakeFault };
      return this.reply(res, call, fault.status, fault.body ?? { message: "fault", code: 0 }, fault.headers);
    }
    const open = /^\/(interactions|webhooks)\//.test(path);
    if (!open && req.headers.authorization !== `Bot ${this.botToken}`) return this.reply(res, call, 401, { message: "401: Unauthorized", code: 0 });
    const [status, out] = this.route(method, path, body, url.searchParams);
    return this.reply(res, call, status, out);
  }

  private reply(res: ServerResponse, call: Omit<FakeDiscordCall, "status" | "at">, status: number, out: unknown, headers: Record<string, string> = {}): void {
    this.calls.push({ ...call, status, at: Date.now() });
    if (status === 204) {
      // A 204 carries no body and no content-type (clients that parse by content-type choke otherwise).
      res.writeHead(204, headers);
      res.end();
    } else {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(out));
    }
    this.changed();
  }

  private route(method: string, path: string, body: unknown, query: URLSearchParams): [number, unknown] {
    let m: RegExpMatchArray | null;
    if (method === "GET" && path === "/gateway/bot") {
      return [200, { url: this.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } }];
    }
    if (method === "GET" && path === "/gateway") return [200, { url: this.gatewayUrl }];
    if (method === "GET" && path === "/users/@me") return [200, { id: FAKE_BOT_ID, username: "clawgate", discriminator: "0", bot: true, verified: true, flags: 0 }];
    if ((m = path.match(/^\/channels\/(\d+)\/messages$/))) {
      const channel = m[1] as string;
      if (!this.channels.has(channel)) return [404, { message: "Unknown Channel", code: 10003 }];
      if (method === "GET") return this.listMessages(channel, query);
      if (method === "POST") return this.createMessage(channel, body as Record<string, unknown>);
    }
    if ((m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)$/))) {
      const msg = this.messages.get(m[2] as string);
      if (!this.channels.has(m[1] as string)) return [404, { message: "Unknown Channel", code: 10003 }];
      if (!msg || msg.channel_id !== m[1]) return [404, { message: "Unknown Message", code: 10008 }];
      if (method === "GET") return [200, msg];
      if (method === "DELETE") {
        this.messages.delete(msg.id);
        return [204, null];
      }
      if (method === "PATCH") {
        const problem = validateMessage(body as Record<string, unknown>);
        if (problem) return [400, { message: "Invalid Form Body", code: 50035, errors: problem }];
        const b = body as Partial<FakeDiscordMessage>;
        if (b.content !== undefined) msg.content = b.content;
        if (b.embeds !== undefined) msg.embeds = b.embeds;
        if (b.components !== undefined) msg.components = b.components;
        msg.edited_timestamp = new Date().toISOString();
        return [200, msg];
      }
    }
    if ((m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)\/threads$/)) && method === "POST") {
      const [, channel, message] = m as [string, string, string];
      if (this.channels.get(channel) !== "text") return [400, { message: "Cannot execute action on this channel type", code: 50024 }];
      if (!this.messages.has(message)) return [404, { message: "Unknown Message", code: 10008 }];
      if (this.channels.has(message)) return [400, { message: "A thread has already been created for this message", code: 160004 }];
      const name = (body as { name?: unknown }).name;
      if (typeof name !== "string" || name.length < 1 || name.length > 100) return [400, { message: "Invalid Form Body", code: 50035 }];
      this.channels.set(message, "thread");
      return [201, { id: message, type: 11, parent_id: channel, name, guild_id: FAKE_GUILD_ID }];
    }
    if (method === "POST" && path === "/users/@me/channels") {
      const user = String((body as { recipient_id?: unknown }).recipient_id ?? "");
      if (!/^\d+$/.test(user)) return [400, { message: "Invalid Form Body", code: 50035 }];
      let dm = this.dms.get(user);
      if (!dm) {
        dm = snowflake();
        this.dms.set(user, dm);
        this.channels.set(dm, "dm");
      }
      return [200, { id: dm, type: 1, recipients: [{ id: user, username: `user${user.slice(-4)}` }] }];
    }
    if ((m = path.match(/^\/applications\/(\d+)\/guilds\/(\d+)\/commands$/))) {
      const key = `${m[1]}/${m[2]}`;
      if (m[1] !== FAKE_APP_ID) return [403, { message: "Missing Access", code: 50001 }];
      if (method === "GET") return [200, this.commands.get(key) ?? []];
      if (method === "PUT") {
        if (!Array.isArray(body)) return [400, { message: "Invalid Form Body", code: 50035 }];
        const saved = body.map((c: Record<string, unknown>) => ({ id: snowflake(), application_id: m?.[1], guild_id: m?.[2], version: snowflake(), ...c }));
        this.commands.set(key, saved);
        return [200, saved];
      }
    }
    if ((m = path.match(/^\/interactions\/(\d+)\/([^/]+)\/callback$/)) && method === "POST") {
      const id = m[1] as string;
      if (this.callbacks.has(id)) return [400, { message: "Interaction has already been acknowledged.", code: 40060 }];
      const b = body as { type?: unknown };
      if (typeof b?.type !== "number") return [400, { message: "Invalid Form Body", code: 50035 }];
      this.callbacks.set(id, body);
      return [204, null];
    }
    if ((m = path.match(/^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original|%40original|\d+))?$/))) {
      this.webhookCalls.push({ method, token: m[2] as string, target: decodeURIComponent(m[3] ?? "followup"), body });
      return [200, { id: snowflake(), channel_id: FAKE_CHANNEL_ID, ...(body as object) }];
    }
    return [404, { message: "404: Not Found", code: 0 }];
  }

  /**
   * GET /channels/{id}/messages: `limit` 1–100 (default 50); at most one of `before` / `after` /
   * `around` (a message id or any snowflake). `after` gives the `limit` messages right after it,
   * `before` (and no anchor) the `limit` right before it (the newest); every page is sorted
   * newest first, as Discord's is. Nonces are not listed.
   */
  private listMessages(channel: string, query: URLSearchParams): [number, unknown] {
    const limit = Number(query.get("limit") ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return [400, { message: "Invalid Form Body", code: 50035, errors: { limit: "int between 1 and 100" } }];
    const anchors = (["before", "after", "around"] as const).filter((k) => query.has(k));
    if (anchors.some((k) => !/^\d+$/.test(query.get(k) ?? ""))) return [400, { message: "Invalid Form Body", code: 50035, errors: { [anchors[0] as string]: "snowflake" } }];
    const byId = (a: FakeDiscordMessage, b: FakeDiscordMessage) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1);
    const all = this.messagesIn(channel).sort(byId);
    const id = (k: string) => BigInt(query.get(k) as string);
    let page: FakeDiscordMessage[];
    if (anchors[0] === "after") page = all.filter((m) => BigInt(m.id) > id("after")).slice(0, limit);
    else if (anchors[0] === "around") {
      const at = all.findIndex((m) => BigInt(m.id) >= id("around"));
      const mid = at < 0 ? all.length : at;
      const start = Math.max(0, mid - Math.floor(limit / 2));
      page = all.slice(start, start + limit);
    } else {
      const older = anchors[0] === "before" ? all.filter((m) => BigInt(m.id) < id("before")) : all;
      page = older.slice(Math.max(0, older.length - limit));
    }
    return [200, page.reverse().map(({ nonce: _n, ...msg }) => msg)];
  }

  /** A person's message in `channel`, as if they typed it (no REST call is recorded). */
  postAsUser(channel: string, userId: string, content: string): FakeDiscordMessage {
    const msg: FakeDiscordMessage = {
      id: snowflake(),
      channel_id: channel,
      content,
      embeds: [],
      components: [],
      edited_timestamp: null,
      timestamp: new Date().toISOString(),
      author: { id: userId, username: `user${userId.slice(-4)}`, bot: false },
    };
    this.messages.set(msg.id, msg);
    this.changed();
    return msg;
  }

  private createMessage(channel: string, body: Record<string, unknown>): [number, unknown] {
    const problem = validateMessage(body);
    if (problem) return [400, { message: "Invalid Form Body", code: 50035, errors: problem }];
    const nonce = body.nonce === undefined ? undefined : String(body.nonce);
    if (nonce !== undefined && nonce.length > 25) return [400, { message: "Invalid Form Body", code: 50035, errors: { nonce: "at most 25 characters" } }];
    // enforce_nonce: the same nonce in the same channel returns the message created first.
    if (nonce && body.enforce_nonce === true) {
      const earlier = this.nonces.get(`${channel}|${nonce}`);
      if (earlier && this.messages.has(earlier)) return [200, this.messages.get(earlier)];
    }
    const msg: FakeDiscordMessage = {
      id: snowflake(),
      channel_id: channel,
      content: String(body.content ?? ""),
      embeds: (body.embeds as FakeDiscordMessage["embeds"]) ?? [],
      components: (body.components as FakeDiscordMessage["components"]) ?? [],
      ...(nonce ? { nonce } : {}),
      ...(body.message_reference ? { message_reference: body.message_reference as { message_id: string } } : {}),
      edited_timestamp: null,
      timestamp: new Date().toISOString(),
      author: { id: FAKE_BOT_ID, username: "clawgate", bot: true },
    };
    this.messages.set(msg.id, msg);
    if (nonce) this.nonces.set(`${channel}|${nonce}`, msg.id);
    return [200, msg];
  }
}

/** The Discord limits clawgate must respect; a message outside them is a 400 as on Discord. */
export function validateMessage(b: Record<string, unknown> | undefined): string | null {
  if (!b || typeof b !== "object") return "body must be an object";
  if (typeof b.content === "string" && b.content.length > 2_000) return "content: at most 2000 characters";
  const embeds = (b.embeds ?? []) as Array<Record<string, unknown>>;
  if (embeds.length > 10) return "embeds: at most 10";
  let total = 0;
  for (const e of embeds) {
    const title = String(e.title ?? "");
    const description = String(e.description ?? "");
    if (title.length > 256) return "embed title: at most 256";
    if (description.length > 4_096) return "embed description: at most 4096";
    const fields = (e.fields ?? []) as Array<{ name: string; value: string }>;
    if (fields.length > 25) return "embed fields: at most 25";
    for (const f of fields) {
      if (f.name.length > 256 || f.value.length > 1_024 || !f.value) return `embed field ${f.name}: name ≤ 256, value 1–1024 characters`;
      total += f.name.length + f.value.length;
    }
    const footer = (e.footer as { text?: string } | undefined)?.text ?? "";
    if (footer.length > 2_048) return "embed footer: at most 2048";
    total += title.length + description.length + footer.length;
  }
  if (total > 6_000) return "embeds: at most 6000 characters together";
  const rows = (b.components ?? []) as FakeDiscordMessage["components"];
  if (rows.length > 5) return "components: at most 5 rows";
  for (const row of rows) {
    if (row.type !== 1 || row.components.length > 5) return "components: action rows of at most 5";
    for (const c of row.components) {
      if (c.custom_id !== undefined && (c.custom_id.length < 1 || c.custom_id.length > 100)) return "custom_id: 1–100 characters";
      if (c.label !== undefined && c.label.length > 80) return "button label: at most 80";
    }
  }
  return null;
}

export async function startFakeDiscord(): Promise<FakeDiscord> {
  return new FakeDiscord().listen();
}
