import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { failedPostLeft, PostTooLateError, type ApprovalContext, type PostMarker } from "../../src/channel/adapter.ts";
import { SlackChannel } from "../../bots/slack/index.ts";
import { CLOCK_SKEW_MS, INTENT_SETTLE_MS } from "../../queue/jobs.ts";
import { newNonce } from "../../queue/refEntry.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { InboundDecisions } from "../../src/inbound/decisions.ts";
import { startFakeSlack, type FakeSlack } from "../fakes/slack.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";

const CHANNEL = "C0APPROVALS";

let redis: Redis;
let slack: FakeSlack;
let prefix: string;
let channel: SlackChannel;
let ctx: ApprovalContext;

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("slack-find");
  slack = await startFakeSlack();
  const config = testConfig(prefix, { log: { enabled: false }, slack: { botToken: slack.botToken, signingSecret: "s".repeat(32), channel: CHANNEL, approvers: { users: ["U0ALICE"] }, apiUrl: slack.apiUrl } });
  const store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  channel = new SlackChannel({ config, log: silentLog, decisions: new InboundDecisions(new ApprovalService(store, silentLog, testSigner), config) });
  ctx = { record: await store.create(newApproval()), refs: [], config, log: silentLog };
});
afterEach(async () => {
  await slack.close();
  await deleteKeys(redis, prefix);
});

const marker = (over: Partial<PostMarker> = {}): PostMarker => ({ refKey: `slack|${CHANNEL}|0`, nonce: newNonce(), at: Date.now(), ...over });

describe("finding a post by its nonce", () => {
  it("finds a card under 450 newer messages, paging conversations.history from the intent's time", async () => {
    const m = marker();
    const card = await channel.post(ctx, { channel: "slack", target: CHANNEL }, "request", 0, m);
    for (let i = 0; i < 450; i++) slack.postAsUser(CHANNEL, "U0BOB", `chatter ${i}`);
    expect(await channel.find(ctx, { channel: "slack", target: CHANNEL }, "request", 0, m)).toEqual(card);
    const pages = slack.callsTo("conversations.history");
    expect(pages).toHaveLength(3);
    expect(pages.map((c) => Boolean(c.args.cursor))).toEqual([false, true, true]);
    // Every page asks for the same window around the intent's time.
    expect(new Set(pages.map((c) => `${c.args.oldest}..${c.args.latest}`)).size).toBe(1);
    expect(Number(pages[0]?.args.oldest)).toBeCloseTo((m.at - CLOCK_SKEW_MS) / 1000, 2);
    expect(Number(pages[0]?.args.latest)).toBeCloseTo((m.at + INTENT_SETTLE_MS + CLOCK_SKEW_MS) / 1000, 2);
  });

  it("finds a thread note through conversations.replies pages, and reports a nonce nobody posted as missing", async () => {
    const card = await channel.post(ctx, { channel: "slack", target: CHANNEL }, "request", 0, marker());
    ctx.refs.push({ target: CHANNEL, tier: 0, ref: card });
    const m = marker({ refKey: `slack|${CHANNEL}|1` });
    const note = await channel.post(ctx, { channel: "slack", target: CHANNEL, label: "Bob" }, "escalated", 1, m);
    expect(note).toMatchObject({ thread: true });
    for (let i = 0; i < 250; i++) slack.postAsUser(CHANNEL, "U0BOB", `reply ${i}`, String(card.ts));
    // Replies come oldest first: the note is on the first page, found without reading on.
    expect(await channel.find(ctx, { channel: "slack", target: CHANNEL }, "escalated", 1, m)).toEqual(note);
    expect(slack.callsTo("conversations.replies")).toHaveLength(1);
    expect(await channel.find(ctx, { channel: "slack", target: CHANNEL }, "escalated", 1, marker({ refKey: m.refKey }))).toBeNull();
    expect(slack.callsTo("conversations.replies")).toHaveLength(3);
  });

  it("does not look outside the window of the intent's time", async () => {
    const m = marker();
    await channel.post(ctx, { channel: "slack", target: CHANNEL }, "request", 0, m);
    // The same nonce, but an intent written ten minutes later: the card is before its window.
    expect(await channel.find(ctx, { channel: "slack", target: CHANNEL }, "request", 0, { ...m, at: m.at + 600_000 })).toBeNull();
  });

  it("sends no post once the marker's send budget is spent", async () => {
    await expect(channel.post(ctx, { channel: "slack", target: CHANNEL }, "request", 0, marker({ sendBy: performance.now() - 1 }))).rejects.toBeInstanceOf(PostTooLateError);
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });
});

describe("what a failed post may have left in Slack", () => {
  const fails = async (fault?: Parameters<FakeSlack["failNext"]>[1][number]) => {
    if (fault) slack.failNext("chat.postMessage", [fault]);
    return channel.post(ctx, { channel: "slack", target: CHANNEL }, "request", 0, marker()).then(
      () => "posted",
      (err: unknown) => failedPostLeft(err),
    );
  };

  it("nothing after a refusal or a 429; one search tells after a 500 or 503; only later after a gateway error", async () => {
    expect(await fails({ status: 429, retryAfter: 1 })).toBe("none");
    expect(await fails({ error: "channel_not_found" })).toBe("none");
    expect(await fails({ status: 500 })).toBe("now");
    expect(await fails({ status: 503 })).toBe("now");
    expect(await fails({ status: 502 })).toBe("later");
    expect(await fails()).toBe("posted");
  });

  it("nothing when Slack cannot be reached at all", async () => {
    await slack.close();
    expect(await fails()).toBe("none");
    slack = await startFakeSlack();
  });
});
