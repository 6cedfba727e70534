import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode, LogLevel, WebClient } from "@slack/web-api";
import type { WebClientOptions } from "@slack/web-api";
import { SocketModeClient } from "@slack/socket-mode";
import { App, HTTPReceiver, verifySlackRequest } from "@slack/bolt";
import type { BlockAction, ButtonAction } from "@slack/bolt";
import { startFakeSlack } from "./slack.ts";
import type { FakeSlack } from "./slack.ts";
import { blockActionPayload, clickButton, interactionBody, signSlackRequest, viewSubmissionPayload } from "./slack-signing.ts";

/** The options a client needs so that a job queue, not the client, does the retrying. */
const QUEUE_DRIVEN: WebClientOptions = { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logLevel: LogLevel.ERROR };

/** WebClient logs Slack's `response_metadata.messages` at error level; keep expected refusals quiet. */
const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => LogLevel.ERROR, setName() {} };

const approvalBlocks = (id: string) => [
  { type: "section", text: { type: "mrkdwn", text: `*exec* \`git push origin main\` needs approval (${id})` } },
  {
    type: "actions",
    block_id: `approval:${id}`,
    elements: [
      { type: "button", action_id: "approve", text: { type: "plain_text", text: "Approve" }, style: "primary", value: id },
      { type: "button", action_id: "deny", text: { type: "plain_text", text: "Deny" }, style: "danger", value: id },
    ],
  },
];

let fake: FakeSlack;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeEach(async () => {
  fake = await startFakeSlack({
    users: { U0ALICE: { name: "alice" }, U0BOB: { name: "bob", real_name: "Bob B", tz: "Europe/Berlin" } },
    userGroups: { S0APPROVERS: ["U0ALICE", "U0BOB"] },
  });
});

afterEach(async () => {
  // Clients first (a Socket Mode client would otherwise try to reconnect to the closed fake).
  while (cleanups.length) await cleanups.pop()?.();
  await fake.close();
});

function client(opts: WebClientOptions = {}, token: string = fake.botToken): WebClient {
  return new WebClient(token, { slackApiUrl: fake.apiUrl, ...QUEUE_DRIVEN, logger: quiet, ...opts });
}

