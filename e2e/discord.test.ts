// Discord end to end: the real OpenClaw gateway with clawgate's plugin, a private Redis, the
// real `clawgate serve` (HTTP interactions, then the Gateway connection) and the Discord fake.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, REPO_ROOT, startGateway, type Gateway } from "./harness/gateway.ts";
import { startPrivateRedis, startServe, type ClawgateServe, type PrivateRedis } from "./harness/services.ts";
import { FAKE_CHANNEL_ID, startFakeDiscord, type FakeDiscord, type FakeDiscordMessage } from "../test/fakes/discord.ts";
import { appKeys, buttonClick, modalSubmit, postInteraction, slashCommand, type AppKeys } from "../test/fakes/discord-interactions.ts";

const TIMEOUT_S = 15;
const ALICE = { userId: "444444444444444444" };
const ROLE = "555555555555555555";
const BOB = { userId: "666666666666666666", roles: [ROLE] };
const MALLORY = { userId: "777777777777777777", roles: [] };

interface Reply {
  type: number;
  data?: { content?: string; flags?: number; custom_id?: string };
}

describe("Discord approvals through a real OpenClaw gateway", () => {
  let redis: PrivateRedis;
  let serve: ClawgateServe;
  let gw: Gateway;
  let db: Redis;
  let discord: FakeDiscord;
  let keys: AppKeys;
  let env: Record<string, string>;
  const prefix = `e2e-dc-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-discord-"));
  const httpConfig = path.join(dir, "clawgate.yaml");
  const gatewayConfig = path.join(dir, "clawgate-gateway.yaml");

  const exec = (command: string) => gw.invoke("e2e_exec", { command });
  const pendingIds = async () => db.zrange(`{${prefix}}:pending`, 0, "-1");
  async function nextPendingId(before: string[]): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const ids = (await pendingIds()).filter((id) => !before.includes(id));
      if (ids[0]) return ids[0];
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("no pending approval appeared");
  }
  const messageFor = (id: string) =>
    discord.waitFor(() => discord.messagesIn(FAKE_CHANNEL_ID).find((m) => JSON.stringify(m.embeds).includes(id)), `the Discord message for ${id}`, 10_000).then((m) => structuredClone(m));
  async function interact(interaction: Record<string, unknown>): Promise<Reply> {
    const res = await postInteraction(`${serve.url}/discord/interactions`, keys, interaction);
    expect(res.status).toBe(200);
    return (await res.json()) as Reply;
  }
  /** The block as written, secrets from the environment, plus the mode under test. */
  function configText(extra: string[]): string {
    return [
      `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }`,
      "log: { enabled: false }",
      "policy:",
      "  mode: default",
      "  shellTools: [exec, bash, process, e2e_exec]",
      '  allow: ["e2e_exec(git status)"]',
      '  ask:   ["e2e_exec(git push *)", "e2e_exec(deploy *)"]',
      `approvals: { timeout: ${TIMEOUT_S}s }`,
      "discord:",
      '  botToken: "${DISCORD_BOT_TOKEN}"',
      '  applicationId: "111111111111111111"',
      '  publicKey: "${DISCORD_PUBLIC_KEY}"',
      '  guildId: "222222222222222222"',
      '  channel: "333333333333333333"',
      `  approvers: { users: ["${ALICE.userId}"], roles: ["${ROLE}"] }`,
      ...extra.map((l) => `  ${l}`),
      "",
    ].join("\n");
  }

  beforeAll(async () => {
    redis = await startPrivateRedis();
    discord = await startFakeDiscord();
    keys = appKeys();
    db = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    db.on("error", () => undefined);
    env = { DISCORD_BOT_TOKEN: discord.botToken, DISCORD_PUBLIC_KEY: keys.publicKeyHex };
    writeFileSync(httpConfig, configText(["interactions: http", `apiUrl: "${discord.apiUrl}"`]));
    writeFileSync(gatewayConfig, configText([`apiUrl: "${discord.apiUrl}"`]));
    serve = await startServe(httpConfig, redis.url, env);
    gw = await startGateway({
      plugins: [fixture("test-tools"), path.join(REPO_ROOT, "plugin")],
      pluginEntries: { "e2e-test-tools": { enabled: true }, clawgate: { enabled: true, config: { configPath: httpConfig } } },
      // No DISCORD_* here: the gateway reads only redis/policy/approvals; serve does the notifying.
      env: { REDIS_URL: redis.url, LOG_LEVEL: "warn" },
    });
  });

  afterAll(async () => {
    db?.disconnect();
    await gw?.stop();
    await serve?.stop();
    await redis?.destroy();
    await discord?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("HTTP: the ask is posted as an embed with buttons; a signed Approve lets the call run within a second; the message loses its buttons", async () => {
    await discord.waitFor(() => discord.commands.get("111111111111111111/222222222222222222"), "the /clawgate registration");
    expect(discord.commands.get("111111111111111111/222222222222222222")).toHaveLength(1);
    const before = await pendingIds();
    const call = exec("git push origin main");
    const id = await nextPendingId(before);
    const message = await messageFor(id);
    expect(message.components[0]?.components.map((c) => c.custom_id)).toEqual([`clawgate:approve:${id}`, `clawgate:always:${id}`, `clawgate:deny:${id}`]);
    const reply = await interact(buttonClick(message, `clawgate:approve:${id}`, ALICE));
    const approvedAt = Date.now();
    expect(reply.type).toBe(6);
    const r = await call;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Date.now() - approvedAt).toBeLessThan(1_000);
    const edited = await discord.waitFor(() => {
      const m = discord.messages.get(message.id) as FakeDiscordMessage;
      return m.edited_timestamp ? m : undefined;
    }, "the edit");
    expect(edited.components).toEqual([]);
    expect(JSON.stringify(edited.embeds)).toContain(`Approved by <@${ALICE.userId}> via discord`);
  });

  it("HTTP: Deny opens a modal; its reason comes back as a 403", async () => {
    const before = await pendingIds();
    const call = exec("deploy payments");
    const id = await nextPendingId(before);
    const message = await messageFor(id);
    const modal = await interact(buttonClick(message, `clawgate:deny:${id}`, ALICE));
    expect(modal.type).toBe(9);
    await interact(modalSubmit(modal.data?.custom_id as string, "reason", "payments freeze until Monday", ALICE));
    const r = await call;
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain("payments freeze until Monday");
  });

  it("HTTP: a non-approver is refused privately and the call keeps waiting; `/clawgate deny ID \"not now\"` then blocks it; approving afterwards says who denied", async () => {
    const before = await pendingIds();
    const call = exec("git push origin release");
    const id = await nextPendingId(before);
    const message = await messageFor(id);
    const refused = await interact(buttonClick(message, `clawgate:approve:${id}`, MALLORY));
    expect(refused.data?.flags).toBe(64);
    expect(refused.data?.content).toContain("not an approver");
    expect(await db.hget(`{${prefix}}:approval:${id}`, "state")).toBe("pending");
    const denied = await interact(slashCommand("deny", { id, reason: '"not now"' }, ALICE));
    expect(denied.data?.content).toContain("not now");
    const r = await call;
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain("not now");
    const late = await interact(slashCommand("approve", { id }, BOB));
    expect(late.data?.content).toContain(`already denied by discord:${ALICE.userId} via discord: not now`);
  });

  it("HTTP: forged, stale and future signatures get 401 and change nothing; a member with the approver role may approve", async () => {
    const before = await pendingIds();
    const call = exec("git push origin hotfix");
    const id = await nextPendingId(before);
    const message = await messageFor(id);
    const click = buttonClick(message, `clawgate:approve:${id}`, BOB);
    const url = `${serve.url}/discord/interactions`;
    const now = Math.floor(Date.now() / 1000);
    expect((await postInteraction(url, keys, click, { signWith: appKeys() })).status).toBe(401);
    expect((await postInteraction(url, keys, click, { ts: now - 301 })).status).toBe(401);
    expect((await postInteraction(url, keys, click, { ts: now + 120 })).status).toBe(401);
    expect(await db.hget(`{${prefix}}:approval:${id}`, "state")).toBe("pending");
    expect((await interact(click)).type).toBe(6);
    expect((await call).status).toBe(200);
  });

  it("Gateway: with the bot connection instead of HTTP, an Approve click lets the call run", async () => {
    await serve.stop();
    serve = await startServe(gatewayConfig, redis.url, env);
    await discord.waitFor(() => (discord.connected ? true : undefined), "the bot's Gateway connection", 10_000);
    // A 500 on the first post is retried: still exactly one message.
    discord.failNext("POST", /^\/channels\/\d+\/messages$/, { status: 500 });
    const before = await pendingIds();
    const call = exec("git push origin gateway");
    const id = await nextPendingId(before);
    const message = await messageFor(id);
    const click = buttonClick(message, `clawgate:approve:${id}`, ALICE);
    discord.dispatch("INTERACTION_CREATE", click);
    const reply = (await discord.waitFor(() => discord.callbacks.get(click.id as string), "the interaction callback")) as Reply;
    expect(reply.type).toBe(6);
    const r = await call;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(discord.messagesIn(FAKE_CHANNEL_ID).filter((m) => JSON.stringify(m.embeds).includes(id))).toHaveLength(1);
  });
});
