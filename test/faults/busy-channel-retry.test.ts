import { describe, expect, it } from "vitest";
import { ApprovalService } from "../../src/approvals/service.ts";
import { newApproval, silentLog, testSigner } from "../helpers/fixtures.ts";
import { REDIS_URL } from "../helpers/redis.ts";
import { cardsFor, faultSuite, hasButtons, serveConfig, SLACK_CHANNEL, slackRef, startServe, storeOn, until, writeConfig } from "./harness.ts";

const suite = faultSuite("fault-busy");

describe("a busy channel between an interrupted post and its retry", () => {
  it("260 newer messages later the restarted serve still finds the card (paging history) instead of posting another", { timeout: 60_000 }, async () => {
    const { procs, slack, redis, prefix } = suite;
    const config = writeConfig(procs.tmp("busy"), "serve.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack }));
    slack.failNext("chat.postMessage", [{ answerAfterMs: 60_000 }]);
    const first = await startServe(procs, config, REDIS_URL, "serve-1");
    const store = storeOn(redis, prefix);
    const rec = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks).includes(rec.id), 10_000);
    await first.kill();
    // People keep talking in the approvals channel meanwhile.
    for (let i = 0; i < 260; i++) slack.postAsUser(SLACK_CHANNEL, "U0BOB", `deploy chatter ${i}`);

    await startServe(procs, config, REDIS_URL, "serve-2");
    const ref = await until("the card's ref to be saved", async () => (await slackRef(redis, prefix, rec.id))?.ref, 15_000);
    expect(cardsFor(slack, rec.id).map((m) => ({ ts: m.ts, live: hasButtons(m) }))).toEqual([{ ts: ref.ts, live: true }]);
    expect(slack.callsTo("chat.postMessage")).toHaveLength(1);
    const pages = slack.callsTo("conversations.history");
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(pages.some((c) => typeof c.args.cursor === "string" && c.args.cursor !== "")).toBe(true);

    await new ApprovalService(store, silentLog, testSigner).decide({ id: rec.id, decision: "allow-once", actor: "cli:carol", via: "cli" });
    await until("the card's entry to be closed", async () => (await slackRef(redis, prefix, rec.id))?.closed, 10_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const cards = cardsFor(slack, rec.id);
    expect(cards.map((m) => ({ ts: m.ts, live: hasButtons(m), edits: m.updates }))).toEqual([{ ts: ref.ts, live: false, edits: 1 }]);
    expect(slack.callsTo("chat.postMessage")).toHaveLength(1);
  });
});
