import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/log.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { CUSTOM, REASON_INPUT } from "../../templates/discord.ts";
import { FAKE_APP_ID, FAKE_CHANNEL_ID, FAKE_GUILD_ID, startFakeDiscord, type FakeDiscord, type FakeDiscordMessage } from "../fakes/discord.ts";
import { appKeys, autocomplete, buttonClick, modalSubmit, ping, postInteraction, slashCommand, type Actor, type AppKeys } from "../fakes/discord-interactions.ts";
import { newApproval, silentLog, testConfig, testSigner, savedAlwaysRules } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

const ALICE: Actor = { userId: "444444444444444444" };
const APPROVER_ROLE = "555555555555555555";
const BOB: Actor = { userId: "666666666666666666", roles: ["888888888888888888", APPROVER_ROLE] };
const MALLORY: Actor = { userId: "777777777777777777", roles: ["888888888888888888"] };

type Mode = "http" | "gateway";
interface Reply {
  type: number;
  data?: { content?: string; flags?: number; custom_id?: string; components?: unknown[]; embeds?: Array<{ description?: string }>; choices?: Array<{ value: string }> };
}

let redis: Redis;
let discord: FakeDiscord;
let keys: AppKeys;
let prefix: string;
let svc: RunningService;
let store: ApprovalStore;
let service: ApprovalService;
let mode: Mode;

async function startService(over: Record<string, unknown> = {}, discordOver: Record<string, unknown> = {}) {
  const config = testConfig(prefix, {
    log: { enabled: false },
    server: { port: 0 },
    discord: {
      botToken: discord.botToken,
      applicationId: FAKE_APP_ID,
      publicKey: keys.publicKeyHex,
      guildId: FAKE_GUILD_ID,
      channel: FAKE_CHANNEL_ID,
      approvers: { users: [ALICE.userId], roles: [APPROVER_ROLE] },
      interactions: mode,
      apiUrl: discord.apiUrl,
      ...discordOver,
    },
    ...over,
  });
  svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog });
  if (mode === "gateway") await discord.waitFor(() => (discord.connected ? true : undefined), "the bot's gateway connection");
  return config;
}

const stateOf = async (id: string) => (await store.require(id)).state;
const requestFor = (id: string) => discord.messagesIn(FAKE_CHANNEL_ID).find((m) => m.embeds.some((e) => JSON.stringify(e).includes(id)));

/** What the plugin does on an ask: one script writes the record and its event; serve posts it. */
async function ask(over = {}) {
  const rec = await store.create(newApproval(over));
  const message = await discord.waitFor(() => requestFor(rec.id), `the request for ${rec.id}`);
  return { rec, message: structuredClone(message) };
}

/** Delivers an interaction the way the configured mode does, and returns clawgate's answer. */
async function interact(interaction: Record<string, unknown>): Promise<Reply> {
  if (mode === "http") {
    const res = await postInteraction(`${svc.url}/discord/interactions`, keys, interaction);
    expect(res.status).toBe(200);
    return (await res.json()) as Reply;
  }
  discord.dispatch("INTERACTION_CREATE", interaction);
  return (await discord.waitFor(() => discord.callbacks.get(interaction.id as string), "the interaction callback")) as Reply;
}

const buttons = (m: FakeDiscordMessage) => m.components.flatMap((r) => r.components.map((c) => c.custom_id?.split(":").slice(0, 2).join(":")));

beforeAll(() => {
  redis = connect();
  keys = appKeys();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("discord");
  discord = await startFakeDiscord();
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  service = new ApprovalService(store, silentLog, testSigner);
});
afterEach(async () => {
  await svc?.close();
  await discord.close();
  await deleteKeys(redis, prefix);
});

