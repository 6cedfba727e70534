import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/log.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { ACTIONS, DENY_MODAL, REASON_BLOCK, REASON_INPUT } from "../../templates/slack.ts";
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from "../fakes/slack.ts";
import { clickButton, interactionBody, signSlackRequest, viewSubmissionPayload } from "../fakes/slack-signing.ts";
import { newApproval, silentLog, testConfig, testSigner, savedAlwaysRules } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

const SECRET = "test-signing-secret-0123456789";
const CHANNEL = "C0APPROVALS";

let redis: Redis;
let slack: FakeSlack;
let prefix: string;
let svc: RunningService;
let store: ApprovalStore;
let service: ApprovalService;

async function startService(slackOver: Record<string, unknown> = {}, over: Record<string, unknown> = {}) {
  const config = testConfig(prefix, {
    log: { enabled: false },
    server: { port: 0 },
    slack: { botToken: slack.botToken, signingSecret: SECRET, channel: CHANNEL, approvers: { users: ["U0ALICE"], userGroups: ["S0ONCALL"] }, apiUrl: slack.apiUrl, ...slackOver },
    ...over,
  });
  svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog });
  return config;
}

/** Slack gets its ack first; the decision lands just after. */
const stateOf = async (id: string) => (await store.require(id)).state;

/** What the plugin does on an ask: one script writes the record and its event; serve posts it. */
async function ask(over = {}) {
  const rec = await store.create(newApproval(over));
  await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks ?? "").includes(rec.id));
  const message = [...slack.messages.values()].find((m) => JSON.stringify(m.blocks).includes(rec.id)) as FakeSlackMessage;
  expect(message, `message for ${rec.id}`).toBeDefined();
  // A snapshot: the fake edits its copy in place when chat.update arrives.
  return { rec, message: structuredClone(message) };
}

async function postSlack(payload: object, opts: { secret?: string; ts?: number; tamper?: boolean } = {}) {
  let body = interactionBody(payload);
  const headers = signSlackRequest(opts.secret ?? SECRET, body, opts.ts);
  if (opts.tamper) body = body.replace("U0", "U9");
  return fetch(`${svc.url}/slack/events`, { method: "POST", headers: { ...headers }, body });
}

function click(message: FakeSlackMessage, actionId: string, userId: string, id = `${userId}-${Date.now()}-${Math.random()}`) {
  const responseUrl = slack.responseUrl(id, { channel: message.channel, ts: message.ts });
  return { payload: clickButton(message, actionId, { userId, responseUrl }), responseId: id };
}

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("slack");
  slack = await startFakeSlack({ userGroups: { S0ONCALL: ["U0BOB"] } });
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  service = new ApprovalService(store, silentLog, testSigner);
});
afterEach(async () => {
  await svc?.close();
  await slack.close();
  await deleteKeys(redis, prefix);
});

