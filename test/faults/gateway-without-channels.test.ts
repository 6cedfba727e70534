import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ACTIONS } from "../../templates/slack.ts";
import { clickButton, interactionBody, signSlackRequest } from "../fakes/slack-signing.ts";
import { REDIS_URL } from "../helpers/redis.ts";
import {
  APPROVER,
  cardsFor,
  gatewayConfig,
  hasButtons,
  pendingApproval,
  serveConfig,
  SLACK_SECRET,
  slackRef,
  startGateway,
  startServe,
  storeOn,
  until,
  writeConfig,
  faultSuite,
} from "./harness.ts";

const suite = faultSuite("fault-nochan");

describe("a gateway whose config has no channel blocks", () => {
  it("asks; serve (which has the Slack block) posts the card; a click there lets the call run", { timeout: 60_000 }, async () => {
    const { procs, slack, redis, prefix } = suite;
    const dir = procs.tmp("nochan");
    const gatewayFile = writeConfig(dir, "gateway.yaml", gatewayConfig(REDIS_URL, prefix));
    expect(Object.keys(JSON.parse(readFileSync(gatewayFile, "utf8")) as object).sort()).toEqual(["approvals", "keys", "policy", "redis"]);
    const serve = await startServe(procs, writeConfig(dir, "serve.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack })), REDIS_URL);
    const gateway = await startGateway(procs, gatewayFile, REDIS_URL);

    const id = await pendingApproval(redis, prefix, 15_000);
    const ref = await until("the card's ref", async () => (await slackRef(redis, prefix, id))?.ref, 10_000);
    const [card] = cardsFor(slack, id);
    expect(card && { channel: card.channel, ts: card.ts, live: hasButtons(card) }).toEqual({ channel: ref.channel, ts: ref.ts, live: true });

    const body = interactionBody(clickButton(structuredClone(card as NonNullable<typeof card>), ACTIONS.approve, { userId: APPROVER, responseUrl: slack.responseUrl("click-1", ref) }));
    const res = await fetch(`${serve.url}/slack/events`, { method: "POST", headers: { ...signSlackRequest(SLACK_SECRET, body) }, body });
    expect(res.status).toBe(200);

    expect(await gateway.result(10_000)).toBeNull();
    expect(await storeOn(redis, prefix).require(id)).toMatchObject({ state: "approved", decidedBy: `slack:${APPROVER}`, decidedVia: "slack" });
    await slack.waitFor("chat.update", (c) => c.args.ts === ref.ts, 10_000);
    expect(cardsFor(slack, id).filter(hasButtons)).toEqual([]);
  });
});
