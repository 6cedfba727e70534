import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApprovalRecord } from "../../src/approvals/record.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { TokenStore } from "../../src/auth/tokens.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import { handleChatCommand } from "../../src/gate/chat-command.ts";
import { InboundDecisions } from "../../src/inbound/decisions.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { CUSTOM } from "../../templates/discord.ts";
import { ACTIONS } from "../../templates/slack.ts";
import { FAKE_APP_ID, FAKE_CHANNEL_ID, FAKE_GUILD_ID, startFakeDiscord, type FakeDiscord, type FakeDiscordMessage } from "../fakes/discord.ts";
import { appKeys, buttonClick, postInteraction, type AppKeys } from "../fakes/discord-interactions.ts";
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from "../fakes/slack.ts";
import { startFakeTelegram, type FakeTelegram, type TgMessage, type TgUser } from "../fakes/telegram.ts";
import { clickButton, interactionBody, signSlackRequest } from "../fakes/slack-signing.ts";
import { freePort } from "../email/dovecot.ts";
import { composeReply, deliverSmtp, dnsStub } from "../email/mail.ts";
import { startSink, type SmtpSink, type SunkMail } from "../email/sink.ts";
import { runCliInProcess } from "../helpers/cli-inprocess.ts";
import { newApproval, silentLog, TEST_KEYS_CONFIG, testChatSigner, testKeys, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

/**
 * One decision pipeline: every entry point — the gateway's `/clawgate` chat command, Slack,
 * Discord, Telegram, email, the REST API and the CLI — refuses the same two cases the same way, and the
 * refusal is audited. The requester (bob, who asked from Telegram as telegram:42) may not
 * approve his own request; carol, a channel approver everywhere, is not among the route's
 * approvers (alice only). The gateway reads its config as the plugin does (gate scope: no
 * people, no routes), so what it knows of the route and the requester comes from Redis.
 */

const SLACK_SECRET = "test-signing-secret-0123456789";
const SLACK_CHANNEL = "C0APPROVALS";
const TELEGRAM_GROUP = -1001234567890;

const P = {
  alice: { slack: "U0ALICE", discord: "444444444444444444", email: "alice@corp.test", chat: "telegram:11", telegram: 11 },
  bob: { slack: "U0BOB", discord: "666666666666666666", email: "bob@corp.test", chat: "telegram:42", telegram: 42 },
  carol: { slack: "U0CAROL", discord: "777777777777777777", email: "carol@corp.test", chat: "telegram:77", telegram: 77 },
} as const;
type Who = keyof typeof P;

let redis: Redis;
let prefix: string;
let dir: string;
let configPath: string;
let slack: FakeSlack;
let discord: FakeDiscord;
let discordKeys: AppKeys;
let tg: FakeTelegram;
const tgUsers = {} as Record<Who, TgUser>;
let sink: SmtpSink;
let mx: number;
let svc: RunningService;
let store: ApprovalStore;
let gatewayConfig: ClawgateConfig;
const tokens: Partial<Record<Who, string>> = {};

function fullConfig() {
  return {
    redis: { url: REDIS_URL, prefix },
    keys: TEST_KEYS_CONFIG,
    log: { enabled: false },
    server: { port: 0 },
    people: {
      alice: { slack: P.alice.slack, discord: P.alice.discord, email: P.alice.email, telegram: String(P.alice.telegram), ids: [`openclaw:${P.alice.chat}`] },
      bob: { slack: P.bob.slack, discord: P.bob.discord, email: P.bob.email, telegram: String(P.bob.telegram), ids: [P.bob.chat] },
      carol: { slack: P.carol.slack, discord: P.carol.discord, email: P.carol.email, telegram: String(P.carol.telegram), ids: [`openclaw:${P.carol.chat}`] },
    },
    approvals: { chatApprovers: { senders: [P.alice.chat, P.bob.chat, P.carol.chat] } },
    slack: { botToken: slack.botToken, signingSecret: SLACK_SECRET, channel: SLACK_CHANNEL, approvers: { users: [P.alice.slack, P.bob.slack, P.carol.slack] }, apiUrl: slack.apiUrl },
    discord: {
      botToken: discord.botToken,
      applicationId: FAKE_APP_ID,
      publicKey: discordKeys.publicKeyHex,
      guildId: FAKE_GUILD_ID,
      channel: FAKE_CHANNEL_ID,
      approvers: { users: [P.alice.discord, P.bob.discord, P.carol.discord], roles: [] },
      interactions: "http",
      apiUrl: discord.apiUrl,
    },
    telegram: {
      botToken: tg.token,
      chat: String(TELEGRAM_GROUP),
      approvers: [P.alice.telegram, P.bob.telegram, P.carol.telegram].map(String),
      updates: "polling",
      pollTimeout: 1,
      apiUrl: tg.apiUrl,
    },
    email: {
      from: "clawgate <approvals@example.test>",
      replyDomain: "example.test",
      smtp: { host: "127.0.0.1", port: sink.port, secure: false },
      approvers: [P.alice.email, P.bob.email, P.carol.email],
      inbound: { smtp: { host: "127.0.0.1", port: mx } },
    },
    escalation: {
      chains: { default: [{ after: "0s", notify: ["slack", "discord", "telegram", `email:${P.alice.email}`, `email:${P.bob.email}`] }] },
      routes: [{ match: {}, chain: "default", approvers: { people: ["alice"] } }],
    },
  };
}

/** What an approval looks like to the people on each channel once serve has sent it out. */
interface Sent {
  rec: ApprovalRecord;
  slackCard: FakeSlackMessage;
  discordMessage: FakeDiscordMessage;
  telegramCard: TgMessage;
  mails: Record<"alice" | "bob", SunkMail>;
}

async function ask(over: Parameters<typeof newApproval>[0] = {}): Promise<Sent> {
  // The gate's create: one script writes the record and its event; serve sends it out.
  const rec = await store.create(newApproval(over));
  await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks ?? "").includes(rec.id));
  const slackCard = [...slack.messages.values()].find((m) => JSON.stringify(m.blocks ?? "").includes(rec.id)) as FakeSlackMessage;
  const discordMessage = await discord.waitFor(() => discord.messagesIn(FAKE_CHANNEL_ID).find((m) => m.embeds.some((e) => JSON.stringify(e).includes(rec.id))), "the Discord request");
  const telegramCard = await tg.waitFor(() => tg.messagesIn(TELEGRAM_GROUP).find((m) => m.from?.id === tg.bot.id && (m.text ?? "").includes(rec.id)), "the Telegram card");
  const mails = {} as Record<"alice" | "bob", SunkMail>;
  for (const who of ["alice", "bob"] as const) mails[who] = await sink.waitFor((m) => m.envelopeTo.includes(P[who].email) && (m.mail.subject ?? "").includes(rec.id) && !m.mail.inReplyTo);
  return { rec, slackCard: structuredClone(slackCard), discordMessage: structuredClone(discordMessage), telegramCard: structuredClone(telegramCard), mails };
}

