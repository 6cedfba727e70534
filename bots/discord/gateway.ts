import { WebSocketManager, WebSocketShardEvents } from "@discordjs/ws";
import { DiscordAPIError, GatewayDispatchEvents, Routes, type APIInteraction, type APIInteractionResponse, type GatewayDispatchPayload, type REST } from "discord.js";
import type { Redis } from "ioredis";
import type { Logger } from "../../src/log.ts";
import { Leader } from "../../src/redis/leader.ts";

/**
 * Close codes after which Discord says not to reconnect: the same connection would be refused
 * again, forever (discord.com/developers/docs/topics/opcodes-and-status-codes, "Gateway Close
 * Event Codes"). What each means for an operator.
 */
const FATAL_CLOSE: Readonly<Record<number, string>> = {
  4004: "authentication failed: discord.botToken is wrong or was reset (Developer Portal → Bot → Reset Token, then update it)",
  4010: "invalid shard",
  4011: "sharding required: the bot is in too many servers for one Gateway connection",
  4012: "invalid Gateway API version",
  4013: "invalid intents",
  4014: "disallowed intents: the bot asked for intents not enabled for it in the Developer Portal",
};

/**
 * The bot's Gateway connection, held by one `serve` replica at a time (a Redis lease via
 * Leader): Discord delivers every interaction to one connection, and two replicas answering
 * the same click would both fail on the second callback. The URL comes from GET /gateway/bot
 * on the REST base, so discord.apiUrl points the connection at a proxy or a test fake too.
 * Interactions are not intent-gated, so the bot asks for no intents at all.
 */
export class DiscordGateway {
  private readonly leader: Leader;
  private manager: WebSocketManager | null = null;
  private timer: NodeJS.Timeout | undefined;
  private switching: Promise<void> | null = null;
  /** Why the connection was given up for good (a fatal close code, a refused token); null while it is wanted. */
  private fatal: string | null = null;

  constructor(
    private readonly opts: {
      token: string;
      rest: REST;
      redis: Redis;
      leaseKey: string;
      log: Logger;
      onInteraction: (i: APIInteraction, send: (r: APIInteractionResponse) => Promise<void>) => Promise<void>;
      leaseMs?: number;
    },
  ) {
    this.leader = new Leader(opts.redis, { key: opts.leaseKey, ttlMs: opts.leaseMs ?? 10_000, log: opts.log });
  }

  get connected(): boolean {
    return this.manager !== null;
  }

  /** What stopped the connection for good, for /readyz (null: none). */
  get problem(): string | null {
    return this.fatal;
  }

  /** Returns at once: an unreachable Discord must not hold up `serve` (it keeps retrying every second). */
  async start(): Promise<void> {
    this.leader.start();
    this.timer = setInterval(() => void this.sync(), 1_000);
    this.timer.unref();
    void this.leader.ready().then(() => this.sync());
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.switching;
    await this.disconnect();
    await this.leader.stop();
  }

  /** Connect when this replica holds the lease, let go when it lost it. */
  private sync(): Promise<void> {
    this.switching ??= (async () => {
      try {
        if (this.fatal) return;
        if (this.leader.isLeader && !this.manager) await this.connect();
        else if (!this.leader.isLeader && this.manager) await this.disconnect();
      } catch (err) {
        // A refused token is refused on every attempt: retrying each second only floods the log.
        if (err instanceof DiscordAPIError && err.status === 401) return await this.giveUp(`Discord refused the bot token (401 on ${err.url.replace(/^.*\/api(\/v\d+)?/, "")}): ${FATAL_CLOSE[4004]}`);
        if (this.fatal) return;
        this.opts.log.error({ err: (err as Error).message }, "Discord gateway connection failed; retrying");
        await this.disconnect();
      }
    })().finally(() => {
      this.switching = null;
    });
    return this.switching;
  }

  private async connect(): Promise<void> {
    const { rest, log } = this.opts;
    const manager = new WebSocketManager({ token: this.opts.token, intents: 0, rest, shardCount: 1 });
    manager.on(WebSocketShardEvents.Dispatch, (payload: { data: GatewayDispatchPayload }) => {
      if (payload.data.t !== GatewayDispatchEvents.InteractionCreate) return;
      const interaction = payload.data.d as APIInteraction;
      void this.opts
        .onInteraction(interaction, async (response) => {
          await rest.post(Routes.interactionCallback(interaction.id, interaction.token), { body: response, auth: false });
        })
        .catch((err: unknown) => log.error({ err: (err as Error).message }, "Discord interaction from the gateway failed"));
    });
    manager.on(WebSocketShardEvents.Error, (e: { error: Error }) => {
      if (!this.fatal) log.warn({ err: e.error?.message }, "Discord gateway error");
    });
    manager.on(WebSocketShardEvents.Closed, (e: { code: number }) => {
      const why = FATAL_CLOSE[e.code];
      if (why) void this.giveUp(`Discord closed the Gateway connection with ${e.code}: ${why}`);
    });
    this.manager = manager;
    await manager.connect();
    log.info("Discord gateway connected");
  }

  /**
   * Stops for good, as Discord asks for these failures: one error line, the reason on /readyz,
   * and the lease handed back (another replica, perhaps with a fixed config, may take over).
   * Buttons and /clawgate still work over HTTP interactions if an endpoint URL is set.
   */
  private async giveUp(why: string): Promise<void> {
    if (this.fatal) return;
    this.fatal = `${why}; not reconnecting until serve restarts`;
    this.opts.log.error({ reason: why }, `Discord gateway stopped: ${this.fatal}`);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.disconnect();
    await this.leader.stop();
  }

  private async disconnect(): Promise<void> {
    const m = this.manager;
    this.manager = null;
    if (m) await Promise.resolve(m.destroy({ code: 1000, reason: "clawgate serve stopping or lost its lease" })).catch(() => undefined);
  }
}
