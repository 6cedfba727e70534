import { describe, expect, it } from "vitest";
import { INTENT_SETTLE_MS } from "../../queue/jobs.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { newApproval, silentLog, testSigner } from "../helpers/fixtures.ts";
import { REDIS_URL } from "../helpers/redis.ts";
import { cardsFor, faultSuite, hasButtons, serveConfig, SLACK_CHANNEL, slackRef, startServe, storeOn, until, writeConfig } from "./harness.ts";

const suite = faultSuite("fault-decided-mid-post");

describe("the approval ends while its only trace is a posting intent (one serve, SIGKILLed mid-post)", () => {
  it("after a restart the card that reached Slack is found, edited once to the outcome, and nothing is posted again", { timeout: 60_000 }, async () => {
    const { procs, slack, redis, prefix } = suite;
    const config = writeConfig(procs.tmp("decided"), "serve.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack }));
    // Slack takes the post (the card exists, with live buttons) but its answer never gets back.
    slack.failNext("chat.postMessage", [{ answerAfterMs: 60_000 }]);
    const first = await startServe(procs, config, REDIS_URL, "serve-1");
    const store = storeOn(redis, prefix);
    const rec = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks).includes(rec.id), 10_000);
    expect((await slackRef(redis, prefix, rec.id))?.s).toBe("posting");
    await first.kill();

    // Decided while no serve runs: nothing knows the card's ts.
    await new ApprovalService(store, silentLog, testSigner).decide({ id: rec.id, decision: "deny", actor: "cli:carol", via: "cli", reason: "not during the freeze" });
    await startServe(procs, config, REDIS_URL, "serve-2");
    const ref = await until("the card's entry to be closed", async () => {
      const e = await slackRef(redis, prefix, rec.id);
      return e?.s === "posted" && e.closed ? e.ref : undefined;
    }, 15_000);
    // Give a second edit or post every chance to happen before counting.
    await new Promise((r) => setTimeout(r, 2_000));
    const cards = cardsFor(slack, rec.id);
    expect(cards.map((m) => ({ channel: m.channel, ts: m.ts, live: hasButtons(m), edits: m.updates }))).toEqual([{ channel: SLACK_CHANNEL, ts: ref?.ts, live: false, edits: 1 }]);
    expect(JSON.stringify(cards[0]?.blocks)).toContain("not during the freeze");
    expect(slack.callsTo("chat.update").filter((c) => c.args.ts === ref?.ts)).toHaveLength(1);
    expect(slack.callsTo("chat.postMessage")).toHaveLength(1);
    expect(slack.callsTo("conversations.history").length).toBeGreaterThanOrEqual(1);
  });

  it("when the post never reached Slack, the intent is marked unposted once settled and no card is posted after the end", { timeout: 60_000 }, async () => {
    const { procs, slack, redis, prefix } = suite;
    const config = writeConfig(procs.tmp("unposted"), "serve.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack }));
    // A gateway error: Slack may or may not be creating the card (here it never does). serve
    // dies before its retry, leaving the intent.
    slack.failNext("chat.postMessage", [{ status: 502 }]);
    const first = await startServe(procs, config, REDIS_URL, "serve-1");
    const store = storeOn(redis, prefix);
    const rec = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => c.status === 502, 10_000);
    await first.kill();
    expect((await slackRef(redis, prefix, rec.id))?.s).toBe("posting");

    await new ApprovalService(store, silentLog, testSigner).decide({ id: rec.id, decision: "allow-once", actor: "cli:carol", via: "cli" });
    const decidedAt = Date.now();
    await startServe(procs, config, REDIS_URL, "serve-2");
    await until("the intent to be resolved as not posted", async () => (await slackRef(redis, prefix, rec.id))?.s === "unposted", INTENT_SETTLE_MS + 10_000, 100);
    expect(cardsFor(slack, rec.id)).toEqual([]);
    expect(slack.callsTo("chat.postMessage").filter((c) => c.at >= decidedAt)).toEqual([]);
    // It looked for the card (it might have landed) before giving up on it.
    expect(slack.callsTo("conversations.history").length).toBeGreaterThanOrEqual(1);
  });
});
