import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApprovalService } from "../../src/approvals/service.ts";
import { newApproval, silentLog, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { Procs, storeOn, until } from "./harness.ts";

let procs: Procs;
let redis: Redis;
let prefix: string;

beforeEach(() => {
  procs = new Procs();
  redis = connect();
  prefix = uniquePrefix("fault-late");
});
afterEach(async () => {
  await procs.cleanup();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("a decision after the deadline, with no serve (no sweeper, no expire job) running", () => {
  it("is refused: the approval expires instead, and the decider is told so", { timeout: 60_000 }, async () => {
    const store = storeOn(redis, prefix);
    const rec = await store.create(newApproval({ timeoutMs: 1_000 }));
    await until("the deadline to pass", () => Date.now() > rec.deadline + 50, 5_000);
    expect((await store.require(rec.id)).state).toBe("pending");

    // The decision as serve's decision pipeline makes it (signed), with nothing else running.
    const late = await new ApprovalService(store, silentLog, testSigner).decide({ id: rec.id, decision: "allow-once", actor: "api:carol", via: "api" }).catch((err: unknown) => err as Error);
    expect(late).toBeInstanceOf(Error);
    expect((late as Error).message).toContain(`approval ${rec.id} expired before this decision arrived`);
    expect(await store.require(rec.id)).toMatchObject({ state: "expired", decision: "", decidedBy: "clawgate" });
    // The expiry and the refused decision are on the event stream, for serve to edit and audit.
    const types = (await redis.xrange(store.k.events, "-", "+")).map(([, f]) => f[f.indexOf("type") + 1]);
    expect(types).toEqual(["approval.created", "approval.expired", "approval.refused"]);
  });
});
