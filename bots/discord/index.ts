import { createHash, type KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { DiscordAPIError, REST, RESTJSONErrorCodes, Routes, type APIChannel, type APIInteraction, type APIInteractionResponse, type APIMessage } from "discord.js";
import { z } from "zod";
import type { Recipient } from "../../src/approvals/events.ts";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import { BadRequestError } from "../../src/errors.ts";
import type { Logger } from "../../src/log.ts";
import { readBody, sendJson, type Router } from "../../src/http/router.ts";
import { CLOCK_SKEW_MS, INTENT_SETTLE_MS } from "../../queue/jobs.ts";
import { outcomeMessage, requestMessage, threadName, threadNote } from "../../templates/discord.ts";
import { assertMaySend, type ApprovalContext, type ChannelAdapter, type ChannelDeps, type ChannelPacing, type MessageRef, type NotifyKind, type PostMarker } from "../../src/channel/adapter.ts";
import { clawgateCommand } from "./commands.ts";
import { discordCall } from "./errors.ts";
import { DiscordGateway } from "./gateway.ts";
import { DiscordInteractions } from "./interactions.ts";
import { answer } from "./respond.ts";
import { discordPublicKey, verifyDiscordSignature } from "./verify.ts";

type DiscordConfig = NonNullable<ClawgateConfig["discord"]>;

const discordRefSchema = z.object({
  channel: z.string().min(1),
  message: z.string().min(1),
  /** A reminder or escalation note in the request's thread (or reply, in a DM): never edited. */
  thread: z.boolean().optional(),
  /** Posted in a direct message, where threads do not exist. */
  dm: z.boolean().optional(),
});
type DiscordRef = z.infer<typeof discordRefSchema>;

/** GET /channels/{id}/messages takes at most 100 per page; pages read per search. */
const FIND_PAGE_SIZE = 100;
const FIND_MAX_PAGES = 10;

/** Discord's epoch (2015-01-01): a snowflake's top 42 bits are ms since then. */
const DISCORD_EPOCH = 1_420_070_400_000n;

/** The smallest snowflake of a time (ms): `after` it lists messages from then on. */
function snowflakeAt(ms: number): bigint {
  const t = BigInt(Math.max(0, Math.floor(ms))) - DISCORD_EPOCH;
  return t > 0n ? t << 22n : 0n;
}

function snowflakeTime(id: bigint): number {
  return Number((id >> 22n) + DISCORD_EPOCH);
}

/** Discord's message nonce holds at most 25 characters; the marker's UUID is hashed down to that. */
export function shortNonce(nonce: string): string {
  return createHash("sha256").update(nonce).digest("hex").slice(0, 25);
}

/**
 * Discord: embeds with Approve / Always allow / Deny buttons, decisions from clicks, the deny
 * form and `/clawgate` (over the Gateway, or HTTP at /discord/interactions), and edits of
 * every posted message once the approval is final.
 */
export class DiscordChannel implements ChannelAdapter {
  readonly name = "discord";
  readonly pacing: ChannelPacing = {
    buckets: {
      // Discord's per-route bucket for creating messages allows 5 per 5 s per channel. A steady
      // 1/s (rather than a burst of 5 then a pause) lets a higher-priority post go next within a
      // second, however many posts wait.
      post: { intervalMs: 1_000 },
      // Editing messages is a route of its own, also bucketed per channel.
      edit: { intervalMs: 1_000, burst: 5 },
    },
    post: (recipient) => ({ bucket: "post", key: recipient.target }),
    edit: (ref) => ((ref as DiscordRef).thread ? null : { bucket: "edit", key: (ref as DiscordRef).channel }),
  };
  readonly refSchema = discordRefSchema;
  private readonly cfg: DiscordConfig;
  private readonly rest: REST;
  private readonly log: Logger;
  private readonly interactions: DiscordInteractions;
  private readonly publicKey: KeyObject;
  private readonly gateway: DiscordGateway | null;
  private readonly maxBodyBytes: number;
  private readonly dmChannels = new Map<string, string>();
  private registering: Promise<void> | undefined;

  constructor(deps: ChannelDeps) {
    this.cfg = deps.config.discord as DiscordConfig;
    this.log = deps.log.child({ channel: "discord" });
    this.maxBodyBytes = deps.config.server.maxBodyBytes;
    // The queue does the retrying (backoff, per-channel pauses on 429), not the client.
    this.rest = new REST({ version: "10", retries: 0, rejectOnRateLimit: () => true, ...(this.cfg.apiUrl ? { api: this.cfg.apiUrl } : {}) }).setToken(this.cfg.botToken);
    this.publicKey = discordPublicKey(this.cfg.publicKey);
    this.interactions = new DiscordInteractions({ decisions: deps.decisions, approvers: this.cfg.approvers, log: this.log });
    const store = deps.decisions.service.store;
    this.gateway =
      this.cfg.interactions === "gateway"
        ? new DiscordGateway({ token: this.cfg.botToken, rest: this.rest, redis: store.redis, leaseKey: store.k.leader("discord-gateway"), log: this.log, onInteraction: (i, send) => this.answer(i, send) })
        : null;
  }

  /**
   * Served in both modes: once an Interactions Endpoint URL is set in the portal Discord uses it
   * instead of the Gateway, so a deployment left on `gateway` keeps working. Every request is
   * signature-checked either way.
   */
  routes(router: Router): void {
    router.on("POST", "/discord/interactions", (req, res) => this.handleHttp(req, res));
  }

  /** Registers `/clawgate` for the guild (a bulk overwrite: the same on every start) and joins the Gateway. */
  async start(): Promise<void> {
    // In the background: an unreachable Discord must not hold up `serve` (posts retry on their own).
    this.registering = this.rest
      .put(Routes.applicationGuildCommands(this.cfg.applicationId, this.cfg.guildId), { body: [clawgateCommand()] })
      .then(() => this.log.info({ guild: this.cfg.guildId }, "registered /clawgate for the Discord server"))
      .catch((err: unknown) => {
        // Buttons still work without the command; say loudly what to fix.
        this.log.error({ err: (err as Error).message, guild: this.cfg.guildId }, "could not register /clawgate for the Discord server (is the bot invited with the applications.commands scope?)");
      });
    await this.gateway?.start();
  }

  async stop(): Promise<void> {
    await this.registering;
    await this.gateway?.stop();
  }

  problem(): string | null {
    return this.gateway?.problem ?? null;
  }

  private answer(interaction: APIInteraction, send: (r: APIInteractionResponse) => Promise<void>): Promise<void> {
    return answer({ interaction, work: this.interactions.handle(interaction), send, rest: this.rest, applicationId: this.cfg.applicationId, log: this.log });
  }

  /** POST /discord/interactions: verify (refusals change nothing), then answer within 3 s. */
  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, this.maxBodyBytes);
    verifyDiscordSignature({ publicKey: this.publicKey, rawBody: raw, signature: header(req, "x-signature-ed25519"), timestamp: header(req, "x-signature-timestamp") });
    let interaction: APIInteraction;
    try {
      interaction = JSON.parse(raw.toString("utf8")) as APIInteraction;
    } catch {
      throw new BadRequestError("Discord interaction body is not valid JSON");
    }
    if (typeof interaction !== "object" || interaction === null || typeof interaction.type !== "number") throw new BadRequestError("Discord interaction has no type");
    await this.answer(interaction, async (response) => sendJson(res, 200, response));
  }

  /** The request message already posted to this target, for threading reminders and escalation notes. */
  private parent(ctx: ApprovalContext, target: string): DiscordRef | undefined {
    return ctx.refs.find((r) => r.target === target && !(r.ref as DiscordRef).thread)?.ref as DiscordRef | undefined;
  }

  async post(ctx: ApprovalContext, recipient: Recipient, kind: NotifyKind, _tier: number, marker: PostMarker): Promise<MessageRef> {
    const nonce = shortNonce(marker.nonce);
    const parent = kind === "request" ? undefined : this.parent(ctx, recipient.target);
    if (parent) {
      const note = threadNote(ctx.record, kind);
      const body = { ...note, content: `${note.content}\n-# ref ${nonce}`, nonce, enforce_nonce: true };
      if (parent.dm) {
        const msg = await this.send(parent.channel, { ...body, message_reference: { message_id: parent.message, fail_if_not_exists: false } }, marker);
        return { channel: parent.channel, message: msg.id, thread: true, dm: true } satisfies DiscordRef;
      }
      const thread = await this.thread(parent, ctx);
      const msg = await this.send(thread, body, marker);
      return { channel: thread, message: msg.id, thread: true } satisfies DiscordRef;
    }
    // `enforce_nonce`: a create retried with the same nonce (within minutes) returns the message
    // already created instead of a second one — the crash-between-post-and-save case.
    const body = { ...requestMessage(ctx.record, nonce), nonce, enforce_nonce: true };
    const { channel, dm } = await this.destination(recipient);
    try {
      const msg = await this.send(channel, body, marker);
      return { channel, message: msg.id, ...(dm ? { dm } : {}) } satisfies DiscordRef;
    } catch (err) {
      // `discord:<id>` may name a user rather than a channel: Discord says which by refusing it.
      if (dm || !isCode(err, RESTJSONErrorCodes.UnknownChannel) || recipient.target === this.cfg.channel) throw err;
      const dmChannel = await this.openDm(recipient.target);
      const msg = await this.send(dmChannel, body, marker);
      return { channel: dmChannel, message: msg.id, dm: true } satisfies DiscordRef;
    }
  }

  /**
   * Looks for the message posted with this marker, by the ref in its footer or text: the channel's
   * (or thread's) messages after a snowflake made from the intent's time less the clock skew,
   * oldest pages first, 100 at a time for at most FIND_MAX_PAGES pages (1,000 messages), stopping
   * at the intent's settling time plus the skew. A `discord:<id>` target Discord does not know as a
   * channel is a user: their DM is searched, as post() falls back to it.
   */
  async find(ctx: ApprovalContext, recipient: Recipient, kind: NotifyKind, _tier: number, marker: PostMarker): Promise<MessageRef | null> {
    const nonce = shortNonce(marker.nonce);
    const parent = kind === "request" ? undefined : this.parent(ctx, recipient.target);
    if (parent) {
      const channel = parent.dm ? parent.channel : parent.message;
      const id = await this.search(ctx, channel, nonce, marker);
      return typeof id === "string" ? ({ channel, message: id, thread: true, ...(parent.dm ? { dm: true } : {}) } satisfies DiscordRef) : null;
    }
    const { channel, dm } = await this.destination(recipient);
    const id = await this.search(ctx, channel, nonce, marker);
    if (typeof id === "string") return { channel, message: id, ...(dm ? { dm } : {}) } satisfies DiscordRef;
    if (id === null || dm || recipient.target === this.cfg.channel) return null;
    let dmChannel: string;
    try {
      dmChannel = await this.openDm(recipient.target);
    } catch (err) {
      if (isCode(err, RESTJSONErrorCodes.UnknownUser)) return null;
      throw err;
    }
    const inDm = await this.search(ctx, dmChannel, nonce, marker);
    return typeof inDm === "string" ? ({ channel: dmChannel, message: inDm, dm: true } satisfies DiscordRef) : null;
  }

  /** The id of the message carrying `nonce` in `channel`, null if none, undefined if Discord knows no such channel. */
  private async search(ctx: ApprovalContext, channel: string, nonce: string, marker: PostMarker): Promise<string | null | undefined> {
    const end = marker.at + INTENT_SETTLE_MS + CLOCK_SKEW_MS;
    let after = snowflakeAt(marker.at - CLOCK_SKEW_MS);
    for (let page = 0; page < FIND_MAX_PAGES; page++) {
      let messages: APIMessage[];
      try {
        const query = new URLSearchParams({ after: String(after), limit: String(FIND_PAGE_SIZE) });
        messages = (await discordCall(() => this.rest.get(Routes.channelMessages(channel), { query }))) as APIMessage[];
      } catch (err) {
        if (isCode(err, RESTJSONErrorCodes.UnknownChannel)) return undefined;
        throw err;
      }
      const hit = messages.find((m) => m.content.includes(`ref ${nonce}`) || m.embeds.some((e) => e.footer?.text.endsWith(`ref ${nonce}`)));
      if (hit) return hit.id;
      // Each page is the oldest FIND_PAGE_SIZE after `after`, newest first: go on from its newest.
      const newest = messages.reduce((max, m) => (BigInt(m.id) > max ? BigInt(m.id) : max), after);
      if (messages.length < FIND_PAGE_SIZE || snowflakeTime(newest) > end) return null;
      after = newest;
    }
    ctx.log.warn({ refKey: marker.refKey, pages: FIND_MAX_PAGES }, "message not found within the pages searched; the channel is busier than the search covers");
    return null;
  }

  async update(ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    const r = ref as DiscordRef;
    if (r.thread) return;
    await discordCall(() => this.rest.patch(Routes.channelMessage(r.channel, r.message), { body: outcomeMessage(ctx.record) }));
  }

  async retract(_ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    const r = ref as DiscordRef;
    await discordCall(() => this.rest.delete(Routes.channelMessage(r.channel, r.message)));
  }

  /** Creates a message; `marker`'s send budget is checked right before the request. */
  private send(channel: string, body: object, marker: PostMarker): Promise<APIMessage> {
    assertMaySend(marker);
    return discordCall(() => this.rest.post(Routes.channelMessages(channel), { body })) as Promise<APIMessage>;
  }

  /** The thread on the request message (its id is the message's), created on first use. */
  private async thread(parent: DiscordRef, ctx: ApprovalContext): Promise<string> {
    try {
      const t = (await discordCall(() => this.rest.post(Routes.threads(parent.channel, parent.message), { body: { name: threadName(ctx.record), auto_archive_duration: 1440 } }))) as APIChannel;
      return t.id;
    } catch (err) {
      if (isCode(err, RESTJSONErrorCodes.ThreadAlreadyCreatedForMessage)) return parent.message;
      throw err;
    }
  }

  /** The configured channel, a person's DM, or a `discord:<id>` target (tried as a channel first). */
  private async destination(recipient: Recipient): Promise<{ channel: string; dm: boolean }> {
    if (recipient.person) return { channel: await this.openDm(recipient.target), dm: true };
    const known = this.dmChannels.get(recipient.target);
    return known ? { channel: known, dm: true } : { channel: recipient.target, dm: false };
  }

  private async openDm(userId: string): Promise<string> {
    let dm = this.dmChannels.get(userId);
    if (!dm) {
      const ch = (await discordCall(() => this.rest.post(Routes.userChannels(), { body: { recipient_id: userId } }))) as APIChannel;
      dm = ch.id;
      this.dmChannels.set(userId, dm);
    }
    return dm;
  }
}

function isCode(err: unknown, code: number): boolean {
  const cause = (err as { cause?: unknown }).cause ?? err;
  return cause instanceof DiscordAPIError ? cause.code === code : err instanceof DiscordAPIError && err.code === code;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
