import { describe, expect, it } from "vitest";
import { newApproval } from "../helpers/fixtures.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { PrivateRedis, serveConfig, slackRef, startServe, storeOn, until, writeConfig, processSuite, type ServeProc } from "./harness.ts";

const suite = processSuite();

/** The operator's bound: a requested stop is over within 5 s, whatever Redis is doing. */
const STOP_MS = 5_000;

async function stopped(serve: ServeProc): Promise<{ code: number | null; ms: number }> {
  const at = Date.now();
  serve.signal("SIGTERM");
  const { code } = await serve.exited;
  return { code, ms: Date.now() - at };
}

/** Log lines serve wrote after `from` (its own JSON lines), at warn or above. */
function complaints(serve: ServeProc, from: number): Array<Record<string, unknown>> {
  return serve.logs().filter((l) => Number(l.time) >= from && Number(l.level) >= 40);
}

async function running(redisState: (r: PrivateRedis, admin: ReturnType<typeof suite.procs.redis>) => Promise<void> | void) {
  const { procs, slack } = suite;
  const redis = await PrivateRedis.start(procs);
  const prefix = uniquePrefix("fault-stop");
  const admin = procs.redis(redis.url);
  const serve = await startServe(procs, writeConfig(procs.tmp("stop"), "serve.yaml", serveConfig({ redisUrl: redis.url, prefix, slack })), redis.url);
  // Work in flight: an approval with its card posted, so workers, consumer and sweeper are all busy.
  const rec = await storeOn(admin, prefix).create(newApproval());
  await until("the card's ref", async () => (await slackRef(admin, prefix, rec.id))?.s === "posted", 10_000);
  await redisState(redis, admin);
  return serve;
}

describe("SIGTERM to serve", () => {
  it("with Redis gone: exits 0 within 5 s, says once why it does not wait, and does not spam reconnect errors", { timeout: 60_000 }, async () => {
    const serve = await running(async (redis) => {
      await redis.kill();
      // Let serve notice (its connections error and start reconnecting), as in a real outage.
      await new Promise((r) => setTimeout(r, 1_500));
    });
    const from = Date.now();
    const { code, ms } = await stopped(serve);
    expect(code, serve.err.slice(-3_000)).toBe(0);
    expect(ms, "ms from SIGTERM to exit").toBeLessThan(STOP_MS);
    const lines = serve.logs().filter((l) => Number(l.time) >= from);
    const why = lines.filter((l) => /not waiting/.test(String(l.msg)));
    expect(why, "one line explains the fast stop").toHaveLength(1);
    expect(String(why[0]?.msg)).toMatch(/^Redis unreachable \(.*\): not waiting for in-flight work; jobs resume on the next start$/);
    expect(complaints(serve, from).length, JSON.stringify(complaints(serve, from), null, 1)).toBeLessThanOrEqual(2);
  });

  it("with Redis stalled (SIGSTOP): exits 0 within 5 s", { timeout: 60_000 }, async () => {
    const serve = await running((redis) => redis.stall());
    const { code, ms } = await stopped(serve);
    expect(code, serve.err.slice(-3_000)).toBe(0);
    expect(ms, "ms from SIGTERM to exit").toBeLessThan(STOP_MS);
    expect(serve.logs().filter((l) => /not waiting/.test(String(l.msg))).map((l) => l.msg)).toEqual([expect.stringMatching(/^Redis unreachable \(no answer to PING within 1000 ms\)/)]);
  });

  it("with Redis paused (CLIENT PAUSE): exits 0 within 5 s", { timeout: 60_000 }, async () => {
    const serve = await running(async (_redis, admin) => {
      await admin.call("CLIENT", "PAUSE", "30000", "ALL");
    });
    const { code, ms } = await stopped(serve);
    expect(code, serve.err.slice(-3_000)).toBe(0);
    expect(ms, "ms from SIGTERM to exit").toBeLessThan(STOP_MS);
  });

  it("with Redis healthy: drains and exits 0 without claiming Redis is unreachable", { timeout: 60_000 }, async () => {
    const serve = await running(() => undefined);
    const from = Date.now();
    const { code, ms } = await stopped(serve);
    expect(code, serve.err.slice(-3_000)).toBe(0);
    expect(ms).toBeLessThan(STOP_MS);
    expect(serve.logs().some((l) => l.msg === "clawgate serve stopped")).toBe(true);
    expect(serve.logs().filter((l) => /not waiting|unreachable|cannot reach/i.test(String(l.msg)))).toEqual([]);
    expect(complaints(serve, from)).toEqual([]);
  });
});
