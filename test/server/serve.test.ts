import { PassThrough } from "node:stream";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/log.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { newApproval, silentLog, testConfig } from "../helpers/fixtures.ts";

let redis: Redis;
let prefix: string;
let out: PassThrough;
let printed: string;
let svc: RunningService;
let store: ApprovalStore;
const TOKEN = "test-token-0123456789";

async function until<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What the plugin does on an ask: one script writes the record and its event; serve does the rest. */
async function ask(over = {}) {
  return store.create(newApproval(over));
}

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("serve");
  out = new PassThrough();
  printed = "";
  out.on("data", (d: Buffer) => (printed += d.toString()));
  const config = testConfig(prefix, { server: { port: 0, apiToken: TOKEN, maxBodyBytes: 2_048 } });
  svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog, out });
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
});
afterEach(async () => {
  await svc.close();
  await deleteKeys(redis, prefix);
});

describe("clawgate serve", () => {
  it("prints the rendered request through the log channel, then the outcome once decided", async () => {
    const rec = await ask({ params: { command: "git push origin main", token: "secret-value-123" } });
    await until(() => printed, (p) => p.includes(`Approval needed: ${rec.id}`));
    expect(printed).toContain("exec");
    expect(printed).toContain("exec(git push *)");
    expect(printed).not.toContain("secret-value-123");
    const res = await fetch(`${svc.url}/api/v1/approvals/${rec.id}/decision`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ decision: "deny", reason: "change freeze" }),
    });
    expect(res.status).toBe(200);
    await until(() => printed, (p) => p.includes(`${rec.id} denied by api:admin via api: change freeze`));
    const refs = await store.refs(rec.id);
    expect(Object.keys(refs)).toEqual(["log|log|0"]);
  });

  it("expires an unanswered approval at its deadline even with no waiting gateway, and audits it", async () => {
    const rec = await ask({ timeoutMs: 1_000 });
    const expired = await until(() => store.require(rec.id), (r) => r.state === "expired", 6_000);
    expect(expired.decidedAt).toBeGreaterThanOrEqual(rec.deadline);
    await until(() => printed, (p) => p.includes(`${rec.id} timed out`));
    const audit = new AuditLog(redis, { prefix });
    const events = await audit.read({ limit: 100 });
    expect(events.map((e) => e.event.type)).toContain("approval.expired");
    expect((await audit.verify()).ok).toBe(true);
  });

  it("answers a second decision with who decided first, and leaves the first standing", async () => {
    const rec = await ask();
    const post = (body: object) =>
      fetch(`${svc.url}/api/v1/approvals/${rec.id}/decision`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
    expect((await post({ decision: "allow-once" })).status).toBe(200);
    const second = await post({ decision: "deny", reason: "late" });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { message: string } }).error.message).toContain("already approved by api:admin via api");
    expect((await store.require(rec.id)).decidedBy).toBe("api:admin");
  });

  it("refuses API calls without the bearer token, unknown ids, bad bodies and oversized bodies", async () => {
    const rec = await ask();
    const url = `${svc.url}/api/v1/approvals/${rec.id}/decision`;
    expect((await fetch(url, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await fetch(url, { method: "POST", headers: { authorization: "Bearer wrong-token-xxxxxxxx" }, body: "{}" })).status).toBe(401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${svc.url}/api/v1/approvals/ap_000000000000`, { headers: auth })).status).toBe(404);
    expect((await fetch(url, { method: "POST", headers: auth, body: "not json" })).status).toBe(400);
    expect((await fetch(url, { method: "POST", headers: auth, body: JSON.stringify({ decision: "maybe" }) })).status).toBe(400);
    expect((await fetch(url, { method: "POST", headers: auth, body: JSON.stringify({ decision: "deny" }) })).status).toBe(400);
    expect((await fetch(url, { method: "POST", headers: auth, body: JSON.stringify({ decision: "deny", reason: "x".repeat(5_000) }) })).status).toBe(413);
    expect((await store.require(rec.id)).state).toBe("pending");
    const list = (await (await fetch(`${svc.url}/api/v1/approvals`, { headers: auth })).json()) as { approvals: Array<{ id: string }> };
    expect(list.approvals.map((a) => a.id)).toEqual([rec.id]);
  });

  it("serves health, readiness and Prometheus metrics with approval counts and latency", async () => {
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
    const rec = await ask();
    await fetch(`${svc.url}/api/v1/approvals/${rec.id}/decision`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ decision: "allow-once" }) });
    const text = await until(
      async () => (await fetch(`${svc.url}/metrics`)).text(),
      (t) => /clawgate_approvals_resolved_total\{state="approved",via="api"\} 1/.test(t),
    );
    expect(text).toMatch(/clawgate_approval_decision_seconds_count\{state="approved"\} 1/);
    expect(text).toMatch(/clawgate_approvals_pending 0/);
  });
});
