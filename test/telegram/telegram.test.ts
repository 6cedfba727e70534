import { createServer } from "node:net";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/log.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { startFakeTelegram, type FakeTelegram, type TgMessage, type TgUser } from "../fakes/telegram.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

const GROUP = -1001234567890;
const SECRET = "telegram-test-secret_0123456789";

type Mode = "polling" | "webhook";

let redis: Redis;
let tg: FakeTelegram;
let prefix: string;
let svc: RunningService | undefined;
let store: ApprovalStore;
let service: ApprovalService;
let ALICE: TgUser;
let BOB: TgUser;
let MALLORY: TgUser;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function startService(mode: Mode, over: Record<string, unknown> = {}, telegramOver: Record<string, unknown> = {}) {
  const port = mode === "webhook" ? await freePort() : 0;
  const config = testConfig(prefix, {
    log: { enabled: false },
    server: { port },
    telegram: {
      botToken: tg.token,
      chat: String(GROUP),
      approvers: [String(ALICE.id), String(BOB.id)],
      updates: mode,
      pollTimeout: 1,
      apiUrl: tg.apiUrl,
      ...(mode === "webhook" ? { webhookSecret: SECRET, webhookUrl: `http://127.0.0.1:${port}/telegram/webhook` } : {}),
      ...telegramOver,
    },
    ...over,
  });
  svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog });
  if (mode === "webhook") await tg.waitFor(() => (tg.webhook ? true : undefined), "setWebhook");
  else await tg.waitFor(() => (tg.callsTo("getUpdates").length > 0 ? true : undefined), "the first getUpdates");
  return config;
}

const keyboard = (m: TgMessage | undefined) => (m?.reply_markup && "inline_keyboard" in m.reply_markup ? m.reply_markup.inline_keyboard.flat().map((b) => b.text) : []);
const cardFor = (id: string, chat = GROUP) => tg.messagesIn(chat).find((m) => m.from?.id === tg.bot.id && m.text?.includes(id) && m.text.includes("Approval needed"));
const current = (m: TgMessage) => tg.messages.get(`${m.chat.id}:${m.message_id}`) as TgMessage;
const answerTo = (queryId: string) => tg.waitFor(() => tg.callbackAnswers.find((a) => a.id === queryId), "the callback answer");
const botReplyTo = (m: TgMessage) => tg.waitFor(() => tg.messagesIn(m.chat.id).find((r) => r.from?.id === tg.bot.id && r.reply_to_message?.message_id === m.message_id), "the bot's reply");
const edited = (m: TgMessage, timeoutMs = 5_000) => tg.waitFor(() => (current(m).edit_date ? current(m) : undefined), "the card's edit", timeoutMs);
const refusals = async (actor: string) => (await new AuditLog(redis, { prefix }).read({ limit: 50 })).filter((e) => e.event.type === "refusal" && e.event.actor === actor);

async function ask(over = {}, chat = GROUP) {
  const rec = await store.create(newApproval(over));
  const card = await tg.waitFor(() => cardFor(rec.id, chat), `the card for ${rec.id}`);
  return { rec, card: structuredClone(card) };
}

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("telegram");
  tg = await startFakeTelegram();
  tg.addChat({ id: GROUP, type: "supergroup", title: "ops" });
  ALICE = tg.user(111, "Alice", "alice");
  BOB = tg.user(222, "Bob", "bob");
  MALLORY = tg.user(333, "Mallory", "mallory");
  for (const u of [ALICE, BOB, MALLORY]) tg.addChat({ id: u.id, type: "private", first_name: u.first_name });
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  service = new ApprovalService(store, silentLog, testSigner);
});
afterEach(async () => {
  await svc?.close();
  svc = undefined;
  await tg.close();
  await deleteKeys(redis, prefix);
});