describe("fake Slack Web API with the real WebClient", () => {
  it("answers auth.test with Slack's shape and records the bearer token", async () => {
    const res = await client().auth.test();
    expect(res).toMatchObject({ ok: true, url: "https://fake-team.slack.com/", team: "Fake Team", user: "clawgate", team_id: "T0FAKE", user_id: "U0FAKEBOT", bot_id: "B0FAKE" });
    expect(res.response_metadata?.scopes).toContain("chat:write");
    expect(fake.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    expect(fake.callsTo("auth.test")).toEqual([expect.objectContaining({ method: "auth.test", token: fake.botToken, status: 200 })]);
  });

  it("posts, then updates, and `messages` shows the current rendering", async () => {
    const web = client();
    const posted = await web.chat.postMessage({ channel: "C0APPROVALS", text: "approval a1 pending", blocks: approvalBlocks("a1") });
    expect(posted).toMatchObject({ ok: true, channel: "C0APPROVALS", ts: expect.stringMatching(/^\d{10}\.\d{6}$/) });
    expect(posted.message).toMatchObject({ type: "message", bot_id: "B0FAKE", text: "approval a1 pending", ts: posted.ts });

    // The form-encoded `blocks` field arrived JSON-decoded.
    const call = fake.callsTo("chat.postMessage")[0];
    expect(call?.args.blocks).toEqual(approvalBlocks("a1"));
    expect(call?.token).toBe(fake.botToken);

    const msg = fake.message("C0APPROVALS", posted.ts as string);
    expect(msg?.blocks[1]).toMatchObject({ block_id: "approval:a1" });
    expect(typeof msg?.blocks[0]?.block_id).toBe("string"); // Slack generates missing block_ids

    const updated = await web.chat.update({ channel: "C0APPROVALS", ts: posted.ts as string, text: "approved by alice", blocks: [{ type: "section", text: { type: "mrkdwn", text: ":white_check_mark: approved by <@U0ALICE>" } }] });
    expect(updated).toMatchObject({ ok: true, channel: "C0APPROVALS", ts: posted.ts, text: "approved by alice" });
    const after = fake.messages.get(`C0APPROVALS:${posted.ts}`);
    expect(after).toMatchObject({ text: "approved by alice", updates: 1 });
    expect(after?.blocks).toHaveLength(1);
    expect(JSON.stringify(after?.blocks)).toContain("approved by <@U0ALICE>");
    expect(after?.history[0]?.text).toBe("approval a1 pending");

    // Like Slack, an update without blocks keeps the previous blocks.
    await web.chat.update({ channel: "C0APPROVALS", ts: posted.ts as string, text: "approved (edited)" });
    expect(fake.message("C0APPROVALS", posted.ts as string)).toMatchObject({ text: "approved (edited)", updates: 2 });
    expect(fake.message("C0APPROVALS", posted.ts as string)?.blocks).toHaveLength(1);
  });

  it("issues fresh, increasing ts values and supports threads", async () => {
    const web = client();
    const a = await web.chat.postMessage({ channel: "C1", text: "parent" });
    const b = await web.chat.postMessage({ channel: "C1", text: "reply", thread_ts: a.ts as string });
    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
    expect(b.message).toMatchObject({ thread_ts: a.ts });
    expect(fake.message("C1", b.ts as string)?.thread_ts).toBe(a.ts);
    expect(fake.callsTo("chat.postMessage")[1]?.args.thread_ts).toBe(a.ts);
  });

  it("pages conversations.history newest first and conversations.replies oldest first, with Slack's cursors", async () => {
    const web = client();
    const parent = await web.chat.postMessage({ channel: "C1", text: "parent" });
    const posted: string[] = [];
    for (let i = 0; i < 7; i++) posted.push(fake.postAsUser("C1", "U0ALICE", `message ${i}`).ts);
    for (let i = 0; i < 5; i++) fake.postAsUser("C1", "U0BOB", `reply ${i}`, parent.ts as string);
    const top = [parent.ts as string, ...posted];

    // history: 8 top-level messages, 3 a page, newest first; the cursor goes on where the page ended.
    const seen: string[] = [];
    let cursor: string | undefined;
    const pages: Array<{ count: number; has_more: boolean }> = [];
    do {
      const res = await web.conversations.history({ channel: "C1", limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...(res.messages ?? []).map((m) => m.ts as string));
      pages.push({ count: res.messages?.length ?? 0, has_more: res.has_more === true });
      cursor = res.response_metadata?.next_cursor || undefined;
      if (cursor) expect(Buffer.from(cursor, "base64").toString()).toMatch(/^next_ts:\d{16}$/);
    } while (cursor);
    expect(seen).toEqual([...top].reverse());
    expect(pages).toEqual([{ count: 3, has_more: true }, { count: 3, has_more: true }, { count: 2, has_more: false }]);
    // A person's message is listed as theirs, the bot's as the bot's.
    const newest = await web.conversations.history({ channel: "C1", limit: 1 });
    expect(newest.messages?.[0]).toMatchObject({ type: "message", user: "U0ALICE", text: "message 6" });
    expect(newest.messages?.[0]).not.toHaveProperty("bot_id");

    // replies: the parent first, then its replies in order, 4 a page.
    const thread: string[] = [];
    cursor = undefined;
    do {
      const res = await web.conversations.replies({ channel: "C1", ts: parent.ts as string, limit: 4, ...(cursor ? { cursor } : {}) });
      thread.push(...(res.messages ?? []).map((m) => m.text as string));
      cursor = res.response_metadata?.next_cursor || undefined;
    } while (cursor);
    expect(thread).toEqual(["parent", "reply 0", "reply 1", "reply 2", "reply 3", "reply 4"]);

    // oldest/latest bound every page; a cursor that is not Slack's is refused.
    const windowed = await web.conversations.history({ channel: "C1", oldest: posted[1] as string, latest: posted[5] as string, limit: 2 });
    expect(windowed.messages?.map((m) => m.ts)).toEqual([posted[4], posted[3]]);
    const rest = await web.conversations.history({ channel: "C1", oldest: posted[1] as string, latest: posted[5] as string, limit: 2, cursor: windowed.response_metadata?.next_cursor as string });
    expect(rest.messages?.map((m) => m.ts)).toEqual([posted[2]]);
    expect(rest.has_more).toBe(false);
    await expect(web.conversations.history({ channel: "C1", cursor: "bm9wZQ==" })).rejects.toMatchObject({ data: { error: "invalid_cursor" } });
  });

  it("refuses what Slack refuses", async () => {
    const web = client();
    await expect(web.chat.postMessage({ channel: "CBAD123", text: "x" })).rejects.toMatchObject({ code: ErrorCode.PlatformError, data: { error: "channel_not_found" } });
    await expect(web.chat.update({ channel: "C1", ts: "1700000000.999999", text: "x" })).rejects.toMatchObject({ data: { error: "message_not_found" } });
    await expect(web.apiCall("chat.nonsense", {})).rejects.toMatchObject({ data: { error: "unknown_method" } });
    await expect(client({}, "xoxb-wrong").chat.postMessage({ channel: "C1", text: "x" })).rejects.toMatchObject({ data: { error: "invalid_auth" } });
    await expect(client({}, "").auth.test()).rejects.toMatchObject({ data: { error: "not_authed" } });
    await expect(client({}, fake.appToken).auth.test()).rejects.toMatchObject({ data: { error: "not_allowed_token_type" } });

    const long = [{ type: "section", text: { type: "mrkdwn", text: "x".repeat(3001) } }];
    const err = (await web.chat.postMessage({ channel: "C1", text: "x", blocks: long }).catch((e: unknown) => e)) as { data: { error: string; errors: string[] } };
    expect(err.data.error).toBe("invalid_blocks");
    expect(err.data.errors[0]).toContain("[json-pointer:/blocks/0/text/text]");
    expect(fake.messages.size).toBe(0);
    expect(fake.calls.map((c) => c.error)).toEqual(["channel_not_found", "message_not_found", "unknown_method", "invalid_auth", "not_authed", "not_allowed_token_type", "invalid_blocks"]);
  });

  it("accepts JSON bodies (Authorization header) and form bodies with a token field", async () => {
    const json = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${fake.botToken}` },
      body: JSON.stringify({ channel: "C2", text: "hi", blocks: approvalBlocks("j1") }),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);
    expect(json).toMatchObject({ ok: true, channel: "C2" });
    const form = await fetch(`${fake.apiUrl}auth.test`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `token=${fake.botToken}` }).then(
      (r) => r.json() as Promise<Record<string, unknown>>,
    );
    expect(form).toMatchObject({ ok: true });
    expect(fake.calls.map((c) => [c.method, c.token])).toEqual([
      ["chat.postMessage", fake.botToken],
      ["auth.test", fake.botToken],
    ]);
    expect(fake.calls[0]?.args.blocks).toEqual(approvalBlocks("j1"));
  });

  it("opens and updates modals", async () => {
    const web = client();
    const view = { type: "modal" as const, callback_id: "deny_reason", private_metadata: '{"id":"a1"}', title: { type: "plain_text" as const, text: "Deny" }, submit: { type: "plain_text" as const, text: "Deny" }, blocks: [{ type: "input", block_id: "reason", label: { type: "plain_text", text: "Reason" }, element: { type: "plain_text_input", action_id: "text" } }] };
    const opened = await web.views.open({ trigger_id: "12345.98765.abcd2358fdea", view: view as never });
    expect(opened.view).toMatchObject({ id: expect.stringMatching(/^V/), callback_id: "deny_reason", private_metadata: '{"id":"a1"}', type: "modal", state: { values: {} } });
    expect(fake.callsTo("views.open")[0]?.args.view).toEqual(view);
    expect(fake.views.get(opened.view?.id as string)?.callback_id).toBe("deny_reason");

    const updated = await web.views.update({ view_id: opened.view?.id as string, view: { ...view, title: { type: "plain_text", text: "Denied" } } as never });
    expect(updated.view).toMatchObject({ id: opened.view?.id, title: { text: "Denied" } });
    await expect(web.views.open({ trigger_id: "", view: view as never })).rejects.toMatchObject({ data: { error: "invalid_arguments" } });
    await expect(web.views.update({ view_id: "V0NOPE", view: view as never })).rejects.toMatchObject({ data: { error: "not_found" } });
    const { submit: _submit, ...noSubmit } = view;
    await expect(web.views.open({ trigger_id: "1.2.3", view: noSubmit as never })).rejects.toMatchObject({ data: { error: "invalid_arguments" } });
  });

  it("serves usergroups, users, DMs and ephemerals", async () => {
    const web = client();
    expect(await web.usergroups.users.list({ usergroup: "S0APPROVERS" })).toMatchObject({ ok: true, users: ["U0ALICE", "U0BOB"] });
    await expect(web.usergroups.users.list({ usergroup: "S0NOPE" })).rejects.toMatchObject({ data: { error: "no_such_subteam" } });
    expect((await web.users.info({ user: "U0BOB" })).user).toMatchObject({ id: "U0BOB", name: "bob", real_name: "Bob B", tz: "Europe/Berlin" });
    await expect(web.users.info({ user: "U0NOBODY" })).rejects.toMatchObject({ data: { error: "user_not_found" } });

    const dm = await web.conversations.open({ users: "U0ALICE" });
    expect(dm.channel?.id).toMatch(/^D/);
    expect((await web.conversations.open({ users: "U0ALICE" })).channel?.id).toBe(dm.channel?.id);
    // Posting to a user id lands in the same DM, as on Slack.
    const posted = await web.chat.postMessage({ channel: "U0ALICE", text: "psst" });
    expect(posted.channel).toBe(dm.channel?.id);

    const eph = await web.chat.postEphemeral({ channel: "C1", user: "U0BOB", text: "only approvers can decide" });
    expect(eph.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(fake.ephemerals).toEqual([expect.objectContaining({ channel: "C1", user: "U0BOB", text: "only approvers can decide" })]);
  });

  it("waitFor resolves on past and future calls, and times out listing what it saw", async () => {
    const web = client();
    await web.auth.test();
    await expect(fake.waitFor("auth.test")).resolves.toMatchObject({ method: "auth.test" });
    const pending = fake.waitFor("chat.postMessage", (c) => c.args.channel === "C9");
    await web.chat.postMessage({ channel: "C8", text: "not this one" });
    await web.chat.postMessage({ channel: "C9", text: "this one" });
    expect((await pending).args.text).toBe("this one");
    await expect(fake.waitFor("chat.update", undefined, 50)).rejects.toThrow(/no chat\.update call matched within 50 ms; calls seen \(3\):\n {2}auth\.test/);
  });
});

describe("rate limits, as Slack applies them", () => {
  it("answers chat.postMessage faster than one a second per conversation with 429 and Retry-After; other conversations are not held back", async () => {
    const web = client();
    // The default burst of 3 goes at once, the fourth is refused and posts nothing.
    for (const text of ["a", "b", "c"]) await expect(web.chat.postMessage({ channel: "C1", text })).resolves.toMatchObject({ ok: true });
    const refused = (await web.chat.postMessage({ channel: "C1", text: "d" }).catch((e: unknown) => e)) as { code: string; retryAfter: number };
    expect(refused).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 1 });
    expect([...fake.messages.values()].map((m) => m.text)).toEqual(["a", "b", "c"]);
    await expect(web.chat.postMessage({ channel: "C2", text: "elsewhere" })).resolves.toMatchObject({ ok: true });
    // A user id posts into that user's DM: the DM is the conversation the limit counts.
    await expect(web.chat.postMessage({ channel: "U0ALICE", text: "dm" })).resolves.toMatchObject({ ok: true });
    expect(fake.callsTo("chat.postMessage").map((c) => [c.args.channel, c.status, c.error])).toEqual([
      ["C1", 200, undefined],
      ["C1", 200, undefined],
      ["C1", 200, undefined],
      ["C1", 429, "ratelimited"],
      ["C2", 200, undefined],
      ["U0ALICE", 200, undefined],
    ]);
    await new Promise((r) => setTimeout(r, 1_050));
    await expect(web.chat.postMessage({ channel: "C1", text: "e" })).resolves.toMatchObject({ ok: true });
  });

  it("holds a conversation to one post a second after its burst", async () => {
    await fake.close();
    fake = await startFakeSlack({ pace: { postBurst: 1 } });
    const web = client();
    const outcome = async () => (await web.chat.postMessage({ channel: "C1", text: "x" }).then(() => 200, (e: { retryAfter?: number }) => (e.retryAfter ? 429 : 0)));
    expect([await outcome(), await outcome()]).toEqual([200, 429]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect([await outcome(), await outcome()]).toEqual([200, 429]);
  });

  it("limits chat.update per workspace when asked (Tier 3), and not at all by default", async () => {
    const web = client();
    const posted = await web.chat.postMessage({ channel: "C1", text: "x" });
    for (let i = 0; i < 8; i++) await web.chat.update({ channel: "C1", ts: posted.ts as string, text: `v${i}` });
    await fake.close();
    fake = await startFakeSlack({ pace: { updatesPerMinute: 50, updateBurst: 2 } });
    const limited = client();
    const card = await limited.chat.postMessage({ channel: "C1", text: "x" });
    const other = await limited.chat.postMessage({ channel: "C2", text: "y" });
    await limited.chat.update({ channel: "C1", ts: card.ts as string, text: "1" });
    await limited.chat.update({ channel: "C2", ts: other.ts as string, text: "2" });
    // The workspace's budget is spent, whichever conversation the next edit is in.
    await expect(limited.chat.update({ channel: "C1", ts: card.ts as string, text: "3" })).rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 2 });
    expect(fake.message("C1", card.ts as string)?.text).toBe("1");
  });

  it("pace: false turns the limits off", async () => {
    await fake.close();
    fake = await startFakeSlack({ pace: false });
    const web = client();
    for (let i = 0; i < 10; i++) await web.chat.postMessage({ channel: "C1", text: String(i) });
    expect(fake.callsTo("chat.postMessage").every((c) => c.status === 200)).toBe(true);
  });
});

describe("fault injection", () => {
  it("with queue-driven options, a 429 surfaces at once as a rate-limit error carrying retryAfter", async () => {
    fake.failNext("chat.postMessage", [{ status: 429, retryAfter: 7 }]);
    const web = client();
    const started = Date.now();
    await expect(web.chat.postMessage({ channel: "C1", text: "x" })).rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
    expect(Date.now() - started).toBeLessThan(1000);
    // Normal service resumes.
    await expect(web.chat.postMessage({ channel: "C1", text: "x" })).resolves.toMatchObject({ ok: true });
    expect(fake.callsTo("chat.postMessage").map((c) => c.status)).toEqual([429, 200]);
  });

  it("with queue-driven options, 5xx surface as HTTP errors (empty or HTML bodies) and {error} as platform errors", async () => {
    fake.failNext("chat.update", [{ status: 500 }, { status: 503 }, { error: "internal_error" }]);
    const web = client();
    const posted = await web.chat.postMessage({ channel: "C1", text: "x" });
    const upd = () => web.chat.update({ channel: "C1", ts: posted.ts as string, text: "y" });
    await expect(upd()).rejects.toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500, body: "" });
    const e503 = (await upd().catch((e: unknown) => e)) as { code: string; statusCode: number; body: string };
    expect(e503).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 503 });
    expect(e503.body).toContain("<html>");
    await expect(upd()).rejects.toMatchObject({ code: ErrorCode.PlatformError, data: { error: "internal_error" } });
    await expect(upd()).resolves.toMatchObject({ ok: true, text: "y" });
    expect(fake.callsTo("chat.update").map((c) => c.status)).toEqual([500, 503, 200, 200]);
    expect(fake.message("C1", posted.ts as string)?.updates).toBe(1);
  });

  it("a client left with retries retries 5xx by itself (which is why a queue must turn that off)", async () => {
    fake.failNext("chat.postMessage", [{ status: 502 }, { status: 500 }]);
    const web = client({ retryConfig: { retries: 3, minTimeout: 0, maxTimeout: 1 } });
    await expect(web.chat.postMessage({ channel: "C1", text: "x" })).resolves.toMatchObject({ ok: true });
    expect(fake.callsTo("chat.postMessage").map((c) => c.status)).toEqual([502, 500, 200]);
  });

  it("retries: 0 alone is not enough: a 429 stalls the client for Retry-After, then looks like a network error", async () => {
    fake.failNext("chat.postMessage", [{ status: 429, retryAfter: 1 }]);
    const web = client({ rejectRateLimitedCalls: false });
    const started = Date.now();
    const err = (await web.chat.postMessage({ channel: "C1", text: "x" }).catch((e: unknown) => e)) as Error & { retryAfter?: number; code?: string };
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(err.message).toMatch(/rate limit was exceeded/);
    expect(err.retryAfter).toBeUndefined();
    expect(err.code).toBe(ErrorCode.RequestError); // same code as a refused connection
  });

  it("can delay a call (hangMs) to exercise client timeouts", async () => {
    fake.failNext("auth.test", [{ hangMs: 300 }]);
    await expect(client({ timeout: 50 }).auth.test()).rejects.toMatchObject({ code: ErrorCode.RequestError });
    await expect(client().auth.test()).resolves.toMatchObject({ ok: true });
  });

  it("can hold back an answer (answerAfterMs): the post exists at once, the caller hears nothing", async () => {
    fake.failNext("chat.postMessage", [{ answerAfterMs: 60_000 }]);
    const started = Date.now();
    const lost = client({ timeout: 200 }).chat.postMessage({ channel: "C1", text: "first" });
    await expect(lost).rejects.toMatchObject({ code: ErrorCode.RequestError });
    const [call] = fake.callsTo("chat.postMessage");
    expect(call).toMatchObject({ status: 200, answerHeldMs: 60_000 });
    expect(call?.at).toBeLessThan(started + 200);
    expect([...fake.messages.values()].map((m) => m.text)).toEqual(["first"]);
    // Only that one answer was held.
    await expect(client().chat.postMessage({ channel: "C1", text: "second" })).resolves.toMatchObject({ ok: true });
  });

  it("releaseHeld lets held calls proceed at once", async () => {
    fake.failNext("chat.postMessage", [{ hangMs: 60_000 }]);
    const held = client().chat.postMessage({ channel: "C1", text: "late" });
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.messages.size).toBe(0);
    expect(fake.releaseHeld()).toBe(1);
    await expect(held).resolves.toMatchObject({ ok: true });
    expect([...fake.messages.values()].map((m) => m.text)).toEqual(["late"]);
  });
});

describe("response_url", () => {
  it("records what respond() posts and applies replace_original to the linked message", async () => {
    const web = client();
    const posted = await web.chat.postMessage({ channel: "C1", text: "pending", blocks: approvalBlocks("a2") });
    const url = fake.responseUrl("click-1", { channel: "C1", ts: posted.ts as string });
    expect(url).toBe(`${fake.url}/response/click-1`);

    const waiting = fake.waitForResponse("click-1");
    // Exactly what Bolt's respond() sends.
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ response_type: "ephemeral", replace_original: false, text: "only approvers" }) });
    expect(res.status).toBe(200);
    expect((await waiting).body).toEqual({ response_type: "ephemeral", replace_original: false, text: "only approvers" });
    expect(fake.message("C1", posted.ts as string)?.updates).toBe(0);

    await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ replace_original: true, text: "approved", blocks: [{ type: "section", text: { type: "mrkdwn", text: "approved" } }] }) });
    expect(fake.message("C1", posted.ts as string)).toMatchObject({ text: "approved", updates: 1 });
    expect(fake.responses.map((r) => r.id)).toEqual(["click-1", "click-1"]);

    fake.failNext("response_url", [{ status: 500 }]);
    expect((await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })).status).toBe(500);
    await expect(fake.waitForResponse("other", undefined, 30)).rejects.toThrow(/no response_url post to "other"/);
  });
});

describe("Socket Mode with the real SocketModeClient", () => {
  it("connects via apps.connections.open, gets hello, receives an envelope and acks it", async () => {
    const sm = new SocketModeClient({ appToken: fake.appToken, clientOptions: { slackApiUrl: fake.apiUrl }, logLevel: LogLevel.ERROR, autoReconnectEnabled: false });
    cleanups.push(() => sm.disconnect());
    const received: unknown[] = [];
    sm.on("interactive", async ({ ack, body }: { ack: (r?: Record<string, unknown>) => Promise<void>; body: unknown }) => {
      received.push(body);
      await ack({ text: "got it" });
    });
    await sm.start(); // resolves on the fake's hello
    await fake.socketConnected();
    expect(fake.socketCount).toBe(1);
    expect(fake.callsTo("apps.connections.open")).toEqual([expect.objectContaining({ token: fake.appToken, status: 200 })]);

    const payload = blockActionPayload({ userId: "U0ALICE", actionId: "approve", value: "a1", responseUrl: fake.responseUrl("r1") });
    const { envelope_id, ack } = await fake.sendEnvelope("interactive", payload);
    expect(ack).toEqual({ envelope_id, payload: { text: "got it" } });
    expect(received).toEqual([payload]);
    expect(fake.socketMessages).toEqual([ack]);

    await sm.disconnect();
    cleanups.pop();
    expect(fake.socketCount).toBe(0);
    await expect(fake.sendEnvelope("interactive", payload)).rejects.toThrow(/no Socket Mode client connected/);
  });

  it("a disconnect message makes the client reconnect with a fresh ticket", async () => {
    const sm = new SocketModeClient({ appToken: fake.appToken, clientOptions: { slackApiUrl: fake.apiUrl }, logLevel: LogLevel.ERROR, clientPingTimeout: 100 });
    cleanups.push(() => sm.disconnect());
    await sm.start();
    const reconnected = new Promise<void>((resolve) => sm.once("connected", () => resolve()));
    fake.sendSocketDisconnect("refresh_requested");
    await reconnected;
    await fake.socketConnected();
    expect(fake.callsTo("apps.connections.open")).toHaveLength(2);
    const { ack } = await fake.sendEnvelope("slash_commands", { command: "/clawgate", text: "status" }, { ackTimeoutMs: 200 }).catch(() => ({ ack: null }));
    expect(ack).toBeNull(); // no listener registered, so nothing acks: Slack would retry the envelope
  });

  it("rejects an envelope nobody acks, and refuses reused tickets and the wrong token", async () => {
    const sm = new SocketModeClient({ appToken: fake.appToken, clientOptions: { slackApiUrl: fake.apiUrl }, logLevel: LogLevel.ERROR, autoReconnectEnabled: false });
    cleanups.push(() => sm.disconnect());
    await sm.start();
    await expect(fake.sendEnvelope("events_api", { event: { type: "app_mention" } }, { ackTimeoutMs: 100 })).rejects.toThrow(/no ack for events_api envelope/);

    const open = await fetch(`${fake.apiUrl}apps.connections.open`, { method: "POST", headers: { authorization: `Bearer ${fake.botToken}` } }).then((r) => r.json() as Promise<Record<string, unknown>>);
    expect(open).toEqual({ ok: false, error: "not_allowed_token_type" });
    const used = new URL((await new WebClient(fake.appToken, { slackApiUrl: fake.apiUrl }).apps.connections.open()).url as string);
    expect(used.protocol).toBe("ws:");
    used.searchParams.set("ticket", "not-a-ticket");
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(used.toString().replace("ws:", "http:"), { headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("upgrade", () => reject(new Error("upgraded with a bad ticket")));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(401);
  });
});

describe("with Bolt", () => {
  it("Socket Mode app: a button click round-trips through ack, respond() and chat.update", async () => {
    const app = new App({ token: fake.botToken, appToken: fake.appToken, socketMode: true, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: fake.apiUrl, ...QUEUE_DRIVEN } });
    app.action<BlockAction<ButtonAction>>("approve", async ({ ack, body, respond, client: web }) => {
      await ack();
      await respond({ response_type: "ephemeral", replace_original: false, text: `approved ${body.actions[0]?.value}` });
      await web.chat.update({ channel: body.container.channel_id as string, ts: body.container.message_ts as string, text: "approved", blocks: [] });
    });
    await app.start();
    cleanups.push(() => app.stop());
    expect(fake.callsTo("auth.test")).toHaveLength(1);

    const posted = await client().chat.postMessage({ channel: "C1", text: "pending", blocks: approvalBlocks("a3") });
    const msg = fake.message("C1", posted.ts as string);
    if (!msg) throw new Error("message not stored");
    const payload = clickButton(msg, "approve", { userId: "U0ALICE", responseUrl: fake.responseUrl("click-a3") });
    expect(payload).toMatchObject({ type: "block_actions", actions: [{ action_id: "approve", value: "a3", block_id: "approval:a3", style: "primary" }], container: { message_ts: posted.ts, channel_id: "C1" } });

    const { ack } = await fake.sendEnvelope("interactive", payload);
    expect(ack.payload).toEqual({});
    expect((await fake.waitForResponse("click-a3")).body).toMatchObject({ text: "approved a3" });
    await fake.waitFor("chat.update");
    expect(fake.message("C1", posted.ts as string)).toMatchObject({ text: "approved", blocks: [], updates: 1 });
    expect(() => clickButton(fake.message("C1", posted.ts as string) as never, "approve", { userId: "U0ALICE", responseUrl: "" })).toThrow(/no button with action_id "approve"/);
  });

  it("HTTP app: signed interactivity requests are accepted, bad signatures refused", async () => {
    const signingSecret = "test-signing-secret";
    const receiver = new HTTPReceiver({ signingSecret, logLevel: LogLevel.ERROR });
    const app = new App({ token: fake.botToken, receiver, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: fake.apiUrl, ...QUEUE_DRIVEN } });
    const seen: string[] = [];
    app.action("deny", async ({ ack, body, client: web }) => {
      await ack();
      await web.views.open({ trigger_id: (body as BlockAction).trigger_id, view: { type: "modal", callback_id: "deny_reason", title: { type: "plain_text", text: "Deny" }, blocks: [{ type: "section", text: { type: "mrkdwn", text: "why?" } }] } });
    });
    app.view("deny_reason", async ({ ack, view }) => {
      seen.push(`${view.private_metadata}:${view.state.values.reason?.text?.value}`);
      await ack();
    });
    const server = createServer((req, res) => receiver.requestListener(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;

    const post = (body: string, headers: Record<string, string>) => fetch(url, { method: "POST", headers, body });
    const click = interactionBody(blockActionPayload({ userId: "U0BOB", actionId: "deny", value: "a4", responseUrl: fake.responseUrl("r4"), triggerId: "111.222.abc" }));
    expect((await post(click, signSlackRequest(signingSecret, click))).status).toBe(200);
    expect((await fake.waitFor("views.open")).args.trigger_id).toBe("111.222.abc");

    const submit = interactionBody(viewSubmissionPayload({ userId: "U0BOB", callbackId: "deny_reason", privateMetadata: '{"id":"a4"}', values: { reason: { text: { type: "plain_text_input", value: "too risky" } } } }));
    expect((await post(submit, signSlackRequest(signingSecret, submit))).status).toBe(200);
    expect(seen).toEqual(['{"id":"a4"}:too risky']);

    expect((await post(click, signSlackRequest("wrong-secret", click))).status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    expect((await post(click, signSlackRequest(signingSecret, click, stale))).status).toBe(401);
  });

  it("signatures verify with Bolt's own verifier", () => {
    const body = interactionBody({ type: "block_actions" });
    expect(body.startsWith("payload=%7B%22type%22")).toBe(true);
    const h = signSlackRequest("s3cret", body, 1_700_000_000);
    expect(h["x-slack-signature"]).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(h["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(signSlackRequest("s3cret", '{"type":"event_callback"}')["content-type"]).toBe("application/json");
    const headers = { "x-slack-signature": h["x-slack-signature"], "x-slack-request-timestamp": Number(h["x-slack-request-timestamp"]) };
    expect(() => verifySlackRequest({ signingSecret: "s3cret", body, headers, nowMilliseconds: 1_700_000_000_000 })).not.toThrow();
    expect(() => verifySlackRequest({ signingSecret: "other", body, headers, nowMilliseconds: 1_700_000_000_000 })).toThrow(/signature mismatch/);
  });
});
