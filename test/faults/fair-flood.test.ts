import { describe, expect, it } from "vitest";
import { TooManyPendingError } from "../../src/errors.ts";
import { newApproval } from "../helpers/fixtures.ts";
import { faultSuite, serveConfig, startServe, storeOn, writeConfig } from "./harness.ts";

/** The bound: another agent's first card within 5 s of its ask. */
const FIRST_CARD_MS = 5_000;

const s = faultSuite("fault-fair");

describe("fair across agents under one agent's flood (real serve, Slack at its pace)", () => {
  it("one agent's 2,000 asks over 200 sessions hold back another agent's first card by less than 5 s", { timeout: 120_000 }, async () => {
    const config = writeConfig(s.procs.tmp("fair"), "serve.yaml", serveConfig({ redisUrl: "redis://127.0.0.1:6379", prefix: s.prefix, slack: s.slack }));
    await startServe(s.procs, config, "redis://127.0.0.1:6379");
    const store = storeOn(s.redis, s.prefix);

    // The flood: as its gateways would, one agent asks 2,000 times across 200 sessions; the
    // per-agent cap (200) turns the rest away at once.
    const outcomes = await Promise.all(
      Array.from({ length: 2_000 }, (_, i) =>
        store.create(newApproval({ agentId: "flood", sessionKey: `agent:flood:s${i % 200}`, params: { command: `git push origin f${i}` } })).then(
          () => "pending",
          (err: unknown) => (err instanceof TooManyPendingError ? "capped" : String(err)),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === "pending")).toHaveLength(200);
    expect(outcomes.filter((o) => o === "capped")).toHaveLength(1_800);
    // serve has queued the flood's cards and is posting them, one a second.
    await s.slack.waitFor("chat.postMessage", (c) => c.status === 200, 15_000);
    await s.slack.waitFor("chat.postMessage", (c) => c.status === 200 && s.slack.callsTo("chat.postMessage").filter((x) => x.status === 200).length >= 3, 15_000);

    const askedAt = Date.now();
    const other = await store.create(newApproval({ agentId: "other", sessionKey: "agent:other:main", params: { command: "git push origin other" } }));
    const card = await s.slack.waitFor("chat.postMessage", (c) => c.status === 200 && JSON.stringify(c.args.blocks ?? "").includes(other.id), FIRST_CARD_MS + 10_000);
    const floodBefore = s.slack.callsTo("chat.postMessage").filter((c) => c.status === 200 && c.at > askedAt && c.at < card.at).length;
    console.log(`fair flood: other agent's first card ${card.at - askedAt} ms after its ask, ${floodBefore} flood cards between`);
    expect(card.at - askedAt, "ms from the other agent's ask to its card").toBeLessThan(FIRST_CARD_MS);
    // It jumped the flood's queue: at most the post under way and one tied with it went first.
    expect(floodBefore).toBeLessThanOrEqual(2);
  });
});