describe.each(["http", "gateway"] as const)("Discord channel (%s interactions)", (m) => {
  beforeEach(() => {
    mode = m;
  });

  it("posts an embed with Approve / Always allow / Deny; an approver's Approve decides it and every message loses its buttons", async () => {
    await startService();
    const { rec, message } = await ask();
    expect(buttons(message)).toEqual([CUSTOM.approve, CUSTOM.always, CUSTOM.deny]);
    const embed = JSON.stringify(message.embeds[0]);
    for (const fact of ["exec", "main", "agent:main:s1", "telegram:42", "medium", "exec(git push *)", "git push origin main", "Decide by", rec.id]) expect(embed).toContain(fact);
    expect(JSON.stringify(message.components)).toContain("Always allow exec(git push origin main)");

    const reply = await interact(buttonClick(message, `${CUSTOM.approve}:${rec.id}`, ALICE));
    expect(reply.type).toBe(6);
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decision: "allow-once", decidedBy: `discord:${ALICE.userId}`, decidedVia: "discord" });
    await discord.waitFor(() => (discord.messages.get(message.id)?.edited_timestamp ? true : undefined), "the edit");
    const edited = discord.messages.get(message.id) as FakeDiscordMessage;
    expect(edited.components).toEqual([]);
    expect(JSON.stringify(edited.embeds)).toContain(`Approved by <@${ALICE.userId}> via discord`);
  });

  it("Deny opens a modal; its reason is recorded and shown on the edited message", async () => {
    await startService();
    const { rec, message } = await ask();
    const modal = await interact(buttonClick(message, `${CUSTOM.deny}:${rec.id}`, ALICE));
    expect(modal.type).toBe(9);
    expect(modal.data?.custom_id).toBe(`${CUSTOM.denyModal}:${rec.id}`);
    expect(await stateOf(rec.id)).toBe("pending");
    const done = await interact(modalSubmit(modal.data?.custom_id as string, REASON_INPUT, "change freeze", ALICE));
    expect(done.type).toBe(6);
    expect(await store.require(rec.id)).toMatchObject({ state: "denied", decisionReason: "change freeze", decidedBy: `discord:${ALICE.userId}` });
    await discord.waitFor(() => (JSON.stringify(discord.messages.get(message.id)?.embeds).includes("change freeze") ? true : undefined), "the edit with the reason");
  });

  it("/clawgate deny ID \"not now\" denies with that reason; approving it afterwards says who denied it", async () => {
    await startService();
    const { rec } = await ask();
    const pending = await interact(slashCommand("pending", {}, BOB));
    expect(pending.data?.flags).toBe(64);
    expect(pending.data?.content).toContain(rec.id);
    const denied = await interact(slashCommand("deny", { id: rec.id, reason: '"not now"' }, ALICE));
    expect(denied.type).toBe(4);
    expect(denied.data?.flags).toBe(64);
    expect(denied.data?.content).toContain(`denied ${rec.id} as discord:${ALICE.userId}: not now`);
    expect(await store.require(rec.id)).toMatchObject({ state: "denied", decisionReason: "not now", decidedVia: "discord" });
    const late = await interact(slashCommand("approve", { id: rec.id }, BOB));
    expect(late.data?.content).toContain(`already denied by discord:${ALICE.userId} via discord: not now`);
  });

  it("a member with an approver role may approve", async () => {
    await startService();
    const { rec, message } = await ask();
    await interact(buttonClick(message, `${CUSTOM.approve}:${rec.id}`, BOB));
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decidedBy: `discord:${BOB.userId}` });
  });

  it("refuses a non-approver privately, audits it, and leaves the approval pending", async () => {
    await startService();
    const { rec, message } = await ask();
    const reply = await interact(buttonClick(message, `${CUSTOM.approve}:${rec.id}`, MALLORY));
    expect(reply.type).toBe(4);
    expect(reply.data?.flags).toBe(64);
    expect(reply.data?.content).toContain("you are not an approver for this request");
    const deny = await interact(buttonClick(message, `${CUSTOM.deny}:${rec.id}`, MALLORY));
    expect(deny.type).toBe(4);
    const cmd = await interact(slashCommand("approve", { id: rec.id }, MALLORY));
    expect(cmd.data?.content).toContain("you are not an approver for this request");
    expect(await stateOf(rec.id)).toBe("pending");
    await expect
      .poll(async () => (await new AuditLog(redis, { prefix }).read({ limit: 20 })).filter((e) => e.event.type === "refusal" && e.event.actor === `discord:${MALLORY.userId}`).length, { timeout: 3_000 })
      .toBe(3);
  });
});

