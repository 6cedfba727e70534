import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { newApproval } from "../helpers/fixtures.ts";
import { REDIS_URL } from "../helpers/redis.ts";
import { cardsFor, cliEnvAs, faultSuite, hasButtons, serveConfig, SLACK_CHANNEL, slackRef, startServe, storeOn, until, writeConfig } from "./harness.ts";

const suite = faultSuite("fault-two-replicas");

/** Waits until the Slack card's refs entry is closed (edited to the outcome); returns its ref. */
const closedRef = (id: string) =>
  until("the card's entry to be closed", async () => {
    const e = await slackRef(suite.redis, suite.prefix, id);
    return e?.s === "posted" && e.closed ? e.ref : undefined;
  }, 15_000);

describe("two serve replicas: the other one decides while a post is in flight", () => {
  it("the posting replica is alive and its answer comes late: the card is found, edited once, and the late answer changes nothing", { timeout: 60_000 }, async () => {
    const { procs, slack, redis, prefix } = suite;
    const config = writeConfig(procs.tmp("two-alive"), "serve.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack }));
    slack.failNext("chat.postMessage", [{ answerAfterMs: 5_000 }]);
    await startServe(procs, config, REDIS_URL, "serve-a");
    const rec = await storeOn(redis, prefix).create(newApproval());
    const post = await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks).includes(rec.id), 10_000);
    const b = await startServe(procs, config, REDIS_URL, "serve-b");
    expect((await slackRef(redis, prefix, rec.id))?.s).toBe("posting");

    const approved = await runCli(["approve", rec.id, "--config", config], await cliEnvAs("carol", b, REDIS_URL, prefix));
    expect(approved.stdout).toContain(`approved ${rec.id}`);
    const ref = await closedRef(rec.id);
    // serve-a hears back from Slack now, long after the decision, and finds its card saved.
    await until("serve-a's answer to be due", () => Date.now() > post.at + 5_500, 10_000, 100);
    await new Promise((r) => setTimeout(r, 1_000));
    const cards = cardsFor(slack, rec.id);
    expect(cards.map((m) => ({ channel: m.channel, ts: m.ts, live: hasButtons(m), edits: m.updates }))).toEqual([{ channel: SLACK_CHANNEL, ts: ref?.ts, live: false, edits: 1 }]);
    expect(cards[0]?.text).toContain("approved");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(1);
    expect(slack.callsTo("chat.delete")).toEqual([]);
    expect(await slackRef(redis, prefix, rec.id)).toEqual({ s: "posted", ref, closed: true });
  });

  it("the posting replica is SIGKILLed: the other decides and handles it — one card, edited once, no buttons", { timeout: 60_000 }, async () => {
    const { procs, slack, redis, prefix } = suite;
    const config = writeConfig(procs.tmp("two-killed"), "serve.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack }));
    slack.failNext("chat.postMessage", [{ answerAfterMs: 60_000 }]);
    const a = await startServe(procs, config, REDIS_URL, "serve-a");
    const rec = await storeOn(redis, prefix).create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks).includes(rec.id), 10_000);
    const b = await startServe(procs, config, REDIS_URL, "serve-b");
    await a.kill();

    const denied = await runCli(["deny", rec.id, "--reason", "wrong branch", "--config", config], await cliEnvAs("carol", b, REDIS_URL, prefix));
    expect(denied.stdout).toContain(`denied ${rec.id}`);
    const ref = await closedRef(rec.id);
    // serve-b also redelivers serve-a's stalled notify job (its lock lapses): it must neither post nor edit again.
    await new Promise((r) => setTimeout(r, 4_000));
    const cards = cardsFor(slack, rec.id);
    expect(cards.map((m) => ({ channel: m.channel, ts: m.ts, live: hasButtons(m), edits: m.updates }))).toEqual([{ channel: SLACK_CHANNEL, ts: ref?.ts, live: false, edits: 1 }]);
    expect(JSON.stringify(cards[0]?.blocks)).toContain("wrong branch");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(1);
    expect(b.running).toBe(true);
  });
});
