import { describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/log.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { runCli } from "../helpers/cli.ts";
import { newApproval, silentLog, testSigner } from "../helpers/fixtures.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { PrivateRedis, serveConfig, slackRef, startServe, storeOn, until, writeConfig, processSuite } from "./harness.ts";

const suite = processSuite();

describe("a transient Redis error while serve records a decision", () => {
  it("the audit chain still gets the decision, exactly once, and verifies", { timeout: 60_000 }, async () => {
    const { procs, slack } = suite;
    const redis = await PrivateRedis.start(procs);
    const prefix = uniquePrefix("fault-audit");
    const admin = procs.redis(redis.url);
    // serve logs in as its own Redis user, so Redis can refuse its audit writes alone.
    await admin.call("ACL", "SETUSER", "serve", "on", ">serve-pw", "allkeys", "allchannels", "+@all");
    const serveUrl = `redis://serve:serve-pw@127.0.0.1:${redis.port}`;
    const config = writeConfig(procs.tmp("audit"), "serve.yaml", serveConfig({ redisUrl: serveUrl, prefix, slack }));
    const env = { REDIS_URL: redis.url };
    const serve = await startServe(procs, config, serveUrl);

    const store = storeOn(admin, prefix);
    const rec = await store.create(newApproval());
    await until("the card's ref", async () => (await slackRef(admin, prefix, rec.id))?.s === "posted", 10_000);
    const audit = new AuditLog(admin, { prefix });
    const types = async () => (await audit.read({ limit: 100 })).map((e) => e.event).filter((e) => e.approvalId === rec.id).map((e) => e.type);
    await until("the created entry", async () => (await types()).includes("approval.created"), 5_000);

    // The fault: every key but the audit log's stays writable for serve (the audit keys are
    // `{prefix}:audit*`; the approvals' are `{prefix}:approval*`).
    await admin.call("ACL", "SETUSER", "serve", "resetkeys", `~{${prefix}}:[^a]*`, `~{${prefix}}:ap*`);
    await new ApprovalService(store, silentLog, testSigner).decide({ id: rec.id, decision: "allow-once", actor: "cli:carol", via: "cli" });
    const refused = await until(
      "serve to fail appending the decision to the audit log",
      () => serve.logs().find((l) => l.event === "approval.decided" && l.msg === "event handler failed; will retry" && String(l.err).includes("audit log")),
      10_000,
    );
    expect(String(refused.err)).toContain("NOPERM");
    expect(await types()).toEqual(["approval.created"]);
    await admin.call("ACL", "SETUSER", "serve", "allkeys");

    await until("the decision in the audit log", async () => (await types()).includes("decision"), 10_000, 50);
    const verify = await runCli(["audit", "verify", "--config", config], env);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^audit log OK: 2 entries/);
    expect(await types()).toEqual(["approval.created", "decision"]);
    expect(serve.running).toBe(true);
  });
});
