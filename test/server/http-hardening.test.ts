import { connect as connectTcp } from "node:net";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { silentLog, testConfig } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let prefix: string;
let svc: RunningService;
const ADMIN = "config-admin-token-0123456789";
const METRICS = "metrics-scraper-token-0123456789";
// Small limits so the slow-client tests take well under a second each.
const HEADERS_TIMEOUT = 300;
const REQUEST_TIMEOUT = 600;

type ApiError = { ok: false; error: { code: string; message: string } };

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("http");
  const server = { port: 0, apiToken: ADMIN, metricsToken: METRICS, maxBodyBytes: 2_048, headersTimeout: HEADERS_TIMEOUT, requestTimeout: REQUEST_TIMEOUT, keepAliveTimeout: 200 };
  svc = await serve({ config: testConfig(prefix, { log: { enabled: false }, server }), redisUrl: REDIS_URL, log: silentLog });
});
afterEach(async () => {
  await svc.close();
  await deleteKeys(redis, prefix);
});

/** A raw TCP client: writes `chunks` one every `everyMs`, collects what the server answers until it closes. */
function trickle(chunks: string[], everyMs: number): Promise<{ answer: string; sent: number }> {
  const { port } = new URL(svc.url);
  return new Promise((resolve, reject) => {
    const sock = connectTcp(Number(port), "127.0.0.1");
    let answer = "";
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < chunks.length && !sock.destroyed) sock.write(chunks[sent++] as string);
    }, everyMs);
    sock.on("data", (d: Buffer) => (answer += d.toString()));
    sock.on("error", (err) => (answer ? undefined : reject(err)));
    sock.on("close", () => {
      clearInterval(timer);
      resolve({ answer, sent });
    });
    // Bound the test even if the server never cuts us off.
    setTimeout(() => sock.destroy(), 10_000).unref();
  });
}

/** One raw request, answer read until the server closes. */
function raw(text: string): Promise<string> {
  return trickle([text], 1).then((r) => r.answer);
}

describe("HTTP hardening", () => {
  it("answers malformed percent-encoding with 400, not 500", async () => {
    for (const path of ["/api/v1/approvals/%E0%A4%A", "/api/v1/approvals/%E0%A4%A/decision", "/api/v1/approvals/%ZZ"]) {
      const res = await fetch(`${svc.url}${path}`, { method: path.endsWith("decision") ? "POST" : "GET", headers: { authorization: `Bearer ${ADMIN}` }, body: path.endsWith("decision") ? "{}" : null });
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as ApiError;
      expect(body).toMatchObject({ ok: false, error: { code: "bad_request" } });
      expect(body.error.message).toContain("percent-encoding");
    }
    // A request target that is not a path (absolute-form) is refused too.
    const absolute = await raw("GET http://example.com/healthz HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
    expect(absolute).toMatch(/^HTTP\/1\.1 400 /);
    expect(absolute).toContain('"code":"bad_request"');
  });

  it("answers unknown routes with a JSON 404 and wrong methods with 405 and Allow", async () => {
    const missing = await fetch(`${svc.url}/nope?x=%E0`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toContain("application/json");
    expect(await missing.json()).toMatchObject({ ok: false, error: { code: "not_found", message: "no route GET /nope" } });
    const method = await fetch(`${svc.url}/healthz`, { method: "DELETE" });
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toBe("GET");
    expect(((await method.json()) as ApiError).error.code).toBe("method_not_allowed");
  });

  it("puts /metrics behind server.metricsToken when it is set", async () => {
    expect((await fetch(`${svc.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(401);
    expect((await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${METRICS}x` } })).status).toBe(401);
    const ok = await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("clawgate_approvals_pending");
  });

  it("refuses a declared oversized body with 413 on any route, even one that reads no body", async () => {
    const answer = await raw(`POST /api/v1/approvals/ap_000000000000/decision HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Length: 1000000\r\n\r\n{`);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"code":"payload_too_large"');
    const health = await raw("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n");
    expect(health).toMatch(/^HTTP\/1\.1 413 /);
  });

  it("cuts off a slow-loris client that sends its headers byte by byte", async () => {
    const request = "GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: slow-loris\r\nAccept: */*\r\n\r\n";
    // One byte every 50 ms needs ~3.5 s for the whole request; the headers limit is 300 ms.
    const { answer, sent } = await trickle([...request], 50);
    expect(sent).toBeLessThan(request.length);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).not.toContain("200 OK");
  });

  it("cuts off a client that trickles its body slower than server.requestTimeout", async () => {
    const body = JSON.stringify({ decision: "deny", reason: "slow body ".repeat(5) });
    const head = `POST /api/v1/approvals/ap_000000000000/decision HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { answer, sent } = await trickle([head, ...body], 50);
    expect(sent).toBeLessThan(body.length + 1);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });
});
