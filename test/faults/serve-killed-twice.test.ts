import { describe, expect, it } from "vitest";
import { ApprovalService } from "../../src/approvals/service.ts";
import { newApproval, silentLog, testSigner } from "../helpers/fixtures.ts";
import { REDIS_URL } from "../helpers/redis.ts";
import { cardsFor, hasButtons, serveConfig, SLACK_CHANNEL, slackRef, startServe, storeOn, until, writeConfig, faultSuite } from "./harness.ts";

const suite = faultSuite("fault-twice");

describe("serve SIGKILLed twice while delivering one notification", () => {
  it("the third serve still delivers it, exactly once", { timeout: 60_000 }, async () => {
    const { procs, slack, redis, prefix } = suite;
    const config = writeConfig(procs.tmp("twice"), "serve.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack }));
    // Crash 1: the post reached Slack, its answer never came back.
    slack.failNext("chat.postMessage", [{ answerAfterMs: 60_000 }]);
    // Crash 2: the next serve's look-up of that post (by its nonce) hangs the same way.
    slack.failNext("conversations.history", [{ answerAfterMs: 60_000 }]);
    const first = await startServe(procs, config, REDIS_URL, "serve-1");
    const store = storeOn(redis, prefix);
    const rec = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks).includes(rec.id), 10_000);
    await first.kill();

    const second = await startServe(procs, config, REDIS_URL, "serve-2");
    await slack.waitFor("conversations.history", () => true, 10_000);
    expect((await slackRef(redis, prefix, rec.id))?.s).toBe("posting");
    await second.kill();

    await startServe(procs, config, REDIS_URL, "serve-3");
    const ref = await until("the card's ref to be saved", async () => (await slackRef(redis, prefix, rec.id))?.ref, 10_000);
    expect(cardsFor(slack, rec.id).map((m) => ({ channel: m.channel, ts: m.ts, live: hasButtons(m) }))).toEqual([{ channel: SLACK_CHANNEL, ts: ref.ts, live: true }]);

    await new ApprovalService(store, silentLog, testSigner).decide({ id: rec.id, decision: "deny", actor: "cli:carol", via: "cli", reason: "not during the freeze" });
    await slack.waitFor("chat.update", (c) => c.args.ts === ref.ts, 10_000);
    const after = cardsFor(slack, rec.id);
    expect(after).toHaveLength(1);
    expect(after.filter(hasButtons)).toEqual([]);
    expect(JSON.stringify(after[0]?.blocks)).toContain("not during the freeze");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(1);
  });
});