describe("Slack channel (HTTP mode)", () => {
  it("posts the request with three buttons; an approver's Approve decides it and the message is edited without buttons", async () => {
    await startService();
    const { rec, message } = await ask();
    expect(message.channel).toBe(CHANNEL);
    const buttons = message.blocks.flatMap((b) => ((b as { elements?: Array<{ action_id?: string }> }).elements ?? []).map((e) => e.action_id)).filter(Boolean);
    expect(buttons).toEqual([ACTIONS.approve, ACTIONS.always, ACTIONS.deny]);

    const { payload } = click(message, ACTIONS.approve, "U0ALICE");
    const res = await postSlack(payload);
    expect(res.status).toBe(200);
    await expect.poll(() => stateOf(rec.id)).toBe("approved");
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decision: "allow-once", decidedBy: "slack:U0ALICE", decidedVia: "slack" });
    await slack.waitFor("chat.update", (c) => c.args.ts === message.ts);
    const edited = slack.message(message.channel, message.ts) as FakeSlackMessage;
    expect(JSON.stringify(edited.blocks)).toContain("Approved by <@U0ALICE> via slack");
    expect(edited.blocks.some((b) => (b as { type: string }).type === "actions")).toBe(false);
  });

  it("Always allow saves the exact rule shown on the button", async () => {
    await startService();
    const { rec, message } = await ask();
    expect((await postSlack(click(message, ACTIONS.always, "U0ALICE").payload)).status).toBe(200);
    await expect.poll(() => stateOf(rec.id)).toBe("approved");
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decision: "allow-always" });
    expect(await savedAlwaysRules(redis, prefix)).toEqual(["exec(git push origin main)"]);
  });

  it("Deny opens a modal; its reason is recorded and reaches the outcome", async () => {
    await startService();
    const { rec, message } = await ask();
    expect((await postSlack(click(message, ACTIONS.deny, "U0ALICE").payload)).status).toBe(200);
    const open = await slack.waitFor("views.open");
    const view = open.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(DENY_MODAL);
    expect((await store.require(rec.id)).state).toBe("pending");
    const submit = viewSubmissionPayload({
      userId: "U0ALICE",
      callbackId: DENY_MODAL,
      privateMetadata: view.private_metadata,
      values: { [REASON_BLOCK]: { [REASON_INPUT]: { type: "plain_text_input", value: "change freeze" } } },
    });
    const res = await postSlack(submit);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(await store.require(rec.id)).toMatchObject({ state: "denied", decisionReason: "change freeze", decidedBy: "slack:U0ALICE" });
    await slack.waitFor("chat.update", (c) => JSON.stringify(c.args.blocks).includes("change freeze"));
  });

  it("refuses a non-approver privately, audits it, and leaves the approval pending", async () => {
    await startService();
    const { rec, message } = await ask();
    const { payload, responseId } = click(message, ACTIONS.approve, "U0MALLORY");
    expect((await postSlack(payload)).status).toBe(200);
    const reply = await slack.waitForResponse(responseId);
    expect(reply.body).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(String(reply.body.text)).toContain("you are not an approver for this request");
    expect((await store.require(rec.id)).state).toBe("pending");
    await expect
      .poll(async () => (await new AuditLog(redis, { prefix }).read({ limit: 20 })).map((e) => e.event), { timeout: 3_000 })
      .toContainEqual(expect.objectContaining({ type: "refusal", approvalId: rec.id, actor: "slack:U0MALLORY", channel: "slack" }));
    // Nor may they open the deny modal.
    expect((await postSlack(click(message, ACTIONS.deny, "U0MALLORY").payload)).status).toBe(200);
    expect(slack.callsTo("views.open")).toHaveLength(0);
  });

  it("accepts members of a configured user group", async () => {
    await startService();
    const { rec, message } = await ask();
    expect((await postSlack(click(message, ACTIONS.approve, "U0BOB").payload)).status).toBe(200);
    await expect.poll(() => stateOf(rec.id)).toBe("approved");
    expect((await store.require(rec.id)).decidedBy).toBe("slack:U0BOB");
    expect(slack.callsTo("usergroups.users.list")).toHaveLength(1);
  });

  it("rejects bad signatures, stale and future timestamps with 401 and changes nothing", async () => {
    await startService();
    const { rec, message } = await ask();
    const { payload } = click(message, ACTIONS.approve, "U0ALICE");
    const now = Math.floor(Date.now() / 1000);
    expect((await postSlack(payload, { secret: "wrong-secret" })).status).toBe(401);
    expect((await postSlack(payload, { tamper: true })).status).toBe(401);
    expect((await postSlack(payload, { ts: now - 6 * 60 })).status).toBe(401);
    expect((await postSlack(payload, { ts: now + 6 * 60 })).status).toBe(401);
    expect((await fetch(`${svc.url}/slack/events`, { method: "POST", body: interactionBody(payload) })).status).toBe(401);
    // A correctly signed click still works afterwards, so the 401s were the signatures, not the setup.
    await new Promise((r) => setTimeout(r, 100));
    expect((await store.require(rec.id)).state).toBe("pending");
    expect((await postSlack(payload)).status).toBe(200);
    await expect.poll(() => stateOf(rec.id)).toBe("approved");
  });

  it("a double click makes one decision; the second is told who decided", async () => {
    await startService();
    const { rec, message } = await ask();
    const first = click(message, ACTIONS.approve, "U0ALICE");
    const second = click(message, ACTIONS.approve, "U0BOB");
    const [a, b] = await Promise.all([postSlack(first.payload), postSlack(second.payload)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await expect.poll(() => stateOf(rec.id)).toBe("approved");
    const decided = await store.require(rec.id);
    const loser = decided.decidedBy === "slack:U0ALICE" ? second.responseId : first.responseId;
    const reply = await slack.waitForResponse(loser);
    expect(String(reply.body.text)).toContain(`already approved by ${decided.decidedBy} via slack`);
    await expect
      .poll(async () => (await new AuditLog(redis, { prefix }).read({ limit: 50 })).filter((e) => e.event.type === "refusal").length, { timeout: 3_000 })
      .toBe(1);
    const decisions = (await new AuditLog(redis, { prefix }).read({ limit: 50 })).filter((e) => e.event.type === "decision");
    expect(decisions).toHaveLength(1);
  });

  it("a click after another channel decided says so, and the card is already updated", async () => {
    await startService();
    const { rec, message } = await ask();
    await service.decide({ id: rec.id, decision: "deny", actor: "cli:carol", via: "cli", reason: "not today" });
    await slack.waitFor("chat.update", (c) => c.args.ts === message.ts);
    const { payload, responseId } = click(message, ACTIONS.approve, "U0ALICE");
    await postSlack(payload);
    expect(String((await slack.waitForResponse(responseId)).body.text)).toContain("already denied by cli:carol via cli");
  });

  it("retries a Slack 500 and delivers the message exactly once", async () => {
    await startService();
    slack.failNext("chat.postMessage", [{ status: 500 }]);
    const rec = await store.create(newApproval());
    await expect.poll(() => [...slack.messages.values()].filter((m) => JSON.stringify(m.blocks).includes(rec.id)).length, { timeout: 8_000 }).toBe(1);
    expect(slack.callsTo("chat.postMessage").length).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    expect([...slack.messages.values()].filter((m) => JSON.stringify(m.blocks).includes(rec.id))).toHaveLength(1);
  });

  it("waits out a 429 Retry-After, then delivers once", async () => {
    await startService();
    slack.failNext("chat.postMessage", [{ status: 429, retryAfter: 1 }]);
    const rec = await store.create(newApproval());
    const started = Date.now();
    await expect.poll(() => [...slack.messages.values()].filter((m) => JSON.stringify(m.blocks).includes(rec.id)).length, { timeout: 8_000 }).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(slack.callsTo("chat.postMessage")).toHaveLength(2);
  });

  it("a 429 holds back only the conversation it came from; posts elsewhere go on", async () => {
    await startService({}, { escalation: { chains: { default: [{ after: "0s", notify: ["slack", "slack:C0OTHER"] }] } } });
    slack.failNext("chat.postMessage", [{ status: 429, retryAfter: 3 }]);
    const rec = await store.create(newApproval());
    const refused = await slack.waitFor("chat.postMessage", (c) => c.status === 429);
    const other = refused.args.channel === CHANNEL ? "C0OTHER" : CHANNEL;
    const posted = (channel: unknown) => slack.waitFor("chat.postMessage", (c) => c.status === 200 && c.args.channel === channel, 8_000);
    // The other conversation's card goes at once; the refused one's only after its Retry-After.
    expect((await posted(other)).at - refused.at).toBeLessThan(1_500);
    expect((await posted(refused.args.channel)).at - refused.at).toBeGreaterThanOrEqual(2_900);
    expect([...slack.messages.values()].filter((m) => JSON.stringify(m.blocks).includes(rec.id))).toHaveLength(2);
  });

  it("a 429 on chat.update holds back the workspace's edits for its Retry-After, and new cards wait for the edit (edits first)", async () => {
    await startService();
    const { rec } = await ask();
    slack.failNext("chat.update", [{ status: 429, retryAfter: 2 }]);
    await service.decide({ id: rec.id, decision: "deny", actor: "cli:t", via: "cli", reason: "no" });
    const refused = await slack.waitFor("chat.update", (c) => c.status === 429);
    const next = await store.create(newApproval({ params: { command: "git push origin next" } }));
    const edited = await slack.waitFor("chat.update", (c) => c.status === 200, 6_000);
    const posted = await slack.waitFor("chat.postMessage", (c) => c.status === 200 && JSON.stringify(c.args.blocks ?? "").includes(next.id), 8_000);
    expect(edited.at - refused.at).toBeGreaterThanOrEqual(1_900);
    expect(posted.at).toBeGreaterThanOrEqual(edited.at);
  });

  it("a Retry-After of days holds the conversation back 15 minutes, not for good", async () => {
    await startService();
    slack.failNext("chat.postMessage", [{ status: 429, retryAfter: 1_000_000_000 }]);
    await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => c.status === 429);
    const bucket = `{${prefix}}:pace:slack:post:${CHANNEL}`;
    await expect.poll(() => redis.pttl(bucket), { timeout: 3_000 }).toBeGreaterThan(14 * 60_000);
    expect(await redis.pttl(bucket)).toBeLessThanOrEqual(15 * 60_000 + 2_000);
  });

  it("puts escalation notes in the request's thread", async () => {
    await startService({}, { escalation: { tiers: [{ after: "1s", notify: ["slack"] }] } });
    const { message } = await ask();
    const note = await slack.waitFor("chat.postMessage", (c) => c.args.thread_ts === message.ts, 6_000);
    expect(String(note.args.text)).toContain("Escalated");
  });

  it("posts to a person's DM when slack.channel is a user id", async () => {
    await startService({ channel: "U0ONCALL" });
    const rec = await store.create(newApproval());
    const open = await slack.waitFor("conversations.open");
    expect(open.args.users).toBe("U0ONCALL");
    const post = await slack.waitFor("chat.postMessage");
    expect(String(post.args.channel)).toMatch(/^D/);
  });

  it("opens the full params for an approver", async () => {
    await startService();
    const { message } = await ask({ params: { command: `echo ${"y".repeat(3_000)}` } });
    expect((await postSlack(click(message, ACTIONS.viewParams, "U0ALICE").payload)).status).toBe(200);
    const open = await slack.waitFor("views.open");
    expect(JSON.stringify(open.args.view)).toContain("y".repeat(2_000));
  });
});

