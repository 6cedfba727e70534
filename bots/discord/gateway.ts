import { WebSocketManager, WebSocketShardEvents } from "@discordjs/ws";
import { GatewayDispatchEvents, Routes, type APIInteraction, type APIInteractionResponse, type GatewayDispatchPayload, type REST } from "discord.js";
import type { Redis } from "ioredis";
import type { Logger } from "../../src/log.ts";
import { Leader } from "../../src/server/leader.ts";

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
        if (this.leader.isLeader && !this.manager) await this.connect();
        else if (!this.leader.isLeader && this.manager) await this.disconnect();
      } catch (err) {
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
    manager.on(WebSocketShardEvents.Error, (e: { error: Error }) => log.warn({ err: e.error?.message }, "Discord gateway error"));
    this.manager = manager;
    await manager.connect();
    log.info("Discord gateway connected");
  }

  private async disconnect(): Promise<void> {
    const m = this.manager;
    this.manager = null;
    if (m) await Promise.resolve(m.destroy({ code: 1000, reason: "clawgate serve stopping or lost its lease" })).catch(() => undefined);
  }
}
