import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { InboundDecisions } from "../../src/inbound/decisions.ts";
import { OverrideStore } from "../../src/oncall/overrides.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { bullPrefix, jobIds } from "../../queue/names.ts";
import { ACTIONS } from "../../templates/slack.ts";
import { startFakePagerDuty, type FakePagerDuty } from "../fakes/pagerduty.ts";
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from "../fakes/slack.ts";
import { clickButton, interactionBody, signSlackRequest } from "../fakes/slack-signing.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

const SECRET = "test-signing-secret-0123456789";
const CHANNEL = "C0APPROVALS";

let redis: Redis;
let slack: FakeSlack;
let pd: FakePagerDuty | null = null;
let prefix: string;
let services: RunningService[] = [];
let store: ApprovalStore;

const people = {
  alice: { slack: "U0ALICE", email: "alice@example.test" },
  bob: { slack: "U0BOB", email: "bob@example.test" },
  carol: { slack: "U0CAROL", email: "carol@example.test" },
};
/** bob holds every shift (one member), so tier 2 always means bob unless overridden. */
const oncall = { schedules: { primary: { timezone: "Europe/Berlin", rotation: "weekly", handoff: "Mon 09:00", members: ["bob"] } } };

function config(chain: unknown, over: Record<string, unknown> = {}) {
  return testConfig(prefix, {
    log: { enabled: false },
    server: { port: 0 },
    people,
    oncall,
    slack: { botToken: slack.botToken, signingSecret: SECRET, channel: CHANNEL, approvers: { users: ["U0ALICE"] }, apiUrl: slack.apiUrl },
    escalation: { chains: { default: chain }, routes: [{ match: {}, chain: "default", approvers: { people: ["alice"] } }] },
    ...over,
  });
}

async function start(cfg: ReturnType<typeof config>) {
  const svc = await serve({ config: cfg, redisUrl: REDIS_URL, log: silentLog });
  services.push(svc);
  return svc;
}

const cardFor = (id: string, channel?: string) =>
  [...slack.messages.values()].find((m) => JSON.stringify(m.blocks ?? "").includes(id) && (!channel || m.channel === channel)) as FakeSlackMessage | undefined;

async function click(svc: RunningService, message: FakeSlackMessage, userId: string) {
  const responseUrl = slack.responseUrl(`${userId}-${Math.random()}`, { channel: message.channel, ts: message.ts });
  const body = interactionBody(clickButton(message, ACTIONS.approve, { userId, responseUrl }));
  const res = await fetch(`${svc.url}/slack/events`, { method: "POST", headers: { ...signSlackRequest(SECRET, body) }, body });
  expect(res.status).toBe(200);
}

const dmsTo = (user: string) => slack.callsTo("conversations.open").filter((c) => c.args.users === user).length;

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("oncall");
  slack = await startFakeSlack();
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
});
afterEach(async () => {
  for (const s of services) await s.close();
  services = [];
  await slack.close();
  await pd?.close();
  pd = null;
  await deleteKeys(redis, prefix);
});

const twoTiers = [
  { after: "0s", notify: [`slack:${CHANNEL}`] },
  { after: "2s", notify: ["oncall:primary"] },
];

