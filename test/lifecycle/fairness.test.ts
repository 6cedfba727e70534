import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { fairPriority, settle, standing } from "../../src/lifecycle/fairness.ts";
import { storeOptions } from "../../src/backend/wiring.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";

describe("fair priority of notifications", () => {
  it("puts every agent's first ask in the first round, however one agent floods", () => {
    // Another agent's first ask, while one agent holds 200 asks over 200 sessions.
    expect(fairPriority({ agent: 1, session: 1, sessions: 1 })).toBe(1);
    // The flooding agent's asks take rounds 1…200 of their own, one per session.
    expect([1, 2, 100, 200].map((n) => fairPriority({ agent: n, session: 1, sessions: n }))).toEqual([1, 2, 100, 200]);
  });

  it("lets an agent's sessions take turns: a quiet session's first ask is in round (busy sessions), not behind a noisy sibling", () => {
    // The noisy session's 20th ask, then a second session's first of the same agent.
    expect(fairPriority({ agent: 20, session: 20, sessions: 1 })).toBe(20);
    expect(fairPriority({ agent: 21, session: 1, sessions: 2 })).toBe(2);
    // Never later than the agent's own count: an agent with few asks is not pushed back by its sessions.
    expect(fairPriority({ agent: 3, session: 2, sessions: 3 })).toBe(3);
  });

  it("falls back to the agent's count without a session, the session's without an agent, the first round without either; stays in BullMQ's range", () => {
    expect(fairPriority({ agent: 5, session: 0, sessions: 0 })).toBe(5);
    expect(fairPriority({ agent: 0, session: 4, sessions: 0 })).toBe(4);
    expect(fairPriority({ agent: 0, session: 0, sessions: 0 })).toBe(1);
    expect(fairPriority({ agent: 1e9, session: 1e9, sessions: 1e9 })).toBe(2_097_152);
  });
});

describe("busy sessions per agent in Redis", () => {
  let redis: Redis;
  let prefix: string;
  beforeEach(() => {
    redis = connect();
    prefix = uniquePrefix("fair");
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it("counts an agent's sessions with something pending, and forgets them (and the agent) once nothing is", async () => {
    const store = new ApprovalStore(redis, storeOptions(testConfig(prefix)));
    const service = new ApprovalService(store, silentLog, testSigner);
    const [a, b, c] = [await store.create(newApproval({ agentId: "a1", sessionKey: "s1" })), await store.create(newApproval({ agentId: "a1", sessionKey: "s1" })), await store.create(newApproval({ agentId: "a1", sessionKey: "s2" }))];
    expect(await standing(store, a)).toEqual({ agent: 3, session: 2, sessions: 1 });
    expect(await standing(store, c)).toEqual({ agent: 3, session: 1, sessions: 2 });

    const end = async (r: typeof a) => {
      await service.decide({ id: r.id, decision: "deny", actor: "cli:t", via: "cli", reason: "t" });
      await settle(store, r);
    };
    await end(a);
    // s1 still has one pending: still busy.
    expect(await redis.smembers(store.k.agentSessions("a1"))).toEqual(expect.arrayContaining(["s1", "s2"]));
    await end(c);
    expect(await redis.smembers(store.k.agentSessions("a1"))).toEqual(["s1"]);
    await end(b);
    expect(await redis.exists(store.k.agentSessions("a1"))).toBe(0);
    // Settling again (a redelivered event) changes nothing.
    await settle(store, b);
    expect(await redis.exists(store.k.agentSessions("a1"))).toBe(0);
  });

  it("ranks asks without an agent together, as one agent, and forgets them as they end", async () => {
    const store = new ApprovalStore(redis, storeOptions(testConfig(prefix)));
    const service = new ApprovalService(store, silentLog, testSigner);
    const asks = [];
    for (let i = 0; i < 3; i++) asks.push(await store.create(newApproval({ agentId: "", sessionKey: "" })));
    const ranks = [];
    for (const r of asks) ranks.push(fairPriority(await standing(store, r)));
    // Not all in the first round: the third waits behind the first two, as one agent's would.
    expect(ranks).toEqual([1, 2, 3]);
    // Ranking again (an escalation of the same approval) does not count it twice.
    expect(await standing(store, asks[0] as (typeof asks)[number])).toMatchObject({ agent: 3 });
    for (const r of asks) {
      await service.decide({ id: r.id, decision: "deny", actor: "cli:t", via: "cli", reason: "t" });
      await settle(store, r);
    }
    expect(await redis.exists(store.k.agentless)).toBe(0);
  });
});
