import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { newApproval } from "../helpers/fixtures.ts";
import { REDIS_URL } from "../helpers/redis.ts";
import { cardsFor, cliEnvAs, hasButtons, serveConfig, SLACK_CHANNEL, slackRef, startServe, storeOn, until, writeConfig, faultSuite } from "./harness.ts";

const suite = faultSuite("fault-post");

describe("serve SIGKILLed while a Slack post is in flight", () => {
  it("after a restart there is exactly one card, and the decision edits that card", { timeout: 60_000 }, async () => {
    const { procs, slack, redis, prefix } = suite;
    const config = writeConfig(procs.tmp("post"), "serve.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack }));
    // Slack takes the post (the card exists) but its answer never gets back to this serve.
    slack.failNext("chat.postMessage", [{ answerAfterMs: 60_000 }]);
    const first = await startServe(procs, config, REDIS_URL, "serve-1");
    const rec = await storeOn(redis, prefix).create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks).includes(rec.id), 10_000);
    expect((await slackRef(redis, prefix, rec.id))?.s).toBe("posting");
    await first.kill();

    const second = await startServe(procs, config, REDIS_URL, "serve-2");
    const ref = await until("the card's ref to be saved", async () => (await slackRef(redis, prefix, rec.id))?.ref, 10_000);
    const cards = cardsFor(slack, rec.id);
    expect(cards.map((m) => ({ channel: m.channel, ts: m.ts, live: hasButtons(m) }))).toEqual([{ channel: SLACK_CHANNEL, ts: ref.ts, live: true }]);
    // The restarted serve found the card by its nonce instead of posting another.
    expect(slack.callsTo("conversations.history").length).toBeGreaterThanOrEqual(1);

    const approved = await runCli(["approve", rec.id, "--config", config], await cliEnvAs("carol", second, REDIS_URL, prefix));
    expect(approved.stderr).toBe("");
    expect(approved.stdout).toContain(`approved ${rec.id}`);
    await slack.waitFor("chat.update", (c) => c.args.ts === ref.ts, 10_000);
    const after = cardsFor(slack, rec.id);
    expect(after).toHaveLength(1);
    expect(after.filter(hasButtons)).toEqual([]);
    expect(after[0]?.text).toContain("approved");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(1);
  });
});