interface EntryPoint {
  name: string;
  /** How a decision from here is recorded: the actor and the channel ("via"). */
  actor(who: Who): string;
  via: string;
  /** `who` tries to approve; resolves to what they were told. */
  approve(who: Who, sent: Sent): Promise<string>;
}

const entryPoints: EntryPoint[] = [
  {
    name: "gateway chat command /clawgate approve",
    actor: (who) => `openclaw:${P[who].chat}`,
    via: "openclaw",
    async approve(who, { rec }) {
      // As plugin/index.ts builds it: the gateway's own ApprovalService (chat key), its gate-scoped config.
      const decisions = new InboundDecisions(new ApprovalService(store, silentLog, testChatSigner), gatewayConfig);
      const [channel, senderId] = P[who].chat.split(":") as [string, string];
      return handleChatCommand(decisions, gatewayConfig, { channel, senderId, args: `approve ${rec.id}` });
    },
  },
  {
    name: "Slack button",
    actor: (who) => `slack:${P[who].slack}`,
    via: "slack",
    async approve(who, { slackCard }) {
      const id = `${who}-${Math.random()}`;
      const responseUrl = slack.responseUrl(id, { channel: slackCard.channel, ts: slackCard.ts });
      const body = interactionBody(clickButton(slackCard, ACTIONS.approve, { userId: P[who].slack, responseUrl }));
      expect((await fetch(`${svc.url}/slack/events`, { method: "POST", headers: { ...signSlackRequest(SLACK_SECRET, body) }, body })).status).toBe(200);
      return String((await slack.waitForResponse(id)).body.text);
    },
  },
  {
    name: "Discord button",
    actor: (who) => `discord:${P[who].discord}`,
    via: "discord",
    async approve(who, { rec, discordMessage }) {
      const res = await postInteraction(`${svc.url}/discord/interactions`, discordKeys, buttonClick(discordMessage, `${CUSTOM.approve}:${rec.id}`, { userId: P[who].discord }));
      return String(((await res.json()) as { data?: { content?: string } }).data?.content);
    },
  },
  {
    name: "Telegram button",
    actor: (who) => `telegram:${P[who].telegram}`,
    via: "telegram",
    async approve(who, { telegramCard }) {
      const query = tg.pressButton(telegramCard, tgUsers[who], "✅ Approve");
      return String((await tg.waitFor(() => tg.callbackAnswers.find((a) => a.id === query), "the callback answer")).text);
    },
  },
  {
    name: "email reply",
    actor: (who) => `email:${P[who].email}`,
    via: "email",
    async approve(who, { mails }) {
      // bob replies to his own mail; carol, who was mailed nothing, to alice's (forwarded to her).
      const request = mails[who === "bob" ? "bob" : "alice"];
      const to = request.mail.replyTo?.value[0]?.address as string;
      const raw = await composeReply({ from: P[who].email, to, subject: `Re: ${request.mail.subject}`, text: "approve", inReplyTo: request.mail.messageId as string });
      const messageId = /^Message-ID:\s*(\S+)/im.exec(raw.toString())?.[1] as string;
      await deliverSmtp(mx, raw, { from: P[who].email, to });
      return String((await sink.waitFor((m) => m.mail.inReplyTo === messageId)).mail.text);
    },
  },
  {
    name: "REST POST /api/v1/approvals/:id/decision",
    actor: (who) => `api:${who}`,
    via: "api",
    async approve(who, { rec }) {
      const res = await fetch(`${svc.url}/api/v1/approvals/${rec.id}/decision`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens[who]}`, "content-type": "application/json" },
        body: JSON.stringify({ decision: "allow-once" }),
      });
      expect(res.status).toBe(403);
      return res.text();
    },
  },
  {
    name: "CLI clawgate approve",
    actor: (who) => `api:${who}`,
    via: "api",
    async approve(who, { rec }) {
      const res = await runCliInProcess(["approve", rec.id], { CLAWGATE_CONFIG: configPath, CLAWGATE_URL: svc.url, CLAWGATE_TOKEN: tokens[who], XDG_CONFIG_HOME: join(dir, "xdg") });
      expect(res.code).not.toBe(0);
      return res.stderr;
    },
  },
  // A new channel adds its row here: how its user approves, and how it names them.
];

const cases: Array<{ who: Who; case: string; why: RegExp }> = [
  { who: "bob", case: "self-approval (the requester, by identity or person)", why: /you asked for this call yourself/ },
  { who: "carol", case: "a channel approver outside the route's approvers", why: /you are not an approver for this request/ },
];

beforeAll(async () => {
  redis = connect();
  prefix = uniquePrefix("entry");
  dir = mkdtempSync(join(tmpdir(), "cg-entry-"));
  configPath = join(dir, "clawgate.yaml");
  slack = await startFakeSlack();
  discord = await startFakeDiscord();
  discordKeys = appKeys();
  tg = await startFakeTelegram();
  tg.addChat({ id: TELEGRAM_GROUP, type: "supergroup", title: "ops" });
  tgUsers.alice = tg.user(P.alice.telegram, "Alice", "alice");
  tgUsers.bob = tg.user(P.bob.telegram, "Bob", "bob");
  tgUsers.carol = tg.user(P.carol.telegram, "Carol", "carol");
  sink = await startSink();
  mx = await freePort();
  // JSON is YAML: serve, the CLI and the gateway read the same file, each its own scope of it.
  writeFileSync(configPath, JSON.stringify(fullConfig()));
  const config = loadConfig({ path: configPath }).config;
  gatewayConfig = loadConfig({ path: configPath, scope: "gate" }).config;
  expect(gatewayConfig.people).toEqual({});
  expect(gatewayConfig.escalation.routes).toEqual([]);
  svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog, dnsResolver: dnsStub, trust: { keys: testKeys, signer: testSigner } });
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  const tokenStore = new TokenStore(redis, prefix, { signer: testSigner, keys: testKeys });
  for (const who of ["alice", "bob", "carol"] as const) tokens[who] = (await tokenStore.create({ name: `${who}-laptop`, kind: "person", subject: who })).secret;
}, 30_000);

afterAll(async () => {
  await svc?.close();
  await slack?.close();
  await discord?.close();
  await tg?.close();
  await sink?.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

describe("every entry point refuses the same cases, through the one decision pipeline", () => {
  let sent: Sent;
  beforeAll(async () => {
    sent = await ask();
  }, 20_000);

  describe.each(entryPoints)("$name", (entry) => {
    it.each(cases)("refuses $case, tells them why, audits it, and the approval stays pending", async ({ who, why }) => {
      const told = await entry.approve(who, sent);
      expect(told).toMatch(why);
      expect((await store.require(sent.rec.id)).state).toBe("pending");
      await expect
        .poll(async () => (await new AuditLog(redis, { prefix }).read({ limit: 200 })).map((e) => e.event), { timeout: 5_000 })
        .toContainEqual(expect.objectContaining({ type: "refusal", approvalId: sent.rec.id, actor: entry.actor(who), channel: entry.via, reason: expect.stringMatching(why) }));
    });
  });

  it("the route's approver is known to the gateway too, though its config has no people or routes: alice approves from chat", async () => {
    const decisions = new InboundDecisions(new ApprovalService(store, silentLog, testChatSigner), gatewayConfig);
    const [channel, senderId] = P.alice.chat.split(":") as [string, string];
    const text = await handleChatCommand(decisions, gatewayConfig, { channel, senderId, args: `approve ${sent.rec.id}` });
    expect(text).toBe(`approved ${sent.rec.id} as openclaw:${P.alice.chat}`);
    expect(await store.require(sent.rec.id)).toMatchObject({ state: "approved", decidedBy: `openclaw:${P.alice.chat}`, decidedVia: "openclaw" });
  });
});

describe("full params of a decided approval: one rule on every channel, its approvers see them", () => {
  const LONG = `echo ${"y".repeat(3_000)}`;
  let sent: Sent;
  beforeAll(async () => {
    sent = await ask({ params: { command: LONG } });
    const decided = await runCliInProcess(["deny", sent.rec.id, "--reason", "not now"], { CLAWGATE_CONFIG: configPath, CLAWGATE_URL: svc.url, CLAWGATE_TOKEN: tokens.alice, XDG_CONFIG_HOME: join(dir, "xdg") });
    expect(decided.code).toBe(0);
  }, 20_000);

  const slackParams = async (who: Who) => {
    const id = `params-${who}-${Math.random()}`;
    // The card as it was before the decision edited it: a stale button.
    const body = interactionBody(clickButton(sent.slackCard, ACTIONS.viewParams, { userId: P[who].slack, responseUrl: slack.responseUrl(id) }));
    const opened = slack.callsTo("views.open").length;
    expect((await fetch(`${svc.url}/slack/events`, { method: "POST", headers: { ...signSlackRequest(SLACK_SECRET, body) }, body })).status).toBe(200);
    return { id, opened };
  };

  it("Slack: a stale View params button answers carol (no route approver) with a refusal, alice with the params", async () => {
    const carol = await slackParams("carol");
    expect(String((await slack.waitForResponse(carol.id)).body.text)).toContain("only approvers of this request can open the full params");
    await slackParams("alice");
    expect(JSON.stringify((await slack.waitFor("views.open")).args.view)).toContain("y".repeat(2_000));
    expect(slack.callsTo("views.open")).toHaveLength(1);
  });

  it("Discord: the same", async () => {
    const params = (who: Who) => postInteraction(`${svc.url}/discord/interactions`, discordKeys, buttonClick(sent.discordMessage, `${CUSTOM.params}:${sent.rec.id}`, { userId: P[who].discord }));
    expect(JSON.stringify(await (await params("carol")).json())).toContain("only approvers of this request can open the full params");
    expect(JSON.stringify(await (await params("alice")).json())).toContain("y".repeat(2_000).slice(0, 500));
  });

  it("REST (person tokens): the same — carol reads the approval without its params, alice with them, by id, in the list and on the event stream", async () => {
    const get = async (who: Who, path: string) => {
      const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${tokens[who]}` } });
      expect(res.status).toBe(200);
      return res.text();
    };
    const byId = (who: Who) => get(who, `/api/v1/approvals/${sent.rec.id}`).then((t) => (JSON.parse(t) as { approval: { params: string; paramsHidden?: boolean } }).approval);
    expect(await byId("carol")).toMatchObject({ params: "", paramsHidden: true });
    expect((await byId("alice")).params).toContain("y".repeat(2_000));
    expect((await byId("alice")).paramsHidden).toBeUndefined();
    const inList = async (who: Who) => (JSON.parse(await get(who, "/api/v1/approvals?state=all&limit=500")) as { approvals: Array<{ id: string; params: string; paramsHidden?: boolean }> }).approvals.find((a) => a.id === sent.rec.id);
    expect(await inList("carol")).toMatchObject({ params: "", paramsHidden: true });
    expect((await inList("alice"))?.params).toContain("yyyy");
    const stream = await get("carol", `/api/v1/approvals/${sent.rec.id}/events`);
    expect(stream).toContain('"paramsHidden":true');
    expect(stream).not.toContain("yyyy");
  });

  it("the gateway's /clawgate show: the same", async () => {
    const show = (who: Who) => {
      const [channel, senderId] = P[who].chat.split(":") as [string, string];
      return handleChatCommand(new InboundDecisions(new ApprovalService(store, silentLog, testChatSigner), gatewayConfig), gatewayConfig, { channel, senderId, args: `show ${sent.rec.id}` });
    };
    const carol = await show("carol");
    expect(carol).toContain(`${sent.rec.id}: denied by api:alice via api (not now)`);
    expect(carol).toContain("params: (only approvers of this request can see them)");
    expect(carol).not.toContain("yyyy");
    expect(await show("alice")).toContain("y".repeat(900));
  });
});