describe.each(["polling", "webhook"] as const)("Telegram channel (%s)", (mode) => {
  it("posts a card with Approve / Always allow / Deny; an approver's Approve decides it and the card loses its keyboard", async () => {
    await startService(mode);
    const { rec, card } = await ask();
    expect(keyboard(card)).toEqual(["✅ Approve", "♾ Always allow", "⛔ Deny…"]);
    for (const fact of ["exec", "main", "agent:main:s1", "telegram:42", "medium", "git push origin main", "Decide by", rec.id]) expect(card.text).toContain(fact);
    const q = tg.pressButton(card, ALICE, "✅ Approve");
    expect((await answerTo(q)).text).toContain(`Approved ${rec.id}`);
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decision: "allow-once", decidedBy: `telegram:${ALICE.id}`, decidedVia: "telegram" });
    const done = await edited(card);
    expect(keyboard(done)).toEqual([]);
    expect(done.text).toContain(`Approved by telegram:${ALICE.id} via telegram`);
  });

  it("Deny asks for the reason with ForceReply; the approver's reply is the reason", async () => {
    await startService(mode);
    const { rec, card } = await ask();
    const q = tg.pressButton(card, ALICE, /Deny/);
    expect((await answerTo(q)).text).toContain("Reply to my message with the reason");
    const prompt = await tg.waitFor(() => tg.messagesIn(GROUP).find((m) => m.reply_markup && "force_reply" in m.reply_markup), "the ForceReply prompt");
    expect(prompt.text).toContain(rec.id);
    expect(prompt.reply_to_message?.message_id).toBe(card.message_id);
    expect((await store.require(rec.id)).state).toBe("pending");
    // Someone else answering the prompt decides nothing.
    const other = tg.userSends(GROUP, MALLORY, "sure, deny it", prompt);
    expect((await botReplyTo(other)).text).toContain("this prompt is for the approver who pressed Deny");
    tg.userSends(GROUP, ALICE, "change freeze", prompt);
    const done = await edited(card);
    expect(await store.require(rec.id)).toMatchObject({ state: "denied", decisionReason: "change freeze", decidedBy: `telegram:${ALICE.id}` });
    expect(done.text).toContain("change freeze");
    expect(keyboard(done)).toEqual([]);
  });

  it("a non-approver is refused with an alert and audited; the approval stays pending", async () => {
    await startService(mode);
    const { rec, card } = await ask();
    const a = await answerTo(tg.pressButton(card, MALLORY, "✅ Approve"));
    expect(a).toMatchObject({ show_alert: true });
    expect(a.text).toContain("you are not an approver for this request");
    const d = await answerTo(tg.pressButton(card, MALLORY, /Deny/));
    expect(d.text).toContain("you are not an approver for this request");
    const cmd = tg.userSends(GROUP, MALLORY, `/clawgate approve ${rec.id}`);
    expect((await botReplyTo(cmd)).text).toContain("you are not an approver for this request");
    expect((await store.require(rec.id)).state).toBe("pending");
    expect(tg.messagesIn(GROUP).some((m) => m.reply_markup && "force_reply" in m.reply_markup)).toBe(false);
    await expect.poll(async () => (await refusals(`telegram:${MALLORY.id}`)).length, { timeout: 3_000 }).toBe(3);
  });

  it("/clawgate@bot commands in the group: pending lists it, approve decides it and the card is edited", async () => {
    await startService(mode);
    const { rec, card } = await ask();
    const pending = tg.userSends(GROUP, BOB, `/clawgate@${tg.bot.username} pending`);
    expect((await botReplyTo(pending)).text).toContain(rec.id);
    // A command addressed to another bot is not ours (privacy mode does not even deliver it).
    tg.userSends(GROUP, BOB, `/clawgate@other_bot approve ${rec.id}`);
    const approve = tg.userSends(GROUP, BOB, `/clawgate approve ${rec.id} looks fine`);
    expect((await botReplyTo(approve)).text).toContain(`approved ${rec.id} as telegram:${BOB.id}: looks fine`);
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decidedBy: `telegram:${BOB.id}`, decisionReason: "looks fine" });
    expect((await edited(card)).text).toContain(`Approved by telegram:${BOB.id} via telegram: looks fine`);
  });

  it("a decision made elsewhere edits the card; a later press is told who decided", async () => {
    await startService(mode);
    const { rec, card } = await ask();
    await service.decide({ id: rec.id, decision: "deny", actor: "slack:U0CAROL", via: "slack", reason: "not today" });
    const done = await edited(card);
    expect(done.text).toContain("Denied by slack:U0CAROL via slack: not today");
    expect(keyboard(done)).toEqual([]);
    const late = await answerTo(tg.press(card, ALICE, `cg:a:${rec.id}`));
    expect(late.text).toContain("already denied by slack:U0CAROL via slack: not today");
  });
});

