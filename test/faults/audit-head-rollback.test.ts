import { describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/log.ts";
import { auditKeys } from "../../src/audit/keys.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { runCli } from "../helpers/cli.ts";
import { newApproval, silentLog, testSigner } from "../helpers/fixtures.ts";
import { HMAC_KEY, serveConfig, slackRef, startServe, storeOn, until, writeConfig, faultSuite } from "./harness.ts";
import { REDIS_URL } from "../helpers/redis.ts";

const suite = faultSuite("fault-audit-head");

const metric = async (url: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? Number.NaN);

describe("the audit head rolled back while serve runs", () => {
  it("is reported once and loudly, nothing is dead-lettered, and after `audit repair` the events that waited are appended in order", { timeout: 90_000 }, async () => {
    const { procs, slack, redis, prefix } = suite;
    const config = writeConfig(procs.tmp("audit-head"), "serve.yaml", serveConfig({ redisUrl: REDIS_URL, prefix, slack }));
    const serve = await startServe(procs, config, REDIS_URL);
    const store = storeOn(redis, prefix);
    const service = new ApprovalService(store, silentLog, testSigner);
    const audit = new AuditLog(redis, { prefix, hmacKey: HMAC_KEY });
    const entries = async () => (await audit.read({ limit: 100 })).map((e) => `${e.event.type} ${e.event.approvalId ?? ""}`.trim());

    const a = await store.create(newApproval());
    const b = await store.create(newApproval({ params: { command: "git push origin b" } }));
    await until("both requests audited", async () => (await entries()).length === 2, 10_000, 50);
    const k = auditKeys(prefix);
    const [[, first = []] = ["", []]] = await redis.xrange(k.stream, "0-1", "0-1");
    // The rollback: the head names entry 1 again, as if entry 2 had never been appended.
    await redis.hset(k.head, "seq", "1", "hash", first[first.indexOf("hash") + 1] as string);

    await service.decide({ id: a.id, decision: "allow-once", actor: "api:carol", via: "api" });
    const c = await store.create(newApproval({ params: { command: "git push origin c" } }));
    await service.decide({ id: b.id, decision: "deny", actor: "api:carol", via: "api", reason: "not now" });
    const waited = [`decision ${a.id}`, `approval.created ${c.id}`, `decision ${b.id}`];

    await until("three events waiting", async () => (await metric(serve.url, "clawgate_audit_waiting_events")) === 3, 15_000, 100);
    expect(await metric(serve.url, "clawgate_audit_broken")).toBe(1);
    const ready = (await (await fetch(`${serve.url}/readyz`)).json()) as { ok: boolean; problems?: string[] };
    expect(ready.ok, "still ready: approvals keep flowing").toBe(true);
    expect(ready.problems).toEqual([expect.stringMatching(/^audit log broken \(.*head rolled back.*\): 3 event\(s\) wait to be appended, in order, once it is repaired/)]);
    // Approvals are not held up: the new request was posted, the decisions edited their cards.
    await until("c's card", async () => (await slackRef(redis, prefix, c.id))?.s === "posted", 10_000);
    await slack.waitFor("chat.update", (m) => JSON.stringify(m.args).includes(a.id), 10_000);
    // Let the retries run a while: still one report, nothing dead-lettered, nothing appended.
    await new Promise((r) => setTimeout(r, 5_000));
    const loud = serve.logs().filter((l) => Number(l.level) >= 50);
    expect(loud.map((l) => l.msg)).toEqual([expect.stringMatching(/^audit log broken: .* run `clawgate audit verify`, then `clawgate audit repair`$/)]);
    expect(await redis.xlen(`{${prefix}}:events:dead`)).toBe(0);
    expect(await entries()).toHaveLength(2);

    const env = { REDIS_URL };
    const verify = await runCli(["audit", "verify", "--config", config], env);
    expect(verify.code).toBe(7);
    expect(verify.stderr).toMatch(/head_mismatch: the head is at seq 1 but the stream goes on to 2/);
    const repair = await runCli(["audit", "repair", "--config", config], env);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/^audit head repaired: it said seq 1, the log ends at seq 2 and verifies; the repair is entry 3\. Appends resume\./);

    await until("the waiting events appended", async () => (await entries()).length === 6, 15_000, 100);
    expect(await entries()).toEqual([`approval.created ${a.id}`, `approval.created ${b.id}`, "audit.repaired", ...waited]);
    const after = await runCli(["audit", "verify", "--config", config], env);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^audit log OK: 6 entries/);
    await until("the gauges back to 0", async () => (await metric(serve.url, "clawgate_audit_broken")) === 0 && (await metric(serve.url, "clawgate_audit_waiting_events")) === 0, 5_000, 100);
    expect(serve.logs().some((l) => /^audit log repaired: appends resumed/.test(String(l.msg)))).toBe(true);
    expect((await (await fetch(`${serve.url}/readyz`)).json()) as object).not.toHaveProperty("problems");

    // And the next event is audited as usual.
    await service.decide({ id: c.id, decision: "deny", actor: "api:carol", via: "api", reason: "later" });
    await until("the next decision audited", async () => (await entries()).at(-1) === `decision ${c.id}`, 10_000, 50);
  });
});
