// Telegram end to end: the real OpenClaw gateway with clawgate's plugin, a private Redis, the
// real `clawgate serve` (long polling, then a webhook) and the Telegram Bot API fake.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, freePort, REPO_ROOT, startGateway, type Gateway } from "./harness/gateway.ts";
import { clawgate, newAdminSecret, startPrivateRedis, startServe, type ClawgateServe, type PrivateRedis } from "./harness/services.ts";
import { startFakeTelegram, type FakeTelegram, type TgMessage, type TgUser } from "../test/fakes/telegram.ts";

const TIMEOUT_S = 15;
const GROUP = -1001234567890;
const WEBHOOK_SECRET = "e2e-webhook-secret-0123456789abcdef";

describe("Telegram approvals through a real OpenClaw gateway", () => {
  let redis: PrivateRedis;
  let serve: ClawgateServe;
  let gw: Gateway;
  let db: Redis;
  let tg: FakeTelegram;
  let env: Record<string, string>;
  let ALICE: TgUser;
  let BOB: TgUser;
  let MALLORY: TgUser;
  const adminToken = newAdminSecret();
  const prefix = `e2e-tg-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-telegram-"));
  const pollingConfig = path.join(dir, "clawgate.yaml");
  const webhookConfig = path.join(dir, "clawgate-webhook.yaml");

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
  const cardFor = (id: string) =>
    tg.waitFor(() => tg.messagesIn(GROUP).find((m) => m.from?.id === tg.bot.id && m.text?.includes(id) && m.text.includes("Approval needed")), `the Telegram card for ${id}`, 10_000).then((m) => structuredClone(m));
  const current = (m: TgMessage) => tg.messages.get(`${m.chat.id}:${m.message_id}`) as TgMessage;
  const edited = (m: TgMessage) => tg.waitFor(() => (current(m).edit_date ? current(m) : undefined), "the card's edit", 10_000);
  const answerTo = (queryId: string) => tg.waitFor(() => tg.callbackAnswers.find((a) => a.id === queryId), "the callback answer", 10_000);
  const botReplyTo = (m: TgMessage) => tg.waitFor(() => tg.messagesIn(m.chat.id).find((r) => r.from?.id === tg.bot.id && r.reply_to_message?.message_id === m.message_id), "the bot's reply", 10_000);
  const hasKeyboard = (m: TgMessage) => Boolean(m.reply_markup && "inline_keyboard" in m.reply_markup);

  /** The block docs/telegram.md shows, secrets from the environment, plus the update mode under test. */
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
      `server: { apiToken: "${adminToken}" }`,
      "telegram:",
      '  botToken: "${TELEGRAM_BOT_TOKEN}"',
      `  chat: "${GROUP}"`,
      `  approvers: [${ALICE.id}, ${BOB.id}]`,
      `  apiUrl: "${tg.apiUrl}"`,
      ...extra.map((l) => `  ${l}`),
      "",
    ].join("\n");
  }

  beforeAll(async () => {
    redis = await startPrivateRedis();
    tg = await startFakeTelegram();
    tg.addChat({ id: GROUP, type: "supergroup", title: "ops approvals" });
    ALICE = tg.user(111111, "Alice", "alice");
    BOB = tg.user(222222, "Bob", "bob");
    MALLORY = tg.user(333333, "Mallory", "mallory");
    db = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    db.on("error", () => undefined);
    env = { TELEGRAM_BOT_TOKEN: tg.token };
    writeFileSync(pollingConfig, configText(["updates: polling", "pollTimeout: 5"]));
    serve = await startServe(pollingConfig, redis.url, env);
    gw = await startGateway({
      plugins: [fixture("test-tools"), path.join(REPO_ROOT, "plugin")],
      pluginEntries: { "e2e-test-tools": { enabled: true }, clawgate: { enabled: true, config: { configPath: pollingConfig } } },
      // No TELEGRAM_* here: the gateway reads only redis/policy/approvals; serve does the notifying.
      env: { REDIS_URL: redis.url, LOG_LEVEL: "warn" },
      // The gateway's cold start is slow on a busy 2-core machine.
      readyTimeoutMs: 150_000,
    });
  });

  afterAll(async () => {
    db?.disconnect();
    await gw?.stop();
    await serve?.stop();
    await redis?.destroy();
    await tg?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("polling: the ask is a card with buttons; an approver's Approve lets the call run and the card loses its keyboard", async () => {
    await tg.waitFor(() => (tg.callsTo("getUpdates").length ? true : undefined), "serve's first getUpdates", 10_000);
    const before = await pendingIds();
    const call = exec("git push origin main");
    const id = await nextPendingId(before);
    const card = await cardFor(id);
    expect(hasKeyboard(card)).toBe(true);
    const q = tg.pressButton(card, ALICE, "✅ Approve");
    const r = await call;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await answerTo(q)).text).toContain(`Approved ${id}`);
    const done = await edited(card);
    expect(hasKeyboard(done)).toBe(false);
    expect(done.text).toContain(`Approved by telegram:${ALICE.id} via telegram`);
  });

  it("polling: Deny asks for the reason with ForceReply; the reply comes back to the agent as a 403", async () => {
    const before = await pendingIds();
    const call = exec("deploy payments");
    const id = await nextPendingId(before);
    const card = await cardFor(id);
    tg.pressButton(card, ALICE, /Deny/);
    const prompt = await tg.waitFor(() => tg.messagesIn(GROUP).find((m) => m.text?.includes(id) && m.reply_markup !== undefined && "force_reply" in m.reply_markup), "the ForceReply prompt", 10_000);
    tg.userSends(GROUP, ALICE, "payments freeze until Monday", prompt);
    const r = await call;
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain("payments freeze until Monday");
    expect((await edited(card)).text).toContain("payments freeze until Monday");
  });

  it("polling: a non-approver is refused with an alert and the call keeps waiting; `/clawgate@bot deny` in the group then blocks it", async () => {
    const before = await pendingIds();
    const call = exec("git push origin release");
    const id = await nextPendingId(before);
    const card = await cardFor(id);
    const refused = await answerTo(tg.pressButton(card, MALLORY, "✅ Approve"));
    expect(refused).toMatchObject({ show_alert: true });
    expect(refused.text).toContain("not an approver");
    expect(await db.hget(`{${prefix}}:approval:${id}`, "state")).toBe("pending");
    const cmd = tg.userSends(GROUP, BOB, `/clawgate@${tg.bot.username} deny ${id} "not now"`);
    expect((await botReplyTo(cmd)).text).toContain(`denied ${id} as telegram:${BOB.id}: not now`);
    const r = await call;
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain("not now");
    expect(hasKeyboard(await edited(card))).toBe(false);
  });

  it("polling: decided elsewhere (the CLI) → the Telegram card is edited to say so", async () => {
    const before = await pendingIds();
    const call = exec("git push origin hotfix");
    const id = await nextPendingId(before);
    const card = await cardFor(id);
    const cli = await clawgate(["approve", id, "--reason", "hotfix reviewed"], { REDIS_URL: redis.url, CLAWGATE_URL: serve.url, CLAWGATE_TOKEN: adminToken, CLAWGATE_CONFIG: pollingConfig, XDG_CONFIG_HOME: path.join(dir, "xdg") });
    expect(cli.code, cli.stderr).toBe(0);
    expect((await call).status).toBe(200);
    const done = await edited(card);
    expect(hasKeyboard(done)).toBe(false);
    expect(done.text).toContain("Approved by api:admin via api: hotfix reviewed");
  });

  it("webhook: serve sets the webhook with its secret; a button press arrives by POST and lets the call run; a request without the secret is refused", async () => {
    await serve.stop();
    const port = await freePort();
    writeFileSync(webhookConfig, configText(["updates: webhook", `webhookUrl: "http://127.0.0.1:${port}/telegram/webhook"`, `webhookSecret: "${WEBHOOK_SECRET}"`]));
    serve = await startServe(webhookConfig, redis.url, env, { port });
    await tg.waitFor(() => (tg.webhook?.secret === WEBHOOK_SECRET ? true : undefined), "setWebhook with the secret", 10_000);
    const before = await pendingIds();
    const call = exec("git push origin webhook");
    const id = await nextPendingId(before);
    const card = await cardFor(id);
    const forged = await fetch(`${serve.url}/telegram/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "guessed-secret-0000000000" },
      body: JSON.stringify({ update_id: 1, callback_query: { id: "1", from: MALLORY, message: card, chat_instance: "1", data: `cg:a:${id}` } }),
    });
    expect(forged.status).toBe(401);
    expect(await db.hget(`{${prefix}}:approval:${id}`, "state")).toBe("pending");
    tg.pressButton(card, BOB, "✅ Approve");
    const r = await call;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    // The press came by webhook, with the secret, and was answered 200.
    expect(await tg.waitFor(() => tg.deliveries.at(-1), "the webhook delivery")).toMatchObject({ status: 200, secret: WEBHOOK_SECRET });
    expect((await edited(card)).text).toContain(`Approved by telegram:${BOB.id} via telegram`);
  });
});
