import { describe, expect, it } from "vitest";
import { ApprovalService } from "../../src/approvals/service.ts";
import { INTENT_SETTLE_MS, WORKER_SETTINGS } from "../../queue/jobs.ts";
import { newApproval, silentLog, testSigner } from "../helpers/fixtures.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { cardsFor, hasButtons, PrivateRedis, serveConfig, slackRef, startServe, storeOn, until, writeConfig, processSuite } from "./harness.ts";

const suite = processSuite();

describe("Redis stalls while a slow Slack post is in flight", () => {
  it("the job's lock lapses and a second attempt runs alongside the first, yet one live card remains and the decision edits it", { timeout: 60_000 }, async () => {
    const { procs, slack } = suite;
    const redis = await PrivateRedis.start(procs);
    const prefix = uniquePrefix("fault-stallpost");
    const config = writeConfig(procs.tmp("stallpost"), "serve.yaml", serveConfig({ redisUrl: redis.url, prefix, slack }));
    const client = procs.redis(redis.url);
    const store = storeOn(client, prefix);
    const serve = await startServe(procs, config, redis.url);

    // Slack sits on the first post (until released below): it has not created the message yet.
    slack.failNext("chat.postMessage", [{ hangMs: 60_000 }]);
    const rec = await store.create(newApproval());
    await until("the post to be under way", async () => (await slackRef(client, prefix, rec.id))?.s === "posting", 10_000, 10);
    // Longer than the job lock: serve cannot renew it, so once Redis is back BullMQ hands the
    // job to another attempt while the first one's post is still in flight.
    redis.stall();
    await new Promise((r) => setTimeout(r, WORKER_SETTINGS.lockDuration + 500));
    redis.resume();
    // The second attempt finds no message for the first one's intent and, rather than post a
    // second card at once, waits until that intent has settled (no message can land any more,
    // as far as the bound covers); then it posts.
    await slack.waitFor("chat.postMessage", (c) => c.status === 200 && JSON.stringify(c.args.blocks).includes(rec.id), INTENT_SETTLE_MS + 10_000);

    // Now the first post lands too, far later than any provider takes: its still-running attempt
    // finds its intent replaced and takes its card back.
    expect(slack.releaseHeld()).toBe(1);
    await until(
      "a single card for the approval",
      () => slack.callsTo("chat.postMessage").length === 2 && cardsFor(slack, rec.id).length === 1,
      10_000,
    );
    const ref = await until("the card's ref", async () => (await slackRef(client, prefix, rec.id))?.ref, 5_000);
    expect(cardsFor(slack, rec.id).map((m) => ({ ts: m.ts, live: hasButtons(m) }))).toEqual([{ ts: ref.ts, live: true }]);

    await new ApprovalService(store, silentLog, testSigner).decide({ id: rec.id, decision: "allow-once", actor: "cli:carol", via: "cli" });
    await slack.waitFor("chat.update", (c) => c.args.ts === ref.ts, 10_000);
    expect(cardsFor(slack, rec.id).filter(hasButtons)).toEqual([]);
    expect(serve.running).toBe(true);
  });
});
