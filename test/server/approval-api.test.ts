import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { TokenStore } from "../../src/auth/tokens.ts";
import { requestApproval } from "../../src/exports/client.ts";
import { openApiDocument } from "../../src/server/openapi.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { silentLog, testConfig, testSigner, testKeys } from "../helpers/fixtures.ts";

let redis: Redis;
let prefix: string;
let svc: RunningService;
let store: ApprovalStore;
let service: ApprovalService;
let agentToken: string;
let personToken: string;

const policy = { ask: ["deploy(*)", "exec(git push *)"], deny: ["exec(rm -rf *)"] };

/** The approval the API created, as soon as it exists. */
async function firstPending(): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const [id] = await redis.zrange(keys(prefix).pending, "0", "0");
    if (id) return id;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("no approval was created");
}

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("api");
  const config = testConfig(prefix, { policy, server: { port: 0 }, log: { enabled: false } });
  svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog });
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  service = new ApprovalService(store, silentLog, testSigner);
  const tokens = new TokenStore(redis, prefix, { signer: testSigner, keys: testKeys });
  agentToken = (await tokens.create({ name: "bot", kind: "agent", subject: "crew-1" })).secret;
  personToken = (await tokens.create({ name: "alice", kind: "person", subject: "alice" })).secret;
});
afterEach(async () => {
  await svc.close();
  await deleteKeys(redis, prefix);
});

describe("approval API for any agent framework", () => {
  it("the client: policy allow and deny answer at once; an ask waits until a person decides", async () => {
    const base = { url: svc.url, token: agentToken, pollSeconds: 2 };
    expect(await requestApproval({ ...base, tool: "exec", params: { command: "ls" } })).toMatchObject({ approved: true, outcome: "allowed" });
    const denied = await requestApproval({ ...base, tool: "exec", params: { command: "rm -rf /" } });
    expect(denied).toMatchObject({ approved: false, outcome: "denied-by-policy" });
    expect(denied.reason).toMatch(/rm -rf/);

    const pending = requestApproval({ ...base, tool: "deploy", params: { service: "web" }, sessionKey: "crew-run-7" });
    const id = await firstPending();
    const record = await store.require(id);
    // An agent token speaks for its own agent, whatever the body says.
    expect(record).toMatchObject({ tool: "deploy", agentId: "crew-1", sessionKey: "crew-run-7" });
    await new Promise((r) => setTimeout(r, 2_500)); // at least one long-poll round ends with "still pending"
    await service.decide({ id, decision: "deny", actor: "cli:carol", via: "cli", reason: "change freeze" });
    const out = await pending;
    expect(out).toMatchObject({ approved: false, outcome: "denied", id, decidedBy: "cli:carol" });
    expect(out.reason).toContain("change freeze");
  });

  it("long-polls with ?wait and returns as soon as the decision lands", async () => {
    const created = await fetch(`${svc.url}/api/v1/approvals`, { method: "POST", headers: { authorization: `Bearer ${agentToken}`, "content-type": "application/json" }, body: JSON.stringify({ tool: "deploy", params: { service: "api" } }) });
    expect(created.status).toBe(201);
    const { approval } = (await created.json()) as { approval: { id: string; state: string } };
    expect(approval.state).toBe("pending");
    const started = Date.now();
    const poll = fetch(`${svc.url}/api/v1/approvals/${approval.id}?wait=20s`, { headers: { authorization: `Bearer ${agentToken}` } });
    await new Promise((r) => setTimeout(r, 300));
    await service.decide({ id: approval.id, decision: "allow-once", actor: "cli:carol", via: "cli" });
    const res = (await (await poll).json()) as { approval: { state: string } };
    expect(res.approval.state).toBe("approved");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("streams server-sent events: the approval now, and again when decided", async () => {
    const created = (await (await fetch(`${svc.url}/api/v1/approvals`, { method: "POST", headers: { authorization: `Bearer ${agentToken}`, "content-type": "application/json" }, body: JSON.stringify({ tool: "deploy" }) })).json()) as { approval: { id: string } };
    const id = created.approval.id;
    const res = await fetch(`${svc.url}/api/v1/approvals/${id}/events`, { headers: { authorization: `Bearer ${agentToken}` } });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    setTimeout(() => void service.decide({ id, decision: "allow-once", actor: "cli:carol", via: "cli" }), 300);
    const text = await res.text();
    const events = text.split("\n\n").filter((e) => e.startsWith("event: approval"));
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[0]?.split("data: ")[1] as string)).toMatchObject({ id, state: "pending" });
    expect(JSON.parse(events[1]?.split("data: ")[1] as string)).toMatchObject({ id, state: "approved", decidedBy: "cli:carol" });
  });

  it("refuses to create with a person token, to show another agent's approval, and bad bodies", async () => {
    const post = (token: string, body: unknown) => fetch(`${svc.url}/api/v1/approvals`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await post(personToken, { tool: "deploy" })).status).toBe(403);
    expect((await post(agentToken, { params: {} })).status).toBe(400);
    expect((await post(agentToken, { tool: "deploy", wait: "soon" })).status).toBe(400);
    expect((await post("nope", { tool: "deploy" })).status).toBe(401);
    const other = await store.create({ tool: "deploy", params: {}, agentId: "someone-else", risk: { actionType: "deploy", score: 50, class: "high", reversible: false, systems: [] }, rule: "deploy(*)", policyReason: "r", alwaysAllowRule: null, timeoutMs: 60_000 });
    expect((await fetch(`${svc.url}/api/v1/approvals/${other.id}`, { headers: { authorization: `Bearer ${agentToken}` } })).status).toBe(404);
  });

  it("the token that asked cannot approve its own request (the same identity), another person can", async () => {
    const tokens = new TokenStore(redis, prefix, { signer: testSigner, keys: testKeys });
    const ops = (await tokens.create({ name: "ops", kind: "admin" })).secret;
    const created = (await (await fetch(`${svc.url}/api/v1/approvals`, { method: "POST", headers: { authorization: `Bearer ${ops}`, "content-type": "application/json" }, body: JSON.stringify({ tool: "deploy" }) })).json()) as { approval: { id: string; requester: object } };
    expect(created.approval.requester).toEqual({ channel: "api", senderId: "admin:ops" });
    const decide = (token: string) => fetch(`${svc.url}/api/v1/approvals/${created.approval.id}/decision`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ decision: "allow-once" }) });
    const own = await decide(ops);
    expect(own.status).toBe(403);
    expect(JSON.stringify(await own.json())).toContain("you asked for this call yourself");
    expect((await decide(personToken)).status).toBe(200);
  });

  it("keeps docs/openapi.json generated from the schemas the routes use", () => {
    const doc = JSON.parse(readFileSync(new URL("../../docs/openapi.json", import.meta.url), "utf8"));
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument(pkg.version))));
  });
});
