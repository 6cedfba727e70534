import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeTelegram, type FakeTelegram, type TgMessage, type TgUpdate } from "./telegram.ts";

/** The fake answers the Bot API's documented shapes; these tests pin the ones the channel relies on. */
describe("fake Telegram Bot API", () => {
  let tg: FakeTelegram;
  const GROUP = -1001234567890;
  const call = async (method: string, params: Record<string, unknown> = {}, token?: string) => {
    const res = await fetch(`${tg.apiUrl}/bot${token ?? tg.token}/${method}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(params) });
    return { status: res.status, body: (await res.json()) as { ok: boolean; result?: unknown; error_code?: number; description?: string; parameters?: { retry_after?: number } } };
  };

  beforeEach(async () => {
    tg = await startFakeTelegram({ pace: false, callbackAnswerWindowMs: 2_000 });
    tg.addChat({ id: GROUP, type: "supergroup", title: "ops" });
    tg.addChat({ id: 42, type: "private", first_name: "Alice" });
  });
  afterEach(() => tg.close());

  it("answers ok/result, and ok:false with error_code and Telegram's description", async () => {
    expect((await call("getMe")).body).toEqual({ ok: true, result: expect.objectContaining({ is_bot: true, username: "clawgate_test_bot" }) });
    expect(await call("getMe", {}, "1:wrong")).toEqual({ status: 401, body: { ok: false, error_code: 401, description: "Unauthorized" } });
    expect((await call("sendMessage", { chat_id: 5, text: "hi" })).body).toEqual({ ok: false, error_code: 400, description: "Bad Request: chat not found" });
    expect((await call("sendMessage", { chat_id: GROUP, text: "<b>unclosed", parse_mode: "HTML" })).body.description).toMatch(/^Bad Request: can't parse entities/);
    expect((await call("sendMessage", { chat_id: GROUP, text: "a & b", parse_mode: "HTML" })).body.description).toMatch(/Character '&' is reserved/);
    expect((await call("sendMessage", { chat_id: GROUP, text: "x", reply_markup: { inline_keyboard: [[{ text: "A", callback_data: "x".repeat(65) }]] } })).body.description).toBe("Bad Request: BUTTON_DATA_INVALID");
  });

  it("sends with an inline keyboard, edits the text (dropping the keyboard), refuses an unchanged edit", async () => {
    const sent = (await call("sendMessage", { chat_id: GROUP, text: "<b>Approve?</b> rm -rf &lt;dir&gt;", parse_mode: "HTML", reply_markup: { inline_keyboard: [[{ text: "Approve", callback_data: "a:1" }]] } })).body.result as TgMessage;
    expect(sent).toMatchObject({ chat: { id: GROUP }, text: "Approve? rm -rf <dir>", reply_markup: { inline_keyboard: [[{ text: "Approve" }]] } });
    const edited = (await call("editMessageText", { chat_id: GROUP, message_id: sent.message_id, text: "Approved", parse_mode: "HTML" })).body.result as TgMessage;
    expect(edited.reply_markup).toBeUndefined();
    expect(edited.edit_date).toBeGreaterThan(0);
    expect((await call("editMessageText", { chat_id: GROUP, message_id: sent.message_id, text: "Approved" })).body.description).toMatch(/^Bad Request: message is not modified/);
    expect((await call("editMessageText", { chat_id: GROUP, message_id: 999, text: "x" })).body.description).toBe("Bad Request: message to edit not found");
  });

  it("reads form-encoded parameters with JSON-serialised objects, as Telegram does", async () => {
    const res = await fetch(`${tg.apiUrl}/bot${tg.token}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ chat_id: String(GROUP), text: "hello", reply_markup: JSON.stringify({ force_reply: true }) }).toString(),
    });
    expect(await res.json()).toMatchObject({ ok: true, result: { text: "hello", reply_markup: { force_reply: true } } });
  });

  it("long polling: waits for an update, confirms by offset, and a second poller ends the first with 409", async () => {
    const alice = tg.user(42, "Alice");
    const polling = call("getUpdates", { timeout: 5 });
    await new Promise((r) => setTimeout(r, 100));
    tg.userSends(42, alice, "/clawgate pending");
    const first = (await polling).body.result as TgUpdate[];
    expect(first).toHaveLength(1);
    expect(first[0]?.message?.entities).toEqual([{ type: "bot_command", offset: 0, length: 9 }]);
    // Not confirmed yet: comes again; confirmed by offset: gone.
    expect(((await call("getUpdates", {})).body.result as TgUpdate[]).map((u) => u.update_id)).toEqual([first[0]?.update_id]);
    expect((await call("getUpdates", { offset: (first[0]?.update_id ?? 0) + 1 })).body.result).toEqual([]);
    const older = call("getUpdates", { timeout: 5 });
    await new Promise((r) => setTimeout(r, 100));
    const newer = call("getUpdates", { timeout: 1 });
    expect((await older).body).toMatchObject({ ok: false, error_code: 409, description: expect.stringContaining("terminated by other getUpdates request") });
    expect((await newer).body.result).toEqual([]);
  });

  it("privacy mode: a group's chatter is not delivered; commands, replies to the bot and button presses are", async () => {
    const bob = tg.user(43, "Bob");
    tg.userSends(GROUP, bob, "just chatting");
    tg.userSends(GROUP, bob, "/clawgate@other_bot pending");
    tg.userSends(GROUP, bob, "/clawgate@clawgate_test_bot pending");
    const card = (await call("sendMessage", { chat_id: GROUP, text: "card", reply_markup: { inline_keyboard: [[{ text: "Deny", callback_data: "d:1" }]] } })).body.result as TgMessage;
    tg.userSends(GROUP, bob, "because", card);
    const query = tg.pressButton(card, bob, "Deny");
    const updates = (await call("getUpdates", {})).body.result as TgUpdate[];
    expect(updates.map((u) => u.message?.text ?? `press:${u.callback_query?.data}`)).toEqual(["/clawgate@clawgate_test_bot pending", "because", "press:d:1"]);
    expect((await call("answerCallbackQuery", { callback_query_id: query, text: "Denied" })).body.ok).toBe(true);
    expect((await call("answerCallbackQuery", { callback_query_id: query })).body.description).toMatch(/query is too old/);
  });

  it("webhook: delivers with the secret header, redelivers until answered 2xx, and getUpdates is refused meanwhile", async () => {
    const seen: Array<{ secret: string | undefined; update: TgUpdate }> = [];
    let failFirst = true;
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({ secret: req.headers["x-telegram-bot-api-secret-token"] as string | undefined, update: JSON.parse(Buffer.concat(chunks).toString()) as TgUpdate });
        res.writeHead(failFirst ? 500 : 200).end();
        failFirst = false;
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/telegram/webhook`;
      expect((await call("setWebhook", { url, secret_token: "bad secret!" })).body.description).toMatch(/unallowed characters/);
      expect((await call("setWebhook", { url, secret_token: "s3cret_-x" })).body.ok).toBe(true);
      expect((await call("getUpdates", {})).body.error_code).toBe(409);
      tg.userSends(42, tg.user(42, "Alice"), "/clawgate pending");
      await tg.waitFor(() => (tg.deliveries.some((d) => d.status === 200) ? true : undefined), "a delivered update");
      expect(seen.map((s) => s.secret)).toEqual(["s3cret_-x", "s3cret_-x"]);
      expect(seen[0]?.update.update_id).toBe(seen[1]?.update.update_id);
      expect(tg.pendingUpdates).toBe(0);
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });

  it("paces a chat as Telegram does: 429 with retry_after after the burst", async () => {
    const paced = await startFakeTelegram({ pace: { perChatIntervalMs: 1_000, perChatBurst: 2 } });
    try {
      paced.addChat({ id: 1, type: "private", first_name: "A" });
      const send = async () => {
        const res = await fetch(`${paced.apiUrl}/bot${paced.token}/sendMessage`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ chat_id: 1, text: "x" }) });
        return (await res.json()) as { ok: boolean; error_code?: number; parameters?: { retry_after?: number } };
      };
      expect((await send()).ok).toBe(true);
      expect((await send()).ok).toBe(true);
      expect(await send()).toMatchObject({ ok: false, error_code: 429, parameters: { retry_after: expect.any(Number) } });
    } finally {
      await paced.close();
    }
  });
});
