import { request } from "node:http";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { TokenStore } from "../../src/auth/tokens.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { newApproval, silentLog, testConfig, testSigner, testKeys } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let prefix: string;
let svc: RunningService;
let store: ApprovalStore;
let tokens: TokenStore;
const ADMIN = "config-admin-token-0123456789";

type ApiError = { ok: false; error: { code: string; message: string } };

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("api");
  svc = await serve({ config: testConfig(prefix, { log: { enabled: false }, server: { port: 0, apiToken: ADMIN, maxBodyBytes: 2_048 } }), redisUrl: REDIS_URL, log: silentLog });
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  tokens = new TokenStore(redis, prefix, { signer: testSigner, keys: testKeys });
});
afterEach(async () => {
  await svc.close();
  await deleteKeys(redis, prefix);
});

function decide(id: string, secret: string, body: unknown) {
  return fetch(`${svc.url}/api/v1/approvals/${id}/decision`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("REST API identities", () => {
  it("records a person token's decision as api:<person> and notes when the token was used", async () => {
    const { secret } = await tokens.create({ name: "alice-laptop", kind: "person", subject: "alice" });
    const rec = await store.create(newApproval());
    const res = await decide(rec.id, secret, { decision: "deny", reason: "not during the freeze" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { resolution: { decidedBy: string; decidedVia: string } };
    expect(body.resolution).toMatchObject({ decidedBy: "api:alice", decidedVia: "api" });
    expect(await store.require(rec.id)).toMatchObject({ state: "denied", decidedBy: "api:alice", decisionReason: "not during the freeze" });
    const [listed] = await tokens.list();
    expect(listed?.lastUsedAt).toBeGreaterThan(0);
  });

  it("keeps server.apiToken working as the admin token (api:admin)", async () => {
    const rec = await store.create(newApproval());
    expect((await decide(rec.id, ADMIN, { decision: "allow-once" })).status).toBe(200);
    expect((await store.require(rec.id)).decidedBy).toBe("api:admin");
  });

  it("records an admin token from the store as api:admin:<name>", async () => {
    const { secret } = await tokens.create({ name: "ops-bot", kind: "admin" });
    const rec = await store.create(newApproval());
    expect((await decide(rec.id, secret, { decision: "allow-once" })).status).toBe(200);
    expect((await store.require(rec.id)).decidedBy).toBe("api:admin:ops-bot");
  });

  it("rejects an `actor` in the body: the decider comes from the token", async () => {
    const { secret } = await tokens.create({ name: "alice", kind: "person", subject: "alice" });
    const rec = await store.create(newApproval());
    const res = await decide(rec.id, secret, { decision: "allow-once", actor: "bob" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ApiError;
    expect(body.error.code).toBe("bad_request");
    expect(body.error.message).toContain('"actor" is not accepted');
    expect(body.error.message).toContain("api:alice");
    expect((await store.require(rec.id)).state).toBe("pending");
  });

  it("never lets an agent token decide; it may read only its own agent's approvals", async () => {
    const { secret } = await tokens.create({ name: "main-agent", kind: "agent", subject: "main" });
    const own = await store.create(newApproval({ agentId: "main" }));
    const other = await store.create(newApproval({ agentId: "intern" }));
    for (const decision of ["allow-once", "allow-always"]) {
      const res = await decide(own.id, secret, { decision });
      expect(res.status).toBe(403);
      expect(((await res.json()) as ApiError).error.code).toBe("approver_not_allowed");
    }
    expect((await store.require(own.id)).state).toBe("pending");
    const auth = { authorization: `Bearer ${secret}` };
    const mine = await fetch(`${svc.url}/api/v1/approvals/${own.id}`, { headers: auth });
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as { approval: { id: string } }).approval.id).toBe(own.id);
    expect((await fetch(`${svc.url}/api/v1/approvals/${other.id}`, { headers: auth })).status).toBe(404);
    const list = await fetch(`${svc.url}/api/v1/approvals`, { headers: auth });
    expect(list.status).toBe(403);
    expect(((await list.json()) as ApiError).error.code).toBe("forbidden");
  });

  it("answers 401 to a revoked token, a wrong-length token, a wrong scheme and no token", async () => {
    const { secret } = await tokens.create({ name: "temp", kind: "person", subject: "carol" });
    const rec = await store.create(newApproval());
    const list = (authorization?: string) => fetch(`${svc.url}/api/v1/approvals`, authorization ? { headers: { authorization } } : {});
    expect((await list(`Bearer ${secret}`)).status).toBe(200);
    await tokens.revoke("temp");
    const revoked = await decide(rec.id, secret, { decision: "allow-once" });
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as ApiError).error.code).toBe("unauthorized");
    for (const wrong of ["x", `${ADMIN}x`, ADMIN.slice(0, -1), secret.slice(0, -1), "a".repeat(4_000)]) {
      expect((await list(`Bearer ${wrong}`)).status).toBe(401);
    }
    expect((await list(`Basic ${ADMIN}`)).status).toBe(401);
    expect((await list()).status).toBe(401);
    expect((await list(`bearer ${ADMIN}`)).status).toBe(200);
    expect((await store.require(rec.id)).state).toBe("pending");
  });

  it("answers invalid JSON with 400 and the expected shape, oversized bodies with 413", async () => {
    const { secret } = await tokens.create({ name: "alice", kind: "person", subject: "alice" });
    const rec = await store.create(newApproval());
    const bad = await decide(rec.id, secret, "{not json");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ApiError).error.message).toContain('{"decision": "allow-once"|"allow-always"|"deny", "reason"?: string}');
    const wrongShape = await decide(rec.id, secret, { decision: "maybe" });
    expect(wrongShape.status).toBe(400);
    expect(((await wrongShape.json()) as ApiError).error.message).toContain("decision");

    const big = JSON.stringify({ decision: "deny", reason: "x".repeat(5_000) });
    const declared = await decide(rec.id, secret, big);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as ApiError).error.code).toBe("payload_too_large");

    // Chunked: no Content-Length to refuse up front, so the limit is enforced while reading.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${svc.url}/api/v1/approvals/${rec.id}/decision`, { method: "POST", headers: { authorization: `Bearer ${secret}`, "transfer-encoding": "chunked" } }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write(big.slice(0, 1_500));
      req.end(big.slice(1_500));
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ ok: false, error: { code: "payload_too_large" } });
    expect((await store.require(rec.id)).state).toBe("pending");
  });
});
