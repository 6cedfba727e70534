import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN, runCli } from "../helpers/cli.ts";
import { REDIS_URL } from "../helpers/redis.ts";
import { cardsFor, cliEnvAs, faultSuite, hasButtons, pendingApproval, Proc, serveConfig, slackRef, startServe, storeOn, until, writeConfig } from "./harness.ts";

const suite = faultSuite("fault-cli-req");

/** `clawgate request exec --wait` for a call POLICY asks about, as a process the test can signal. */
function requestProc(config: string): Proc {
  const child = spawn(process.execPath, [BIN, "request", "exec", "--params", '{"command":"git push origin main"}', "--wait", "--json", "--config", config], {
    env: { ...process.env, REDIS_URL, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return suite.procs.add(new Proc("clawgate request", child));
}

/** The Slack card of `id`, once serve has edited it to the outcome: one card, edited once, no buttons. */
async function closedCard(id: string) {
  await until("the card to be closed", async () => (await slackRef(suite.redis, suite.prefix, id))?.closed, 15_000);
  const cards = cardsFor(suite.slack, id);
  expect(cards.map((m) => ({ live: hasButtons(m), edits: m.updates }))).toEqual([{ live: false, edits: 1 }]);
  return cards[0];
}

describe("clawgate request --wait stops waiting", () => {
  it("Ctrl-C: the approval is cancelled at once, its card says so, and a later approve releases nothing", { timeout: 60_000 }, async () => {
    const { procs, redis, prefix, slack } = suite;
    const config = writeConfig(procs.tmp("cli-int"), "clawgate.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack }));
    const serve = await startServe(procs, config, REDIS_URL);
    const cli = requestProc(config);
    const id = await pendingApproval(redis, prefix, 15_000);
    await until("the card", async () => (await slackRef(redis, prefix, id))?.ref, 10_000);

    cli.signal("SIGINT");
    expect((await cli.exited).code).toBe(2);
    expect(JSON.parse(cli.out)).toMatchObject({ id, state: "cancelled", reason: "the requester stopped waiting" });
    expect((await closedCard(id))?.text).toMatch(/cancelled/i);

    const late = await runCli(["approve", id, "--config", config], await cliEnvAs("carol", serve, REDIS_URL, prefix));
    expect(late.code).not.toBe(0);
    expect(`${late.stdout}${late.stderr}`).toMatch(/already cancelled/);
    expect(await storeOn(redis, prefix).require(id)).toMatchObject({ state: "cancelled", decidedBy: "clawgate" });
  });

  it("SIGKILL: it cannot say so, and its lapsed lease gets the approval cancelled and the card edited", { timeout: 60_000 }, async () => {
    const { procs, redis, prefix, slack } = suite;
    const config = writeConfig(procs.tmp("cli-kill"), "clawgate.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack }));
    await startServe(procs, config, REDIS_URL);
    const cli = requestProc(config);
    const id = await pendingApproval(redis, prefix, 15_000);
    await until("the card", async () => (await slackRef(redis, prefix, id))?.ref, 10_000);

    await cli.kill();
    await until("the approval to be cancelled", async () => (await storeOn(redis, prefix).require(id)).state === "cancelled", 15_000, 50);
    expect((await closedCard(id))?.text).toMatch(/cancelled/i);
  });

  it("its deadline passes: the approval expires, it exits 2 and the card says timed out", { timeout: 60_000 }, async () => {
    const { procs, redis, prefix, slack } = suite;
    const config = writeConfig(procs.tmp("cli-exp"), "clawgate.yaml", { ...serveConfig({ redisUrl: REDIS_URL, prefix, slack }), approvals: { timeout: "3s" } });
    await startServe(procs, config, REDIS_URL);
    const cli = requestProc(config);
    const id = await pendingApproval(redis, prefix, 15_000);
    expect((await cli.exited).code).toBe(2);
    expect(JSON.parse(cli.out)).toMatchObject({ id, state: "expired" });
    expect((await closedCard(id))?.text).toMatch(/expired|timed out/i);
  });
});
