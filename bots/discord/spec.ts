import { z } from "zod";
import { defineChannel } from "../spec.ts";

const snowflake = (what: string) => z.string().regex(/^\d{15,22}$/, `use the numeric Discord ${what} id (Developer Mode → Copy ID)`);

const discordConfig = z.strictObject({
  botToken: z.string().min(1, "set the Discord bot token, e.g. \"${DISCORD_BOT_TOKEN}\""),
  applicationId: snowflake("application").describe("application id (General Information → Application ID)"),
  publicKey: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "set the application's public key (64 hex characters, General Information → Public Key), e.g. \"${DISCORD_PUBLIC_KEY}\"")
    .describe("application public key (hex) that verifies the Ed25519 signature of HTTP interactions"),
  guildId: snowflake("server (guild)").describe("server whose /clawgate command is registered when `serve` starts"),
  channel: snowflake("channel").describe("channel id for approval requests"),
  approvers: z
    .strictObject({
      users: z.array(snowflake("user")).default([]).describe("user ids who may decide"),
      roles: z.array(snowflake("role")).default([]).describe("role ids whose members may decide"),
    })
    .default({ users: [], roles: [] }),
  interactions: z
    .enum(["gateway", "http"])
    .default("gateway")
    .describe("`gateway`: clicks and commands arrive over the bot's Gateway connection (no public URL; one replica holds it); `http`: Discord posts them to POST /discord/interactions"),
  apiUrl: z.string().optional().describe("Discord REST base override, e.g. http://127.0.0.1:PORT/api (tests, proxies); the Gateway URL comes from its GET /gateway/bot"),
});
export type DiscordConfig = z.output<typeof discordConfig>;

export const discordSpec = defineChannel({
  name: "discord",
  label: "Discord",
  config: discordConfig.optional(),
  destinations: (cfg) => [cfg.channel],
  whenOff: "no discord block is configured",
  address: { pattern: /^\d{5,25}$/, expected: "a numeric Discord channel id or user id" },
  person: { describe: "Discord user id" },
  // Channel and user ids look alike; a channel id matches no user, so granting it is harmless.
  grants: () => true,
  requests: true,
  threads: true,
  callbacks: ["/discord/interactions"],
  doctor: async (cfg) => [await (await import("./doctor.ts")).checkDiscord(cfg)],
  load: async () => (await import("./index.ts")).DiscordChannel,
});
