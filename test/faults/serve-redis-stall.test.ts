import { describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/log.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { newApproval, silentLog, testSigner } from "../helpers/fixtures.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { cardsFor, freezeWhileReading, hasButtons, HMAC_KEY, PrivateRedis, serveConfig, slackRef, startServe, storeOn, until, writeConfig, processSuite } from "./harness.ts";

const suite = processSuite();

const status = (url: string) => fetch(url, { signal: AbortSignal.timeout(3_000) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

describe("serve when Redis stalls right after a decision", () => {
  it("keeps running and answering, finishes that decision once Redis is back, and handles the next approval", { timeout: 60_000 }, async () => {
    const { procs, slack } = suite;
    const redis = await PrivateRedis.start(procs);
    const prefix = uniquePrefix("fault-stall");
    const config = writeConfig(procs.tmp("stall"), "serve.yaml", serveConfig({ redisUrl: redis.url, prefix, slack }));
    const client = procs.redis(redis.url);
    const store = storeOn(client, prefix);
    const service = new ApprovalService(store, silentLog, testSigner);
    const serve = await startServe(procs, config, redis.url);

    const first = await store.create(newApproval());
    const firstRef = await until("the first card's ref", async () => (await slackRef(client, prefix, first.id))?.ref, 10_000);
    // Deterministically "right after a decision": serve has been handed the decided event, and
    // Redis stalls before serve can do anything with it.
    await freezeWhileReading(serve, client);
    await service.decide({ id: first.id, decision: "allow-once", actor: "cli:carol", via: "cli" });
    expect((await client.xpending(storeOn(client, prefix).k.events, "serve"))[0], "events handed to serve, not acknowledged").toBe(1);
    redis.stall();
    serve.signal("SIGCONT");
    const failed = await until(
      "serve's handling of the decision to fail on the stalled Redis",
      () => serve.logs().find((l) => l.event === "approval.decided" && l.msg === "event handler failed; will retry"),
      10_000,
    );
    expect(String(failed.err)).toMatch(/timed? ?out/i);
    expect(await status(`${serve.url}/healthz`)).toEqual({ status: 200, body: { ok: true } });
    expect(await status(`${serve.url}/readyz`)).toMatchObject({ status: 503, body: { ok: false, redis: false } });
    expect(serve.running).toBe(true);
    redis.resume();

    await until("/readyz 200 again", async () => (await status(`${serve.url}/readyz`).catch(() => null))?.status === 200, 10_000, 50);
    await slack.waitFor("chat.update", (c) => c.args.ts === firstRef.ts, 10_000);
    expect(cardsFor(slack, first.id).filter(hasButtons)).toEqual([]);

    // The next approval goes through as usual.
    const second = await store.create(newApproval({ params: { command: "git push origin next" } }));
    const secondRef = await until("the second card's ref", async () => (await slackRef(client, prefix, second.id))?.ref, 10_000);
    await service.decide({ id: second.id, decision: "deny", actor: "cli:carol", via: "cli", reason: "later" });
    await slack.waitFor("chat.update", (c) => c.args.ts === secondRef.ts, 10_000);
    expect(cardsFor(slack, second.id).filter(hasButtons)).toEqual([]);

    const audit = new AuditLog(client, { prefix, hmacKey: HMAC_KEY });
    const decisions = async () => (await audit.read({ limit: 100 })).filter((e) => e.event.type === "decision").map((e) => e.event.approvalId);
    await until("both decisions in the audit log", async () => (await decisions()).length >= 2, 10_000, 50);
    expect(await decisions()).toEqual([first.id, second.id]);
    expect(await new AuditLog(client, { prefix, hmacKey: HMAC_KEY }).verify()).toMatchObject({ ok: true, entries: 4 });

    expect(serve.running).toBe(true);
    expect(serve.err).not.toMatch(/unhandled/i);
  });
});
