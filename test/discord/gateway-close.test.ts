import { Writable } from "node:stream";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { FAKE_APP_ID, FAKE_CHANNEL_ID, FAKE_GUILD_ID, startFakeDiscord, type FakeDiscord } from "../fakes/discord.ts";
import { appKeys, type AppKeys } from "../fakes/discord-interactions.ts";
import { testConfig } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let discord: FakeDiscord;
let keys: AppKeys;
let prefix: string;
let svc: RunningService | undefined;
let lines: Array<Record<string, unknown>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startService(botToken = discord.botToken): Promise<RunningService> {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const config = testConfig(prefix, {
    log: { enabled: false },
    server: { port: 0 },
    discord: { botToken, applicationId: FAKE_APP_ID, publicKey: keys.publicKeyHex, guildId: FAKE_GUILD_ID, channel: FAKE_CHANNEL_ID, approvers: { users: ["444444444444444444"] }, interactions: "gateway", apiUrl: discord.apiUrl },
  });
  svc = await serve({ config, redisUrl: REDIS_URL, log: pino({ level: "info" }, sink) });
  return svc;
}

const readyz = async () => (await (await fetch(`${svc?.url}/readyz`)).json()) as { ok: boolean; problems?: string[] };
const errors = () => lines.filter((l) => Number(l.level) >= 50 && /Discord/.test(String(l.msg)));

beforeAll(() => {
  redis = connect();
  keys = appKeys();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("discord-close");
  discord = await startFakeDiscord();
  lines = [];
});
afterEach(async () => {
  await svc?.close();
  svc = undefined;
  await discord.close();
  await deleteKeys(redis, prefix);
});

describe("Discord Gateway close codes Discord says not to retry", () => {
  // 4004 authentication failed, 4010 invalid shard, 4011 sharding required, 4012 invalid API
  // version, 4013 invalid intents, 4014 disallowed intents.
  for (const code of [4004, 4010, 4011, 4012, 4013, 4014]) {
    it(`${code}: one connection, one error line, no reconnect loop, and /readyz says why`, async () => {
      discord.closeOnIdentify = code;
      await startService();
      await discord.waitFor(() => (discord.connections >= 1 ? true : undefined), "the first connection");
      await sleep(3_500);
      expect(discord.connections, "Gateway connections in 3.5 s").toBe(1);
      expect(errors().map((l) => l.msg)).toEqual([expect.stringMatching(new RegExp(`^Discord gateway stopped: Discord closed the Gateway connection with ${code}: .*; not reconnecting until serve restarts$`))]);
      const body = await readyz();
      expect(body.ok, "HTTP interactions and the other channels still work").toBe(true);
      expect(body.problems).toEqual([expect.stringContaining(`discord: Discord closed the Gateway connection with ${code}`)]);
    });
  }

  it("a token the REST API refuses (401 on /gateway/bot) stops the same way instead of retrying every second", async () => {
    await startService("wrong.token");
    await discord.waitFor(() => (discord.calls.some((c) => c.path.endsWith("/gateway/bot")) ? true : undefined), "the gateway lookup");
    await sleep(3_500);
    expect(discord.calls.filter((c) => c.path.endsWith("/gateway/bot")).length).toBe(1);
    expect(discord.connections).toBe(0);
    expect(errors().map((l) => l.msg)).toEqual([
      expect.stringMatching(/could not register \/clawgate/),
      expect.stringMatching(/^Discord gateway stopped: Discord refused the bot token \(401 on \/gateway\/bot\): authentication failed/),
    ]);
    expect((await readyz()).problems).toEqual([expect.stringMatching(/^discord: Discord refused the bot token/)]);
  });

  it("an ordinary close (4000 unknown error) is still resumed", async () => {
    await startService();
    await discord.waitFor(() => (discord.connected ? true : undefined), "the connection");
    discord.closeOnIdentify = null;
    discord.dropSocket();
    await discord.waitFor(() => (discord.connected && discord.connections === 2 ? true : undefined), "the reconnection", 8_000);
    expect(errors()).toEqual([]);
    expect((await readyz()).problems).toBeUndefined();
  });
});
