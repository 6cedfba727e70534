import { describe, expect, it } from "vitest";
import { REDIS_URL } from "../helpers/redis.ts";
import {
  cardsFor,
  gatewayConfig,
  hasButtons,
  pendingApproval,
  serveConfig,
  slackRef,
  startGateway,
  startServe,
  storeOn,
  until,
  writeConfig,
  faultSuite,
} from "./harness.ts";

/** The bound: a dead gateway's approval is cancelled within 10 s. */
const CANCEL_MS = 10_000;

const suite = faultSuite("fault-gw");

describe("gateway SIGKILLed while a call waits for approval", () => {
  it("the approval is cancelled within 10 s and the Slack card says so, without buttons", { timeout: 60_000 }, async () => {
    const { procs, slack, redis, prefix } = suite;
    const dir = procs.tmp("gw");
    await startServe(procs, writeConfig(dir, "serve.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack })), REDIS_URL);
    const gateway = await startGateway(procs, writeConfig(dir, "gateway.yaml", gatewayConfig(REDIS_URL, prefix)), REDIS_URL);
    const id = await pendingApproval(redis, prefix, 15_000);
    const ref = await until("the card's ref", async () => (await slackRef(redis, prefix, id))?.ref, 10_000);
    expect(hasButtons(cardsFor(slack, id)[0] as never)).toBe(true);

    await gateway.kill();
    const killedAt = Date.now();
    const store = storeOn(redis, prefix);
    await until("the approval to be cancelled", async () => (await store.require(id)).state === "cancelled", CANCEL_MS + 5_000, 50);
    expect(Date.now() - killedAt, "ms from SIGKILL to cancelled").toBeLessThan(CANCEL_MS);
    expect(await store.require(id)).toMatchObject({ state: "cancelled", decidedBy: "clawgate" });

    await slack.waitFor("chat.update", (c) => c.args.ts === ref.ts, 10_000);
    const cards = cardsFor(slack, id);
    expect(cards).toHaveLength(1);
    expect(hasButtons(cards[0] as never)).toBe(false);
    expect(cards[0]?.text).toMatch(/cancelled/i);
  });
});
