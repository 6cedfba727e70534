import { REST, type APIInteraction, type APIInteractionResponse } from "discord.js";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DiscordChannel } from "../../bots/discord/index.ts";
import { answer } from "../../bots/discord/respond.ts";
import { failedPostLeft, type ApprovalContext } from "../../src/channel/adapter.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { InboundDecisions } from "../../src/inbound/decisions.ts";
import { FAKE_APP_ID, FAKE_CHANNEL_ID, FAKE_GUILD_ID, startFakeDiscord, type FakeDiscord } from "../fakes/discord.ts";
import { appKeys, buttonClick, slashCommand } from "../fakes/discord-interactions.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let discord: FakeDiscord;
let prefix: string;

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("discord-delivery");
  discord = await startFakeDiscord();
});
afterEach(async () => {
  await discord.close();
  await deleteKeys(redis, prefix);
});

describe("answering within Discord's 3 s", () => {
  const slow = (r: APIInteractionResponse, ms: number) => new Promise<APIInteractionResponse>((resolve) => setTimeout(() => resolve(r), ms));

  it("defers a slow click (type 6) and sends the answer as an ephemeral follow-up", async () => {
    const rest = new REST({ version: "10", api: discord.apiUrl, retries: 0 }).setToken(discord.botToken);
    const sent: APIInteractionResponse[] = [];
    const click = buttonClick({ id: "1" } as never, "clawgate:approve:ap_x", { userId: "444444444444444444" }) as unknown as APIInteraction;
    await answer({ interaction: click, work: slow({ type: 4, data: { content: "late answer", flags: 64 } }, 150), send: async (r) => void sent.push(r), rest, applicationId: FAKE_APP_ID, log: silentLog, deadlineMs: 30 });
    expect(sent).toEqual([{ type: 6 }]);
    expect(discord.webhookCalls).toEqual([expect.objectContaining({ method: "POST", token: click.token, target: "followup", body: expect.objectContaining({ content: "late answer", flags: 64 }) })]);
  });

  it("defers a slow command (type 5, ephemeral) and edits the original answer", async () => {
    const rest = new REST({ version: "10", api: discord.apiUrl, retries: 0 }).setToken(discord.botToken);
    const sent: APIInteractionResponse[] = [];
    const cmd = slashCommand("pending", {}, { userId: "444444444444444444" }) as unknown as APIInteraction;
    await answer({ interaction: cmd, work: slow({ type: 4, data: { content: "list", flags: 64 } }, 150), send: async (r) => void sent.push(r), rest, applicationId: FAKE_APP_ID, log: silentLog, deadlineMs: 30 });
    expect(sent).toEqual([{ type: 5, data: { flags: 64 } }]);
    expect(discord.webhookCalls).toEqual([expect.objectContaining({ method: "PATCH", target: "@original", body: expect.objectContaining({ content: "list" }) })]);
  });

  it("answers directly when the work is quick", async () => {
    const rest = new REST({ version: "10", api: discord.apiUrl, retries: 0 }).setToken(discord.botToken);
    const sent: APIInteractionResponse[] = [];
    const cmd = slashCommand("pending", {}, { userId: "444444444444444444" }) as unknown as APIInteraction;
    await answer({ interaction: cmd, work: Promise.resolve({ type: 4, data: { content: "now" } }), send: async (r) => void sent.push(r), rest, applicationId: FAKE_APP_ID, log: silentLog });
    expect(sent).toEqual([{ type: 4, data: { content: "now" } }]);
    expect(discord.webhookCalls).toEqual([]);
  });
});