describe("Telegram channel", () => {
  it("Always allow approves and saves the request's rule", async () => {
    await startService("polling");
    const { rec, card } = await ask();
    const a = await answerTo(tg.pressButton(card, ALICE, /Always allow/));
    expect(a.text).toContain(`saved rule exec(git push origin main)`);
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decision: "allow-always" });
    expect((await edited(card)).text).toContain("Saved rule: exec(git push origin main)");
  });

  it("the Telegram user who started the agent run cannot approve it, even as an approver; they may deny it", async () => {
    // newApproval's requester is telegram:42: an OpenClaw chat sender on Telegram, the same user id the bot sees.
    const requester = tg.user(42, "Riley", "riley");
    await startService("polling", {}, { approvers: [String(ALICE.id), "42"] });
    const { rec, card } = await ask();
    const refused = await answerTo(tg.pressButton(card, requester, "✅ Approve"));
    expect(refused).toMatchObject({ show_alert: true });
    expect(refused.text).toContain("you asked for this call yourself");
    expect((await store.require(rec.id)).state).toBe("pending");
    const cmd = tg.userSends(GROUP, requester, `/clawgate deny ${rec.id} changed my mind`);
    expect((await botReplyTo(cmd)).text).toContain(`denied ${rec.id} as telegram:42: changed my mind`);
  });

  it("/clawgate in a private chat: deny with a reason, show, and a usage hint for anything else", async () => {
    await startService("polling");
    const { rec, card } = await ask();
    const hint = tg.userSends(ALICE.id, ALICE, "hello");
    expect((await botReplyTo(hint)).text).toContain("/clawgate pending");
    const deny = tg.userSends(ALICE.id, ALICE, `/clawgate deny ${rec.id} "not now"`);
    expect((await botReplyTo(deny)).text).toContain(`denied ${rec.id} as telegram:${ALICE.id}: not now`);
    const show = tg.userSends(ALICE.id, ALICE, `/clawgate show ${rec.id}`);
    expect((await botReplyTo(show)).text).toContain(`${rec.id}: denied by telegram:${ALICE.id} via telegram (not now)`);
    expect((await edited(card)).text).toContain("not now");
  });

  it("webhook requests without the secret token, or with another, are refused with 401 and audited; the update decides nothing", async () => {
    await startService("webhook");
    const { rec, card } = await ask();
    const url = `${svc!.url}/telegram/webhook`;
    const update = { update_id: 1, callback_query: { id: "q1", from: ALICE, message: card, chat_instance: "1", data: `cg:a:${rec.id}` } };
    const missing = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(update) });
    expect(missing.status).toBe(401);
    const wrong = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": `${SECRET}x` }, body: JSON.stringify(update) });
    expect(wrong.status).toBe(401);
    expect((await store.require(rec.id)).state).toBe("pending");
    await expect.poll(async () => (await refusals("telegram:webhook")).map((e) => e.event.reason), { timeout: 3_000 }).toEqual(["no X-Telegram-Bot-Api-Secret-Token"]);
    // The same update with the secret decides (the 401s were the secret); sent twice, it acts once.
    const good = { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }, body: JSON.stringify(update) };
    expect((await fetch(url, good)).status).toBe(200);
    expect((await fetch(url, good)).status).toBe(200);
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decidedBy: `telegram:${ALICE.id}` });
    expect(tg.deliveries.every((d) => d.secret === SECRET && d.status === 200)).toBe(true);
  });

  it("polling deletes a webhook left set, and one replica of two polls; the other takes over when it stops", async () => {
    await tg.waitFor(() => true);
    tg.webhook = { url: "http://127.0.0.1:9/telegram/webhook" };
    await startService("polling");
    expect(tg.callsTo("deleteWebhook").length).toBeGreaterThan(0);
    expect(tg.webhook).toBeNull();
    const first = svc as RunningService;
    const config = testConfig(prefix, { log: { enabled: false }, server: { port: 0 }, telegram: { botToken: tg.token, chat: String(GROUP), approvers: [String(ALICE.id)], pollTimeout: 1, apiUrl: tg.apiUrl } });
    const second = await serve({ config, redisUrl: REDIS_URL, log: silentLog });
    try {
      // Two pollers would end each other's getUpdates with 409 Conflict; the lease keeps it to one.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(tg.callsTo("getUpdates").filter((c) => !c.ok)).toEqual([]);
      await first.close();
      svc = undefined;
      const { rec, card } = await ask();
      await answerTo(tg.pressButton(card, ALICE, "✅ Approve"));
      expect((await store.require(rec.id)).state).toBe("approved");
    } finally {
      await second.close();
    }
  }, 20_000);

  it("waits out a 429's retry_after, then posts the card once", async () => {
    await startService("polling");
    tg.failNext("sendMessage", { error_code: 429, description: "Too Many Requests: retry after 1", parameters: { retry_after: 1 } });
    const started = Date.now();
    const rec = await store.create(newApproval());
    await tg.waitFor(() => cardFor(rec.id), "the card after the rate limit", 8_000);
    expect(tg.callsTo("sendMessage").map((c) => c.errorCode ?? 200)).toEqual([429, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(tg.messagesIn(GROUP).filter((m) => m.text?.includes(rec.id))).toHaveLength(1);
  });

  it("retries a Bot API 500 and posts the card exactly once", async () => {
    await startService("polling");
    tg.failNext("sendMessage", { error_code: 500, description: "Internal Server Error" });
    const rec = await store.create(newApproval());
    await tg.waitFor(() => cardFor(rec.id), "the retried card", 8_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(tg.messagesIn(GROUP).filter((m) => m.text?.includes(rec.id))).toHaveLength(1);
  });

  it("telegram:<user id> in an escalation tier DMs that user with the card; they may then decide though not an approver", async () => {
    const carol = tg.user(444, "Carol", "carol");
    tg.addChat({ id: carol.id, type: "private", first_name: "Carol" });
    await startService("polling", { escalation: { tiers: [{ after: "1s", notify: [`telegram:${carol.id}`] }] } });
    const { rec, card } = await ask();
    const dm = await tg.waitFor(() => cardFor(rec.id, carol.id), "the card in Carol's DM", 8_000);
    await answerTo(tg.pressButton(dm, carol, "✅ Approve"));
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decidedBy: `telegram:${carol.id}` });
    // Every card of the approval is edited, in the group and in the DM.
    expect(keyboard(await edited(card))).toEqual([]);
    expect(keyboard(await edited(dm))).toEqual([]);
  }, 15_000);

  it("a person's telegram id reaches them by DM, with reminders replying to their card", async () => {
    const dave = tg.user(555, "Dave", "dave");
    tg.addChat({ id: dave.id, type: "private", first_name: "Dave" });
    await startService("polling", { people: { dave: { telegram: String(dave.id), prefer: ["telegram"] } }, escalation: { tiers: [{ after: "1s", notify: ["dave"] }, { after: "1s", notify: ["dave"] }] } });
    const { rec } = await ask();
    const dm = await tg.waitFor(() => cardFor(rec.id, dave.id), "the card in Dave's DM", 8_000);
    const note = await tg.waitFor(() => tg.messagesIn(dave.id).find((m) => m.reply_to_message?.message_id === dm.message_id), "the escalation note replying to the card", 8_000);
    expect(note.text).toContain(`Escalated: ${rec.id}`);
  }, 15_000);

  it("secrets in params and reasons never reach Telegram", async () => {
    await startService("polling");
    const token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    const { rec, card } = await ask({ params: { command: `curl -H 'Authorization: token ${token}' https://api.github.com` } });
    expect(card.text).not.toContain(token);
    const cmd = tg.userSends(GROUP, ALICE, `/clawgate deny ${rec.id} leaked ${token}`);
    await botReplyTo(cmd);
    const done = await edited(card);
    expect(done.text).not.toContain(token);
    expect(tg.calls.some((c) => JSON.stringify(c.params).includes(token))).toBe(false);
  });
});