describe("escalation chains through serve", () => {
  it("tier 2 fires after its delay, DMs the on-call person, notes it under the channel card; they approve though not a route approver", async () => {
    // 1.5 s: longer than Slack's pacing (one post a second) would hold back a tier that fired early.
    const svc = await start(config([twoTiers[0], { after: "1500ms", notify: ["oncall:primary"] }]));
    const rec = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => c.args.channel === CHANNEL && JSON.stringify(c.args.blocks ?? "").includes(rec.id));
    const card = cardFor(rec.id, CHANNEL) as FakeSlackMessage;
    const opened = await slack.waitFor("conversations.open", (c) => c.args.users === "U0BOB", 8_000);
    expect(opened.at - rec.createdAt).toBeGreaterThanOrEqual(1_400);
    const dm = await slack.waitFor("chat.postMessage", (c) => String(c.args.channel).startsWith("D") && JSON.stringify(c.args.blocks ?? "").includes(rec.id));
    const note = await slack.waitFor("chat.postMessage", (c) => c.args.thread_ts === card.ts);
    expect(String(note.args.text)).toContain("Escalated to bob (on call for primary)");
    expect(await store.notified(rec.id)).toEqual(expect.arrayContaining(["person:bob", "slack:U0BOB"]));

    await click(svc, cardFor(rec.id, String(dm.args.channel)) as FakeSlackMessage, "U0BOB");
    await expect.poll(async () => (await store.require(rec.id)).state).toBe("approved");
    expect((await store.require(rec.id)).decidedBy).toBe("slack:U0BOB");
    // Both cards lose their buttons.
    await expect.poll(() => slack.callsTo("chat.update").length, { timeout: 3_000 }).toBe(2);
  });

  it("a decision at tier 1 removes tier 2: nobody on call is contacted", async () => {
    const svc = await start(config(twoTiers));
    const rec = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks ?? "").includes(rec.id));
    const queue = new Queue("escalate", { connection: redis, prefix: bullPrefix(prefix) });
    try {
      expect(await queue.getJob(jobIds.escalate(rec.id, 1))).toBeDefined();
      await click(svc, cardFor(rec.id, CHANNEL) as FakeSlackMessage, "U0ALICE");
      await expect.poll(async () => (await store.require(rec.id)).state).toBe("approved");
      await expect.poll(async () => (await queue.getJob(jobIds.escalate(rec.id, 1))) ?? null, { timeout: 3_000 }).toBeNull();
    } finally {
      await queue.close();
    }
    expect(dmsTo("U0BOB")).toBe(0);
    expect((await store.require(rec.id)).tier).toBe(0);
  });

  it("a slack approver outside the route's approvers is refused; the route's person is not", async () => {
    const cfg = config(twoTiers, { slack: { botToken: slack.botToken, signingSecret: SECRET, channel: CHANNEL, approvers: { users: ["U0ALICE", "U0CAROL"] }, apiUrl: slack.apiUrl } });
    const svc = await start(cfg);
    const rec = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks ?? "").includes(rec.id));
    await click(svc, cardFor(rec.id, CHANNEL) as FakeSlackMessage, "U0CAROL");
    await expect.poll(async () => (await redis.xrange(`{${prefix}}:events`, "-", "+")).some(([, f]) => f.includes("approval.refused"))).toBe(true);
    // The gate reads no routes config (its scope is redis/policy/approvals): it still applies
    // the route serve picked, so an OpenClaw chat approver is refused the same way.
    const gateSide = new InboundDecisions(new ApprovalService(store, silentLog, testSigner), testConfig(prefix, { people }));
    const record = await store.require(rec.id);
    expect(await gateSide.authorize(record, { identity: { channel: "telegram", id: "43" }, decision: "allow-once", isChannelApprover: () => true })).toBe("you are not an approver for this request");
    expect(await gateSide.authorize(record, { identity: { channel: "api", id: "alice" }, decision: "allow-once", isChannelApprover: () => false })).toBeNull();
    expect((await store.require(rec.id)).state).toBe("pending");
    await click(svc, cardFor(rec.id, CHANNEL) as FakeSlackMessage, "U0ALICE");
    await expect.poll(async () => (await store.require(rec.id)).state).toBe("approved");
  });

  it("an on-call rotation between create and decide changes nothing for the approval: its cards are each edited once, the new on-call person gets nothing", async () => {
    const overrides = new OverrideStore(redis, prefix);
    const shift = await overrides.add({ schedule: "primary", person: "carol", from: Date.now() - 1_000, to: Date.now() + 3_600_000 });
    const svc = await start(config([{ after: "0s", notify: [`slack:${CHANNEL}`, "oncall:primary"] }]));
    const rec = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => c.args.channel === CHANNEL && JSON.stringify(c.args.blocks ?? "").includes(rec.id));
    const dm = await slack.waitFor("chat.postMessage", (c) => String(c.args.channel).startsWith("D") && JSON.stringify(c.args.blocks ?? "").includes(rec.id), 6_000);
    expect(dmsTo("U0CAROL")).toBe(1);
    // The rotation: carol's shift is taken back, so bob is on call now.
    await overrides.remove(shift.id);
    await click(svc, cardFor(rec.id, CHANNEL) as FakeSlackMessage, "U0ALICE");
    await expect.poll(async () => (await store.require(rec.id)).state).toBe("approved");
    await expect.poll(() => slack.callsTo("chat.update").length, { timeout: 3_000 }).toBe(2);
    await new Promise((r) => setTimeout(r, 1_000));
    const edits = slack.callsTo("chat.update").map((c) => `${String(c.args.channel)}|${String(c.args.ts)}`);
    const card = cardFor(rec.id, CHANNEL) as FakeSlackMessage;
    const dmCard = cardFor(rec.id, String(dm.args.channel)) as FakeSlackMessage;
    expect(edits.sort()).toEqual([`${CHANNEL}|${card.ts}`, `${dmCard.channel}|${dmCard.ts}`].sort());
    expect(dmsTo("U0BOB")).toBe(0);
    expect((await store.facts(rec.id))?.recipients).toEqual([{ channel: "slack", target: CHANNEL }, expect.objectContaining({ channel: "slack", target: "U0CAROL", person: "carol" })]);
  });

  it("a tier-0 post still waiting when the approval is decided is dropped by the job it was queued as, though the on-call person changed since", async () => {
    const overrides = new OverrideStore(redis, prefix);
    const shift = await overrides.add({ schedule: "primary", person: "carol", from: Date.now() - 1_000, to: Date.now() + 3_600_000 });
    // Slack holds carol's DM back for a while (a 429 on opening it): the notify job waits in the queue.
    slack.failNext("conversations.open", [{ status: 429, retryAfter: 30 }]);
    const svc = await start(config([{ after: "0s", notify: [`slack:${CHANNEL}`, "oncall:primary"] }]));
    const rec = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => c.args.channel === CHANNEL && JSON.stringify(c.args.blocks ?? "").includes(rec.id));
    await slack.waitFor("conversations.open", (c) => c.args.users === "U0CAROL", 6_000);
    const queue = new Queue("notify-slack", { connection: redis, prefix: bullPrefix(prefix) });
    try {
      const waiting = jobIds.notify(rec.id, "slack", "U0CAROL", 0);
      await expect.poll(async () => (await queue.getJob(waiting))?.id ?? null, { timeout: 3_000 }).toBe(waiting);
      await overrides.remove(shift.id);
      await click(svc, cardFor(rec.id, CHANNEL) as FakeSlackMessage, "U0ALICE");
      await expect.poll(async () => (await store.require(rec.id)).state).toBe("approved");
      await expect.poll(async () => (await queue.getJob(waiting)) ?? null, { timeout: 3_000 }).toBeNull();
    } finally {
      await queue.close();
    }
    await expect.poll(() => slack.callsTo("chat.update").length, { timeout: 3_000 }).toBe(1);
    expect(slack.callsTo("chat.postMessage").filter((c) => String(c.args.channel).startsWith("D"))).toHaveLength(0);
    expect(dmsTo("U0BOB")).toBe(0);
  });

  it("a run-time override decides who tier 2 reaches", async () => {
    await new OverrideStore(redis, prefix).add({ schedule: "primary", person: "carol", from: Date.now() - 1_000, to: Date.now() + 3_600_000 });
    // Who, not when: tier 2 right after tier 1 (Slack's pacing still spaces the posts).
    await start(config([twoTiers[0], { after: "100ms", notify: ["oncall:primary"] }]));
    const rec = await store.create(newApproval());
    await slack.waitFor("conversations.open", (c) => c.args.users === "U0CAROL", 8_000);
    expect(await store.notified(rec.id)).toContain("person:carol");
    expect(dmsTo("U0BOB")).toBe(0);
  });

  it("the end action denies as clawgate with the configured reason once the chain is exhausted", async () => {
    await start(config({ tiers: [{ after: "0s", notify: [`slack:${CHANNEL}`] }, { after: "1s", notify: ["oncall:primary"] }], end: { deny: "nobody on call answered", after: "1s" } }));
    const rec = await store.create(newApproval());
    await slack.waitFor("conversations.open", (c) => c.args.users === "U0BOB", 6_000);
    await expect.poll(async () => (await store.require(rec.id)).state, { timeout: 6_000 }).toBe("denied");
    expect(await store.require(rec.id)).toMatchObject({ decision: "deny", decidedBy: "clawgate", decidedVia: "clawgate", decisionReason: "nobody on call answered" });
    await slack.waitFor("chat.update", (c) => JSON.stringify(c.args.blocks).includes("nobody on call answered"));
  });

  it("repeats the chain: the second pass reaches the on-call person again in their DM's thread", async () => {
    await start(config({ tiers: [{ after: "0s", notify: [`slack:${CHANNEL}`] }, { after: "1s", notify: ["oncall:primary"] }], repeat: 1, repeatAfter: "1s" }));
    const rec = await store.create(newApproval());
    const dm = await slack.waitFor("chat.postMessage", (c) => String(c.args.channel).startsWith("D"), 6_000);
    // Pass 2: tier 2 re-notifies the channel, tier 3 bob — each as a note in their card's thread.
    await expect.poll(async () => (await store.require(rec.id)).tier, { timeout: 8_000 }).toBe(3);
    await slack.waitFor("chat.postMessage", (c) => c.args.channel === dm.args.channel && c.args.thread_ts !== undefined, 3_000);
    await slack.waitFor("chat.postMessage", (c) => c.args.channel === CHANNEL && c.args.thread_ts !== undefined, 3_000);
    expect(slack.callsTo("chat.postMessage").filter((c) => String(c.args.channel).startsWith("D") && !c.args.thread_ts)).toHaveLength(1);
  });

  it("remindBefore posts a reminder under every card before the deadline", async () => {
    await start(config({ tiers: [{ after: "0s", notify: [`slack:${CHANNEL}`] }, { after: "1s", notify: ["oncall:primary"] }], remindBefore: "5s" }));
    // Due at 3s; Slack's 1 post/s pacing delays the second reminder by a second or so.
    const rec = await store.create(newApproval({ timeoutMs: 8_000 }));
    const dm = await slack.waitFor("chat.postMessage", (c) => String(c.args.channel).startsWith("D"), 6_000);
    const reminder = await slack.waitFor("chat.postMessage", (c) => c.args.channel === dm.args.channel && String(c.args.text).includes("Reminder"), 6_000);
    expect(reminder.at - rec.createdAt).toBeGreaterThanOrEqual(2_900);
    expect(reminder.at).toBeLessThan(rec.deadline);
    await slack.waitFor("chat.postMessage", (c) => c.args.channel === CHANNEL && String(c.args.text).includes("Reminder"), 3_000);
  });

  it("a restarted serve neither loses nor repeats a tier", async () => {
    const cfg = config([
      { after: "0s", notify: [`slack:${CHANNEL}`] },
      { after: "1500ms", notify: ["oncall:primary"] },
    ]);
    const first = await start(cfg);
    const rec = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks ?? "").includes(rec.id));
    await first.close();
    services = [];
    // Down while tier 2 falls due.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(dmsTo("U0BOB")).toBe(0);
    await start(cfg);
    await slack.waitFor("conversations.open", (c) => c.args.users === "U0BOB", 8_000);
    await expect.poll(() => slack.callsTo("chat.postMessage").filter((c) => String(c.args.channel).startsWith("D")).length).toBe(1);
    // Another restart, and the created/escalated events handled again, change nothing.
    await services[0]?.close();
    services = [];
    await start(cfg);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(slack.callsTo("chat.postMessage").filter((c) => String(c.args.channel).startsWith("D"))).toHaveLength(1);
    expect(slack.callsTo("chat.postMessage").filter((c) => c.args.channel === CHANNEL && !c.args.thread_ts)).toHaveLength(1);
    expect((await store.require(rec.id)).tier).toBe(1);
  });

  it("pages PagerDuty on escalation (dedup key = approval id) and resolves on the decision", async () => {
    pd = await startFakePagerDuty();
    const svc = await start(
      config(
        [
          { after: "0s", notify: [`slack:${CHANNEL}`] },
          { after: "1s", notify: ["oncall:primary", "pagerduty"] },
        ],
        { pagerduty: { routingKey: "R0UTINGKEY0123456789abcdef012345", apiUrl: pd.apiUrl } },
      ),
    );
    const rec = await store.create(newApproval());
    const trigger = await pd.waitFor((e) => e.event_action === "trigger", 6_000);
    expect(trigger).toMatchObject({ routing_key: "R0UTINGKEY0123456789abcdef012345", dedup_key: rec.id, payload: { severity: "warning" } });
    await slack.waitFor("conversations.open", (c) => c.args.users === "U0BOB", 6_000);
    await click(svc, cardFor(rec.id, CHANNEL) as FakeSlackMessage, "U0ALICE");
    await pd.waitFor((e) => e.event_action === "resolve" && e.dedup_key === rec.id);
    expect(pd.incidents.get(`R0UTINGKEY0123456789abcdef012345|${rec.id}`)).toEqual({ state: "resolved", triggers: 1 });
  });
});