describe("a post interrupted before its ref was saved", () => {
  it("is not duplicated by the retry (enforce_nonce) and is found by its marker", async () => {
    const config = testConfig(prefix, {
      log: { enabled: false },
      discord: { botToken: discord.botToken, applicationId: FAKE_APP_ID, publicKey: appKeys().publicKeyHex, guildId: FAKE_GUILD_ID, channel: FAKE_CHANNEL_ID, interactions: "http", apiUrl: discord.apiUrl },
    });
    const store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
    const channel = new DiscordChannel({ config, log: silentLog, decisions: new InboundDecisions(new ApprovalService(store, silentLog, testSigner), config) });
    const record = await store.create(newApproval());
    const ctx: ApprovalContext = { record, refs: [], config, log: silentLog };
    const recipient = { channel: "discord", target: FAKE_CHANNEL_ID };
    const marker = { refKey: `discord|${FAKE_CHANNEL_ID}|0`, nonce: "5f0e7f7e-9a53-4a51-9a43-1f0e0f6a7d11", at: Date.now() };
    const first = await channel.post(ctx, recipient, "request", 0, marker);
    const retried = await channel.post(ctx, recipient, "request", 0, marker);
    expect(retried).toEqual(first);
    expect(discord.messagesIn(FAKE_CHANNEL_ID)).toHaveLength(1);
    expect(await channel.find(ctx, recipient, "request", 0, marker)).toEqual(first);
    expect(await channel.find(ctx, recipient, "request", 0, { ...marker, nonce: "another" })).toBeNull();
  });

  it("is found under 250 newer messages, paging forward from the intent's time; a DM to a user target is found without knowing the person", async () => {
    const { channel, ctx } = await discordChannel();
    const marker = { refKey: `discord|${FAKE_CHANNEL_ID}|0`, nonce: "b7c1d2e3-0000-4000-8000-000000000001", at: Date.now() };
    const card = await channel.post(ctx, { channel: "discord", target: FAKE_CHANNEL_ID }, "request", 0, marker);
    for (let i = 0; i < 250; i++) discord.postAsUser(FAKE_CHANNEL_ID, "444444444444444444", `chatter ${i}`);
    const before = discord.calls.length;
    expect(await channel.find(ctx, { channel: "discord", target: FAKE_CHANNEL_ID }, "request", 0, marker)).toEqual(card);
    // The card is among the first 100 after the intent's time: one page read.
    const reads = discord.calls.slice(before).filter((c) => c.method === "GET");
    expect(reads).toHaveLength(1);

    // A nonce nobody posted: pages forward through all 251 (3 pages), then stops.
    const none = discord.calls.length;
    expect(await channel.find(ctx, { channel: "discord", target: FAKE_CHANNEL_ID }, "request", 0, { ...marker, nonce: "never-posted" })).toBeNull();
    expect(discord.calls.slice(none).filter((c) => c.method === "GET")).toHaveLength(3);

    // `discord:<user id>` (a person's DM, or a target that is a user): the update job knows only the target.
    const user = "555555555555555555";
    const dmMarker = { ...marker, refKey: `discord|${user}|0`, nonce: "b7c1d2e3-0000-4000-8000-000000000002" };
    const dm = await channel.post(ctx, { channel: "discord", target: user, person: "bob" }, "request", 0, dmMarker);
    expect(dm).toMatchObject({ dm: true });
    const fresh = await discordChannel();
    expect(await fresh.channel.find(fresh.ctx, { channel: "discord", target: user }, "request", 0, dmMarker)).toEqual(dm);
  });

  it("a failed post says what it may have left: nothing after a refusal or 429, a search after a 500, only later after a gateway error", async () => {
    const { channel, ctx } = await discordChannel();
    const attempt = (status?: number) => {
      if (status) discord.failNext("POST", /\/channels\/\d+\/messages$/, { status, ...(status === 429 ? { body: { message: "You are being rate limited.", retry_after: 1, global: false }, headers: { "retry-after": "1" } } : {}) });
      return channel.post(ctx, { channel: "discord", target: FAKE_CHANNEL_ID }, "request", 0, { refKey: "k", nonce: `n${status ?? 0}`, at: Date.now() }).then(
        () => "posted",
        (err: unknown) => failedPostLeft(err),
      );
    };
    expect(await attempt(403)).toBe("none");
    expect(await attempt(429)).toBe("none");
    expect(await attempt(500)).toBe("now");
    expect(await attempt(502)).toBe("later");
    expect(await attempt()).toBe("posted");
  });

  it("a second copy can be taken back", async () => {
    const { channel, ctx } = await discordChannel();
    const ref = await channel.post(ctx, { channel: "discord", target: FAKE_CHANNEL_ID }, "request", 0, { refKey: "k", nonce: "n", at: Date.now() });
    await channel.retract?.(ctx, ref);
    expect(discord.messagesIn(FAKE_CHANNEL_ID)).toEqual([]);
  });
});

async function discordChannel() {
  const config = testConfig(prefix, {
    log: { enabled: false },
    discord: { botToken: discord.botToken, applicationId: FAKE_APP_ID, publicKey: appKeys().publicKeyHex, guildId: FAKE_GUILD_ID, channel: FAKE_CHANNEL_ID, interactions: "http", apiUrl: discord.apiUrl },
  });
  const store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  const channel = new DiscordChannel({ config, log: silentLog, decisions: new InboundDecisions(new ApprovalService(store, silentLog, testSigner), config) });
  const ctx: ApprovalContext = { record: await store.create(newApproval()), refs: [], config, log: silentLog };
  return { channel, ctx };
}
