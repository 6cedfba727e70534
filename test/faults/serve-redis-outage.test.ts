import { describe, expect, it } from "vitest";
import { TokenStore } from "../../src/auth/tokens.ts";
import { newApproval, testKeys, testSigner } from "../helpers/fixtures.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { PrivateRedis, serveConfig, startServe, storeOn, until, writeConfig, processSuite } from "./harness.ts";

const suite = processSuite();
const ADMIN = "outage-admin-token-0123456789abcdef";

interface Answer {
  status: number;
  retryAfter: string | null;
  code?: string;
}

async function call(url: string, method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, retryAfter: res.headers.get("retry-after"), ...(code ? { code } : {}) };
}

describe("serve's REST API while Redis is down", () => {
  it("every route answers 503 redis_unavailable with Retry-After, /readyz says why, and all is well once Redis is back", { timeout: 90_000 }, async () => {
    const { procs, slack } = suite;
    const redis = await PrivateRedis.start(procs);
    const prefix = uniquePrefix("fault-outage");
    const admin = procs.redis(redis.url);
    const config = writeConfig(procs.tmp("outage"), "serve.yaml", serveConfig({ redisUrl: redis.url, prefix, slack, over: { server: { port: 0, apiToken: ADMIN } } }));
    const serve = await startServe(procs, config, redis.url);
    const id = (await storeOn(admin, prefix).create(newApproval())).id;
    // A stored token: checking it needs Redis too.
    const { secret } = await new TokenStore(admin, prefix, { signer: testSigner, keys: testKeys }).create({ name: "carol", kind: "person", subject: "carol" });

    await redis.kill();
    const routes: Array<[string, string, string, unknown?]> = [
      ["GET", "/api/v1/approvals", ADMIN],
      ["GET", `/api/v1/approvals/${id}`, ADMIN],
      ["GET", `/api/v1/approvals/${id}?wait=2s`, ADMIN],
      ["GET", `/api/v1/approvals/${id}/events`, ADMIN],
      ["POST", `/api/v1/approvals/${id}/decision`, ADMIN, { decision: "allow-once" }],
      ["POST", `/api/v1/approvals/${id}/decision`, secret, { decision: "deny", reason: "no" }],
      ["POST", "/api/v1/approvals", ADMIN, { tool: "exec", params: { command: "git push origin main" } }],
      ["GET", "/api/v1/whoami", secret],
      ["GET", "/api/v1/policy/rules", ADMIN],
      ["POST", "/api/v1/policy/rules", ADMIN, { rule: "exec(ls *)", decision: "allow" }],
      ["POST", "/api/v1/policy/rules/unset", ADMIN, { rule: "exec(ls *)" }],
      ["POST", "/api/v1/policy/repair", ADMIN],
      ["GET", "/api/v1/tokens", ADMIN],
      ["POST", "/api/v1/tokens", ADMIN, { name: "dave", kind: "person", subject: "dave" }],
      ["DELETE", "/api/v1/tokens/carol", ADMIN],
    ];
    for (const [method, path, token, body] of routes) {
      const started = Date.now();
      const answer = await call(serve.url, method, path, token, body);
      expect(answer, `${method} ${path}`).toEqual({ status: 503, retryAfter: "5", code: "redis_unavailable" });
      expect(Date.now() - started, `${method} ${path}: ms to answer`).toBeLessThan(5_000);
    }
    const ready = await fetch(`${serve.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get("retry-after")).toBe("5");
    const body = (await ready.json()) as { ok: boolean; redis: boolean; problems: string[] };
    expect(body).toMatchObject({ ok: false, redis: false });
    expect(body.problems).toEqual([expect.stringMatching(/^Redis unreachable: /)]);
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);

    await redis.start();
    await until("the API to answer again", async () => (await call(serve.url, "GET", "/api/v1/approvals", ADMIN)).status === 200, 15_000, 200);
    expect(await call(serve.url, "GET", `/api/v1/approvals/${id}`, secret)).toEqual({ status: 200, retryAfter: null });
    expect((await fetch(`${serve.url}/readyz`)).status).toBe(200);
    // The outage was reported once, and its end once, not per connection and reconnect attempt.
    const said = serve.logs().filter((l) => /cannot reach Redis|Redis reachable again/.test(String(l.msg)));
    expect(said.map((l) => String(l.msg).split(" (")[0])).toEqual(["cannot reach Redis", "Redis reachable again after"].map((m) => expect.stringContaining(m)));
    expect(serve.logs().filter((l) => l.source === "console" || l.msg === "worker error" || l.msg === "redis connection error")).toEqual([]);
  });
});