describe("Discord channel: signatures, delivery, commands", () => {
  beforeEach(() => {
    mode = "http";
  });

  it("answers PING with PONG and refuses forged, tampered, stale, future and unsigned requests with 401, changing nothing", async () => {
    await startService();
    const url = `${svc.url}/discord/interactions`;
    const pong = await postInteraction(url, keys, ping());
    expect(await pong.json()).toEqual({ type: 1 });
    const { rec, message } = await ask();
    const click = buttonClick(message, `${CUSTOM.approve}:${rec.id}`, ALICE);
    const now = Math.floor(Date.now() / 1000);
    expect((await postInteraction(url, keys, click, { signWith: appKeys() })).status).toBe(401);
    expect((await postInteraction(url, keys, buttonClick(message, `${CUSTOM.deny}:${rec.id}`, ALICE), { tamper: true })).status).toBe(401);
    expect((await postInteraction(url, keys, click, { ts: now - 6 * 60 })).status).toBe(401);
    expect((await postInteraction(url, keys, click, { ts: now + 60 })).status).toBe(401);
    expect((await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(click) })).status).toBe(401);
    expect(await stateOf(rec.id)).toBe("pending");
    expect((await new AuditLog(redis, { prefix }).read({ limit: 20 })).filter((e) => e.event.type === "refusal")).toHaveLength(0);
    // The same click, correctly signed, works: the 401s were the signatures.
    expect((await postInteraction(url, keys, click)).status).toBe(200);
    expect(await stateOf(rec.id)).toBe("approved");
  });

  it("a decision made elsewhere edits the message; a later click is told who decided, how and why", async () => {
    await startService();
    const { rec, message } = await ask();
    await service.decide({ id: rec.id, decision: "deny", actor: "slack:U0CAROL", via: "slack", reason: "not today" });
    await discord.waitFor(() => (discord.messages.get(message.id)?.components.length === 0 ? true : undefined), "the edit");
    expect(JSON.stringify(discord.messages.get(message.id)?.embeds)).toContain("Denied by slack:U0CAROL via slack: not today");
    const res = await postInteraction(`${svc.url}/discord/interactions`, keys, buttonClick(message, `${CUSTOM.approve}:${rec.id}`, ALICE));
    const reply = (await res.json()) as Reply;
    expect(reply.data?.flags).toBe(64);
    expect(reply.data?.content).toContain("already denied by slack:U0CAROL via slack: not today");
    const deny = (await (await postInteraction(`${svc.url}/discord/interactions`, keys, buttonClick(message, `${CUSTOM.deny}:${rec.id}`, ALICE))).json()) as Reply;
    expect(deny.type).toBe(4);
    expect(deny.data?.content).toContain("already denied by slack:U0CAROL via slack");
  });

  it("serve starts and keeps retrying when Discord is unreachable", async () => {
    mode = "gateway";
    const started = Date.now();
    svc = await serve({ config: testConfig(prefix, { log: { enabled: false }, server: { port: 0 }, discord: { botToken: "t", applicationId: FAKE_APP_ID, publicKey: keys.publicKeyHex, guildId: FAKE_GUILD_ID, channel: FAKE_CHANNEL_ID, apiUrl: "http://127.0.0.1:9/api" } }), redisUrl: REDIS_URL, log: silentLog });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
  });

  it("retries a Discord 500 and posts the message exactly once", async () => {
    await startService();
    discord.failNext("POST", /^\/channels\/\d+\/messages$/, { status: 500, body: { message: "500: Internal Server Error", code: 0 } });
    const rec = await store.create(newApproval());
    await discord.waitFor(() => requestFor(rec.id), "the retried post", 8_000);
    expect(discord.calls.filter((c) => c.method === "POST" && /^\/channels\/\d+\/messages$/.test(c.path)).map((c) => c.status)).toEqual([500, 200]);
    await new Promise((r) => setTimeout(r, 300));
    expect(discord.messagesIn(FAKE_CHANNEL_ID).filter((m) => JSON.stringify(m.embeds).includes(rec.id))).toHaveLength(1);
  });

  it("waits out a 429's retry_after, then posts once", async () => {
    await startService();
    discord.failNext("POST", /^\/channels\/\d+\/messages$/, { status: 429, body: { message: "You are being rate limited.", retry_after: 1, global: false }, headers: { "retry-after": "1" } });
    const started = Date.now();
    const rec = await store.create(newApproval());
    await discord.waitFor(() => requestFor(rec.id), "the post after the rate limit", 8_000);
    const posts = discord.calls.filter((c) => c.method === "POST" && /^\/channels\/\d+\/messages$/.test(c.path));
    expect(posts.map((c) => c.status)).toEqual([429, 200]);
    expect((posts[1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  for (const global of [false, true]) {
    it(`a ${global ? "global" : "route's"} 429 holds back ${global ? "every Discord call" : "only that route's bucket: edits go on"}`, async () => {
      await startService();
      const { rec } = await ask();
      discord.failNext("POST", /^\/channels\/\d+\/messages$/, { status: 429, body: { message: "You are being rate limited.", retry_after: 2, global }, headers: { "retry-after": "2", ...(global ? { "x-ratelimit-global": "true" } : {}) } });
      const next = await store.create(newApproval({ params: { command: "git push origin next" } }));
      await discord.waitFor(() => discord.calls.find((c) => c.status === 429), "the 429");
      const limitedAt = (discord.calls.find((c) => c.status === 429) as { at: number }).at;
      // serve holds back the route's bucket, or (global) every call of the channel.
      const held = global ? `{${prefix}}:pace:discord:pause` : `{${prefix}}:pace:discord:post:${FAKE_CHANNEL_ID}`;
      await expect.poll(() => redis.pttl(held), { timeout: 1_000 }).toBeGreaterThan(1_000);
      await service.decide({ id: rec.id, decision: "deny", actor: "cli:t", via: "cli", reason: "no" });
      const edit = await discord.waitFor(() => discord.calls.find((c) => c.method === "PATCH" && c.status === 200), "the edit", 8_000);
      if (global) expect(edit.at - limitedAt).toBeGreaterThanOrEqual(1_900);
      else expect(edit.at - limitedAt).toBeLessThan(1_500);
      await discord.waitFor(() => requestFor(next.id), "the post after the rate limit", 8_000);
    });
  }

  it("registers /clawgate for the guild at start with an idempotent bulk overwrite, and autocompletes pending ids", async () => {
    await startService();
    const puts = () => discord.calls.filter((c) => c.method === "PUT" && c.path === `/applications/${FAKE_APP_ID}/guilds/${FAKE_GUILD_ID}/commands`);
    await expect.poll(() => puts().length).toBe(1);
    const [cmd] = discord.commands.get(`${FAKE_APP_ID}/${FAKE_GUILD_ID}`) as Array<{ name: string; options: Array<{ name: string }> }>;
    expect(cmd?.name).toBe("clawgate");
    expect(cmd?.options.map((o) => o.name)).toEqual(["pending", "show", "approve", "deny"]);
    await svc.close();
    await startService();
    await expect.poll(() => puts().length).toBe(2);
    expect(discord.commands.get(`${FAKE_APP_ID}/${FAKE_GUILD_ID}`)).toHaveLength(1);

    const { rec } = await ask();
    const res = await postInteraction(`${svc.url}/discord/interactions`, keys, autocomplete("approve", rec.id.slice(0, 5), ALICE));
    const reply = (await res.json()) as Reply;
    expect(reply.type).toBe(8);
    expect(reply.data?.choices?.map((c) => c.value)).toContain(rec.id);
  });

  it("Always allow asks to confirm the exact rule, then saves it", async () => {
    await startService();
    const { rec, message } = await ask();
    const url = `${svc.url}/discord/interactions`;
    const confirm = (await (await postInteraction(url, keys, buttonClick(message, `${CUSTOM.always}:${rec.id}`, ALICE))).json()) as Reply;
    expect(confirm.data?.flags).toBe(64);
    expect(confirm.data?.content).toContain("exec(git push origin main)");
    expect(await stateOf(rec.id)).toBe("pending");
    const done = (await (await postInteraction(url, keys, buttonClick(message, `${CUSTOM.alwaysConfirm}:${rec.id}`, ALICE))).json()) as Reply;
    expect(done.type).toBe(7);
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decision: "allow-always" });
    expect(await savedAlwaysRules(redis, prefix)).toEqual(["exec(git push origin main)"]);
  });

  it("cuts long params with a Show full params button that answers the approver privately", async () => {
    await startService();
    const { rec, message } = await ask({ params: { command: `echo ${"y".repeat(3_000)}` } });
    expect(buttons(message)).toContain(CUSTOM.params);
    const url = `${svc.url}/discord/interactions`;
    const full = (await (await postInteraction(url, keys, buttonClick(message, `${CUSTOM.params}:${rec.id}`, ALICE))).json()) as Reply;
    expect(full.data?.flags).toBe(64);
    expect((full.data?.embeds ?? []).map((e) => e.description).join("").replace(/\n?```(json\n)?/g, "")).toContain("y".repeat(2_500));
    const refused = (await (await postInteraction(url, keys, buttonClick(message, `${CUSTOM.params}:${rec.id}`, MALLORY))).json()) as Reply;
    expect(refused.data?.content).toContain("only approvers");
  });

  it("puts escalation notes in a thread on the request message", async () => {
    await startService({ escalation: { tiers: [{ after: "1s", notify: ["discord"] }] } });
    const { message } = await ask();
    const note = await discord.waitFor(() => discord.messagesIn(message.id)[0], "the escalation note in the thread", 6_000);
    expect(note.content).toContain("Escalated");
  });

  it("a discord:<user id> target is a DM: Discord refuses it as a channel, and clawgate opens the DM", async () => {
    const dave = "343434343434343434";
    await startService({ escalation: { tiers: [{ after: "1s", notify: [`discord:${dave}`] }] } });
    const { rec } = await ask();
    const dm = await discord.waitFor(() => [...discord.messages.values()].find((m) => m.channel_id !== FAKE_CHANNEL_ID && JSON.stringify(m.embeds).includes(rec.id)), "the DM", 6_000);
    expect(discord.calls.filter((c) => c.path === "/users/@me/channels").map((c) => c.body)).toEqual([{ recipient_id: dave }]);
    expect(discord.calls.some((c) => c.path === `/channels/${dave}/messages` && c.status === 404)).toBe(true);
    expect(buttons(dm)).toContain(CUSTOM.approve);
  });

  it("DMs a person an escalation tier names; they may then approve though not in discord.approvers", async () => {
    const carol = "121212121212121212";
    await startService({ people: { carol: { discord: carol } }, escalation: { tiers: [{ after: "1s", notify: ["carol"] }] } });
    const { rec } = await ask();
    const dm = await discord.waitFor(() => [...discord.messages.values()].find((m) => m.channel_id !== FAKE_CHANNEL_ID && JSON.stringify(m.embeds).includes(rec.id)), "the DM", 6_000);
    const reply = (await (await postInteraction(`${svc.url}/discord/interactions`, keys, buttonClick(dm, `${CUSTOM.approve}:${rec.id}`, { userId: carol, dm: true }))).json()) as Reply;
    expect(reply.type).toBe(6);
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decidedBy: `discord:${carol}` });
    await expect.poll(() => discord.calls.filter((c) => c.method === "PATCH" && c.path.startsWith("/channels/")).length, { timeout: 3_000 }).toBe(2);
  });
});

describe("Discord channel: gateway connection", () => {
  beforeEach(() => {
    mode = "gateway";
  });

  it("resumes after a dropped socket and still answers a click sent meanwhile", async () => {
    await startService();
    const { rec, message } = await ask();
    discord.dropSocket();
    const click = buttonClick(message, `${CUSTOM.approve}:${rec.id}`, ALICE);
    discord.dispatch("INTERACTION_CREATE", click);
    await discord.waitFor(() => discord.callbacks.get(click.id as string), "the callback after resuming");
    expect(discord.resumes).toBe(1);
    expect(await stateOf(rec.id)).toBe("approved");
  });

  it("still answers signed HTTP interactions (an endpoint URL set in the portal wins over the Gateway)", async () => {
    await startService();
    const { rec, message } = await ask();
    const url = `${svc.url}/discord/interactions`;
    expect((await postInteraction(url, keys, buttonClick(message, `${CUSTOM.approve}:${rec.id}`, ALICE), { signWith: appKeys() })).status).toBe(401);
    expect(await stateOf(rec.id)).toBe("pending");
    expect((await postInteraction(url, keys, buttonClick(message, `${CUSTOM.approve}:${rec.id}`, ALICE))).status).toBe(200);
    expect(await stateOf(rec.id)).toBe("approved");
  });

  it("holds one bot connection across two serve replicas; the other takes over when the holder stops", async () => {
    await startService();
    const first = svc;
    const second = await serve({ config: testConfig(prefix, { log: { enabled: false }, server: { port: 0 }, discord: { botToken: discord.botToken, applicationId: FAKE_APP_ID, publicKey: keys.publicKeyHex, guildId: FAKE_GUILD_ID, channel: FAKE_CHANNEL_ID, approvers: { users: [ALICE.userId] }, apiUrl: discord.apiUrl } }), redisUrl: REDIS_URL, log: silentLog });
    svc = second;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(discord.identifies).toBe(1);
    // The holder hands its lease back on stop; the other replica connects within a few seconds.
    await first.close();
    await discord.waitFor(() => (discord.identifies === 2 && discord.connected ? true : undefined), "the second replica's connection", 8_000);
    const { rec, message } = await ask();
    const click = buttonClick(message, `${CUSTOM.approve}:${rec.id}`, ALICE);
    discord.dispatch("INTERACTION_CREATE", click);
    await discord.waitFor(() => discord.callbacks.get(click.id as string), "the callback from the new holder");
    expect(await stateOf(rec.id)).toBe("approved");
  });
});
