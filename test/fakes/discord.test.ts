import { WebSocketManager, WebSocketShardEvents } from "@discordjs/ws";
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, DiscordAPIError, EmbedBuilder, REST, Routes, type GatewayDispatchPayload } from "discord.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FAKE_APP_ID, FAKE_CHANNEL_ID, FAKE_GUILD_ID, startFakeDiscord, type FakeDiscord } from "./discord.ts";

/** The fake is only useful if Discord's own clients accept it: checked here with @discordjs/rest and @discordjs/ws. */
let fake: FakeDiscord;
let rest: REST;
let manager: WebSocketManager | null = null;

beforeEach(async () => {
  fake = await startFakeDiscord();
  rest = new REST({ version: "10", api: fake.apiUrl, retries: 0 }).setToken(fake.botToken);
});
afterEach(async () => {
  await manager?.destroy();
  manager = null;
  await fake.close();
});

describe("fake Discord REST v10 with @discordjs/rest", () => {
  it("creates, lists and edits a message with an embed and buttons built by the builders", async () => {
    const embed = new EmbedBuilder().setTitle("Approval needed").addFields({ name: "Tool", value: "`exec`" }).toJSON();
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId("x:approve").setLabel("Approve").setStyle(ButtonStyle.Success)).toJSON();
    const msg = (await rest.post(Routes.channelMessages(FAKE_CHANNEL_ID), { body: { content: "hi", embeds: [embed], components: [row] } })) as { id: string; channel_id: string };
    expect(msg.channel_id).toBe(FAKE_CHANNEL_ID);
    expect(fake.messages.get(msg.id)?.components[0]?.components[0]?.custom_id).toBe("x:approve");

    const listed = (await rest.get(Routes.channelMessages(FAKE_CHANNEL_ID))) as Array<{ id: string }>;
    expect(listed.map((m) => m.id)).toEqual([msg.id]);
    await rest.patch(Routes.channelMessage(FAKE_CHANNEL_ID, msg.id), { body: { content: "done", components: [] } });
    expect(fake.messages.get(msg.id)).toMatchObject({ content: "done", components: [] });
    expect(fake.messages.get(msg.id)?.edited_timestamp).not.toBeNull();
  });

  it("pages channel messages with after / before as Discord does (each page newest first), and deletes", async () => {
    const start = BigInt(Date.now() - 1_420_070_400_000) << 22n;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(fake.postAsUser(FAKE_CHANNEL_ID, "444444444444444444", `m${i}`).id);
    // Ids are snowflakes of their time, in order.
    expect(ids.every((id, i) => BigInt(id) >= start && (i === 0 || BigInt(id) > BigInt(ids[i - 1] as string)))).toBe(true);
    const get = (q: Record<string, string>) => rest.get(Routes.channelMessages(FAKE_CHANNEL_ID), { query: new URLSearchParams(q) }) as Promise<Array<{ id: string; content: string }>>;

    // after: the oldest `limit` after the anchor, newest first; go on from the page's newest.
    const forward: string[] = [];
    let after = String(start - 1n);
    for (;;) {
      const page = await get({ after, limit: "3" });
      forward.push(...[...page].reverse().map((m) => m.id));
      if (page.length < 3) break;
      after = page[0]?.id as string;
    }
    expect(forward).toEqual(ids);
    // before: the newest `limit` before it; no anchor: the newest.
    expect((await get({ before: ids[5] as string, limit: "2" })).map((m) => m.content)).toEqual(["m4", "m3"]);
    expect((await get({ limit: "2" })).map((m) => m.content)).toEqual(["m6", "m5"]);
    await expect(get({ limit: "101" })).rejects.toBeInstanceOf(DiscordAPIError);

    await rest.delete(Routes.channelMessage(FAKE_CHANNEL_ID, ids[6] as string));
    expect((await get({ limit: "1" })).map((m) => m.content)).toEqual(["m5"]);
  });

  it("returns the first message for a retried create with the same nonce and enforce_nonce", async () => {
    const a = (await rest.post(Routes.channelMessages(FAKE_CHANNEL_ID), { body: { content: "one", nonce: "n1", enforce_nonce: true } })) as { id: string };
    const b = (await rest.post(Routes.channelMessages(FAKE_CHANNEL_ID), { body: { content: "one", nonce: "n1", enforce_nonce: true } })) as { id: string };
    expect(b.id).toBe(a.id);
    expect(fake.messagesIn(FAKE_CHANNEL_ID)).toHaveLength(1);
  });

  it("answers errors in Discord's JSON shape, which the client turns into DiscordAPIError", async () => {
    const err = await rest.post(Routes.channelMessages("444444444444444444"), { body: { content: "x" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect((err as DiscordAPIError).code).toBe(10003);
    const bad = new REST({ version: "10", api: fake.apiUrl, retries: 0 }).setToken("wrong");
    expect(((await bad.get(Routes.channelMessages(FAKE_CHANNEL_ID)).catch((e: unknown) => e)) as DiscordAPIError).status).toBe(401);
  });

  it("bulk-overwrites guild commands and accepts interaction callbacks with a 204 without content-type", async () => {
    const saved = (await rest.put(Routes.applicationGuildCommands(FAKE_APP_ID, FAKE_GUILD_ID), { body: [{ name: "clawgate", description: "d" }] })) as Array<{ id: string }>;
    expect(saved).toHaveLength(1);
    await rest.put(Routes.applicationGuildCommands(FAKE_APP_ID, FAKE_GUILD_ID), { body: [{ name: "clawgate", description: "d" }] });
    expect(fake.commands.get(`${FAKE_APP_ID}/${FAKE_GUILD_ID}`)).toHaveLength(1);

    const out = await rest.post(Routes.interactionCallback("123456789012345678", "tok"), { body: { type: 6 }, auth: false });
    expect(out).toBeInstanceOf(ArrayBuffer);
    const call = fake.calls.find((c) => c.path.includes("/callback"));
    expect(call?.status).toBe(204);
    const again = await rest.post(Routes.interactionCallback("123456789012345678", "tok"), { body: { type: 6 }, auth: false }).catch((e: unknown) => e);
    expect((again as DiscordAPIError).code).toBe(40060);
  });

  it("sends 429 with retry_after and Retry-After, which the client reports when told to reject", async () => {
    const limited = new REST({ version: "10", api: fake.apiUrl, retries: 0, rejectOnRateLimit: () => true }).setToken(fake.botToken);
    fake.failNext("POST", /\/channels\/\d+\/messages$/, { status: 429, body: { message: "You are being rate limited.", retry_after: 0.25, global: false }, headers: { "retry-after": "0.25" } });
    const err = (await limited.post(Routes.channelMessages(FAKE_CHANNEL_ID), { body: { content: "x" } }).catch((e: unknown) => e)) as { name: string; retryAfter: number };
    expect(err.name).toContain("RateLimitError");
    // The client adds its 50 ms safety offset.
    expect(err.retryAfter).toBeGreaterThanOrEqual(250);
  });
});

describe("fake Discord Gateway with @discordjs/ws", () => {
  async function connect(): Promise<{ dispatches: GatewayDispatchPayload[]; heartbeats: number[] }> {
    const dispatches: GatewayDispatchPayload[] = [];
    const heartbeats: number[] = [];
    manager = new WebSocketManager({ token: fake.botToken, intents: 0, rest, shardCount: 1 });
    manager.on(WebSocketShardEvents.Dispatch, ({ data }) => void dispatches.push(data));
    manager.on(WebSocketShardEvents.HeartbeatComplete, ({ latency }) => void heartbeats.push(latency));
    const ready = new Promise<void>((resolve) => manager?.once(WebSocketShardEvents.Ready, () => resolve()));
    await manager.connect();
    await ready;
    return { dispatches, heartbeats };
  }

  it("HELLO, IDENTIFY, READY, heartbeats acknowledged, then INTERACTION_CREATE in order", async () => {
    fake.heartbeatIntervalMs = 50;
    const { dispatches, heartbeats } = await connect();
    expect(fake.identifies).toBe(1);
    await expect.poll(() => heartbeats.length).toBeGreaterThanOrEqual(2);
    fake.dispatch("INTERACTION_CREATE", { id: "1", type: 3, token: "t1" });
    fake.dispatch("INTERACTION_CREATE", { id: "2", type: 3, token: "t2" });
    await expect.poll(() => dispatches.filter((d) => d.t === "INTERACTION_CREATE").length).toBe(2);
    expect(dispatches.filter((d) => d.t === "INTERACTION_CREATE").map((d) => (d.d as { id: string }).id)).toEqual(["1", "2"]);
    expect(dispatches.map((d) => d.s)).toEqual([...dispatches.map((d) => d.s)].sort((a, b) => a - b));
  });

  it("RESUMEs after a dropped socket and replays what was dispatched meanwhile", async () => {
    const { dispatches } = await connect();
    fake.dropSocket();
    fake.dispatch("INTERACTION_CREATE", { id: "missed", type: 3, token: "t" });
    await expect.poll(() => dispatches.some((d) => d.t === "INTERACTION_CREATE" && (d.d as { id: string }).id === "missed")).toBe(true);
    expect(dispatches.some((d) => d.t === "RESUMED")).toBe(true);
    expect(fake.resumes).toBe(1);
    expect(fake.identifies).toBe(1);
  });
});
