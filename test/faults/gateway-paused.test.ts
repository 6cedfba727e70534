import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { ApprovalService } from "../../src/approvals/service.ts";
import { silentLog, testSigner } from "../helpers/fixtures.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { gatewayConfig, pendingApproval, PrivateRedis, serveConfig, slackRef, startGateway, startServe, storeOn, until, writeConfig, processSuite } from "./harness.ts";

const suite = processSuite();

/** Longer than the 6 s lease: what a GC pause, a VM pause or a short laptop sleep does to a gateway. */
const PAUSE_MS = 6_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Closes every connection the gateway holds, as a network cut (or a Redis failover) would. */
async function cutGatewayOff(admin: Redis): Promise<number> {
  const list = (await admin.call("CLIENT", "LIST")) as string;
  const ids = list
    .split("\n")
    .filter((l) => / name=clawgate-gate/.test(l))
    .map((l) => /\bid=(\d+)/.exec(l)?.[1] as string);
  for (const id of ids) await admin.call("CLIENT", "KILL", "ID", id);
  return ids.length;
}

async function waitingGateway(tag: string) {
  const { procs, slack } = suite;
  // A private Redis: the test closes the gateway's connections by name.
  const redis = await PrivateRedis.start(procs);
  const prefix = uniquePrefix(tag);
  const admin = procs.redis(redis.url);
  const dir = procs.tmp(tag);
  await startServe(procs, writeConfig(dir, "serve.yaml", serveConfig({ redisUrl: redis.url, prefix, slack })), redis.url);
  const gateway = await startGateway(procs, writeConfig(dir, "gateway.yaml", gatewayConfig(redis.url, prefix)), redis.url);
  const id = await pendingApproval(admin, prefix, 15_000);
  await until("the card", async () => (await slackRef(admin, prefix, id))?.s === "posted", 10_000);
  return { gateway, admin, prefix, id, store: storeOn(admin, prefix) };
}

describe("a gateway paused while a call waits for approval", () => {
  it("SIGSTOPped for 6 s keeps its approval, renews at once on SIGCONT, and a later approval releases the call", { timeout: 90_000 }, async () => {
    const { gateway, store, id } = await waitingGateway("fault-pause");
    gateway.signal("SIGSTOP");
    await sleep(PAUSE_MS);
    // The lease lapsed during the pause, long enough ago for the sweeper (every second) to have seen it.
    await until("the lease to have lapsed 1.5 s ago", async () => Number(await store.redis.zscore(store.k.leases, id)) < Date.now() - 1_500, 5_000, 50);
    expect((await store.require(id)).state, "kept: the paused gateway is still connected").toBe("pending");

    gateway.signal("SIGCONT");
    const resumed = Date.now();
    await until("the lease renewed", async () => Number(await store.redis.zscore(store.k.leases, id)) > Date.now(), 5_000, 20);
    expect(Date.now() - resumed, "ms from SIGCONT to a renewed lease").toBeLessThan(1_500);

    await new ApprovalService(store, silentLog, testSigner).decide({ id, decision: "allow-once", actor: "api:carol", via: "api" });
    expect(await gateway.result(10_000), "the call runs").toBeNull();
    expect(gateway.err).toMatch(/paused for about \d+(\.\d)? s; renewing the leases/);
  });

  it("paused and cut off from Redis: the sweeper cancels it, and the agent is told the lease lapsed (not that the run was aborted)", { timeout: 90_000 }, async () => {
    const { gateway, admin, store, id } = await waitingGateway("fault-lapse");
    gateway.signal("SIGSTOP");
    expect(await cutGatewayOff(admin), "gateway connections closed").toBeGreaterThanOrEqual(2);
    await until("the approval cancelled", async () => (await store.require(id)).state === "cancelled", 15_000, 50);
    expect((await store.require(id)).decisionReason).toMatch(/^lease lapsed/);

    gateway.signal("SIGCONT");
    const result = await gateway.result(15_000);
    expect(result?.block).toBe(true);
    expect(result?.blockReason).toMatch(new RegExp(`^clawgate: approval ${id} was cancelled because its lease lapsed: the gateway waiting for this decision went away`));
    expect(result?.blockReason).not.toMatch(/aborted/);
  });
});