describe("Slack /clawgate command and escalation to a person", () => {
  /** A signed slash-command POST, form-encoded as Slack sends it. */
  async function command(userId: string, text: string) {
    const responseId = `cmd-${Math.random()}`;
    const body = new URLSearchParams({
      token: "unused",
      team_id: slack.teamId,
      channel_id: CHANNEL,
      user_id: userId,
      user_name: userId.toLowerCase(),
      command: "/clawgate",
      text,
      api_app_id: slack.appId,
      response_url: slack.responseUrl(responseId),
      trigger_id: `${Date.now()}.trigger`,
    }).toString();
    const res = await fetch(`${svc.url}/slack/events`, {
      method: "POST",
      headers: { ...signSlackRequest(SECRET, body), "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(res.status).toBe(200);
    return String((await slack.waitForResponse(responseId)).body.text);
  }

  it("lists, shows, denies with a quoted reason, and says who decided first — the shared verbs", async () => {
    await startService();
    const { rec, message } = await ask();
    expect(await command("U0BOB", "pending")).toContain(rec.id);
    expect(await command("U0BOB", `show ${rec.id}`)).toContain(`${rec.id}: pending`);
    expect(await command("U0MALLORY", `approve ${rec.id}`)).toContain("you are not an approver for this request");
    expect(await command("U0ALICE", `deny ${rec.id} "not now"`)).toContain(`denied ${rec.id} as slack:U0ALICE: not now`);
    expect(await store.require(rec.id)).toMatchObject({ state: "denied", decisionReason: "not now", decidedVia: "slack" });
    await slack.waitFor("chat.update", (c) => c.args.ts === message.ts);
    expect(await command("U0ALICE", `approve ${rec.id}`)).toContain("already denied by slack:U0ALICE via slack: not now");
  });

  it("an escalation tier DMs a person, who may then approve though not in slack.approvers", async () => {
    await startService({}, { people: { carol: { slack: "U0CAROL" } }, escalation: { tiers: [{ after: "1s", notify: ["carol"] }] } });
    const { rec } = await ask();
    await slack.waitFor("conversations.open", (c) => c.args.users === "U0CAROL", 6_000);
    const dm = await slack.waitFor("chat.postMessage", (c) => String(c.args.channel).startsWith("D") && JSON.stringify(c.args.blocks ?? "").includes(rec.id), 6_000);
    const card = [...slack.messages.values()].find((m) => m.channel === dm.args.channel) as FakeSlackMessage;
    expect((await postSlack(click(card, ACTIONS.approve, "U0CAROL").payload)).status).toBe(200);
    await expect.poll(() => stateOf(rec.id)).toBe("approved");
    expect((await store.require(rec.id)).decidedBy).toBe("slack:U0CAROL");
    // Both cards (the channel's and the DM) lose their buttons.
    await expect.poll(() => slack.callsTo("chat.update").length, { timeout: 3_000 }).toBe(2);
  });
});

describe("Slack channel (Socket Mode)", () => {
  it("takes button clicks over the socket and acks them", async () => {
    await startService({ appToken: slack.appToken });
    await slack.socketConnected(5_000);
    const { rec, message } = await ask();
    const { payload } = click(message, ACTIONS.approve, "U0ALICE");
    const { ack } = await slack.sendEnvelope("interactive", payload);
    expect(ack).toBeDefined();
    await expect.poll(async () => (await store.require(rec.id)).state, { timeout: 3_000 }).toBe("approved");
    expect((await store.require(rec.id)).decidedVia).toBe("slack");
  });
});
