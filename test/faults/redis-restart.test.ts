import { describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/log.ts";
import { runCli } from "../helpers/cli.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import {
  cardsFor,
  gatewayConfig,
  hasButtons,
  pendingApproval,
  PrivateRedis,
  serveConfig,
  slackRef,
  startGateway,
  startServe,
  until,
  writeConfig,
  processSuite,
  cliEnvAs,
} from "./harness.ts";

const suite = processSuite();

describe("Redis restarted mid-approval", () => {
  it("nothing is lost: the waiting call gets the decision, the card is edited, the audit chain holds it", { timeout: 60_000 }, async () => {
    const { procs, slack } = suite;
    const redis = await PrivateRedis.start(procs);
    const prefix = uniquePrefix("fault-redis");
    const dir = procs.tmp("redis-restart");
    const serveFile = writeConfig(dir, "serve.yaml", serveConfig({ redisUrl: redis.url, prefix, slack }));
    const gatewayFile = writeConfig(dir, "gateway.yaml", gatewayConfig(redis.url, prefix));
    const client = procs.redis(redis.url);

    const serve = await startServe(procs, serveFile, redis.url);
    const env = await cliEnvAs("carol", serve, redis.url, prefix);
    const gateway = await startGateway(procs, gatewayFile, redis.url);
    const id = await pendingApproval(client, prefix, 15_000);
    const ref = await until("the card's ref", async () => (await slackRef(client, prefix, id))?.ref, 10_000);

    // SIGKILL: no clean shutdown; only what the append-only file holds comes back.
    await redis.kill();
    await new Promise((r) => setTimeout(r, 300));
    await redis.start();

    const approved = await runCli(["approve", id, "--reason", "after the restart", "--config", serveFile], env);
    expect(approved.stderr).toBe("");
    expect(approved.stdout).toContain(`approved ${id}`);
    expect(await gateway.result(10_000)).toBeNull();

    await slack.waitFor("chat.update", (c) => c.args.ts === ref.ts, 10_000);
    expect(cardsFor(slack, id).map((m) => ({ ts: m.ts, live: hasButtons(m) }))).toEqual([{ ts: ref.ts, live: false }]);
    expect(JSON.stringify(cardsFor(slack, id)[0]?.blocks)).toContain("after the restart");

    const audit = new AuditLog(client, { prefix });
    const entries = async () => (await audit.read({ limit: 100 })).map((e) => e.event).filter((e) => e.approvalId === id);
    await until("the decision in the audit log", async () => (await entries()).some((e) => e.type === "decision"), 10_000, 50);
    const chain = await entries();
    expect(chain.map((e) => e.type)).toEqual(["approval.created", "decision"]);
    expect(chain[1]).toMatchObject({ actor: "api:carol", decision: "allow-once", reason: "after the restart" });
    const verify = await runCli(["audit", "verify", "--config", serveFile], env);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^audit log OK: 2 entries/);
  });
});
