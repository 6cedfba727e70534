import { afterEach, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { startFakeSlack, type FakeSlack } from "../fakes/slack.ts";
import { newApproval } from "../helpers/fixtures.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { cardsFor, freezeWhileReading, PrivateRedis, Procs, serveConfig, slackRef, startServe, storeOn, until, writeConfig } from "./harness.ts";

/** The bound: a restarted serve redelivers within 5 s (it used to take ~60 s). */
const REDELIVERY_MS = 5_000;

let procs: Procs;
let slack: FakeSlack;
let prefix: string;

beforeEach(async () => {
  procs = new Procs();
  slack = await startFakeSlack();
  prefix = uniquePrefix("fault-redeliver");
  onTestFailed(() => console.error(procs.dump()));
});
afterEach(async () => {
  await procs.cleanup();
  await slack.close();
});

describe("a restarted serve redelivers promptly", () => {
  it("an interrupted post, an event read but not handled, and a request made while serve was down: all delivered within 5 s of the restart", { timeout: 60_000 }, async () => {
    // A Redis of its own: freezeWhileReading finds serve's connection among its clients.
    const server = await PrivateRedis.start(procs);
    const redis = procs.redis(server.url);
    const config = writeConfig(procs.tmp("redeliver"), "serve.yaml", serveConfig({ redisUrl: server.url, prefix, slack }));
    const store = storeOn(redis, prefix);
    const k = keys(prefix);
    slack.failNext("chat.postMessage", [{ answerAfterMs: 60_000 }]);
    const first = await startServe(procs, config, server.url, "serve-1");

    // 1: the notify job is running (its post hangs) when serve dies.
    const inFlight = await store.create(newApproval());
    await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks).includes(inFlight.id), 10_000);
    // 2: the created event is delivered to serve's consumer, which dies before handling it.
    await freezeWhileReading(first, redis);
    const unhandled = await store.create(newApproval({ params: { command: "git push origin unhandled" } }));
    const pel = (await redis.xpending(k.events, "serve", "-", "+", 10)) as Array<[string, string, number, number]>;
    expect(pel, "the event was handed to the frozen serve").toHaveLength(1);
    await first.kill();
    // 3: asked while no serve runs.
    const whileDown = await store.create(newApproval({ params: { command: "git push origin down" } }));

    const second = await startServe(procs, config, server.url, "serve-2");
    const delivered = async (id: string) => {
      await until(`the card of ${id} to be saved`, async () => (await slackRef(redis, prefix, id))?.s === "posted", REDELIVERY_MS + 5_000, 10);
      return Date.now() - second.readyAt;
    };
    const [inFlightMs, unhandledMs, whileDownMs] = await Promise.all([delivered(inFlight.id), delivered(unhandled.id), delivered(whileDown.id)]);
    expect(inFlightMs, "interrupted post: ms from /readyz to the saved card").toBeLessThan(REDELIVERY_MS);
    expect(unhandledMs, "event read by the dead serve: ms from /readyz to the saved card").toBeLessThan(REDELIVERY_MS);
    expect(whileDownMs, "request made while serve was down: ms from /readyz to the saved card").toBeLessThan(REDELIVERY_MS);
    for (const id of [inFlight.id, unhandled.id, whileDown.id]) expect(cardsFor(slack, id), id).toHaveLength(1);
  });
});
