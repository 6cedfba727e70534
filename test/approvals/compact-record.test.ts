import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { RulesWriter, RuntimeRulesStore } from "../../src/approvals/runtime-rules.ts";
import { resolutionOf, type Resolution } from "../../src/approvals/record.ts";
import { InboundDecisions } from "../../src/inbound/decisions.ts";
import { verifyResolution } from "../../src/trust/decisions.ts";
import { newApproval, RISK, silentLog, testConfig, testKeys, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let prefix: string;
let store: ApprovalStore;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("compact");
  store = new ApprovalStore(redis, { prefix, keepForMs: 60_000, retryGrantMs: 0, maxParamsBytes: 100_000 });
});

afterEach(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("compact approval records", () => {
  const command = `deploy web --image registry.example.com/app:1 --note "déploiement ✓ ${"x".repeat(150)}"`;
  const long = newApproval({
    params: { command },
    alwaysAllowRule: `exec(${command})`,
    policyReason: `needs approval: rule "exec(deploy *)" asks — ${"why ".repeat(30)}`,
    requester: { channel: "telegram", accountId: "acct-with-a-rather-long-identifier", senderId: "user-0123456789" },
  });

  it("stores long values in ≤ 64-byte pieces so Redis keeps the compact encoding, and reads them back whole", async () => {
    const created = await store.create(long);
    const key = keys(prefix).approval(created.id);
    expect(await redis.call("OBJECT", "ENCODING", key)).toBe("listpack");
    for (const v of Object.values(await redis.hgetall(key))) expect(Buffer.byteLength(v)).toBeLessThanOrEqual(64);
    const read = await store.get(created.id);
    expect(read?.params).toBe(created.params);
    expect(JSON.parse(read?.params ?? "{}")).toEqual({ command });
    expect(read?.alwaysAllowRule).toBe(long.alwaysAllowRule);
    expect(read?.policyReason).toBe(long.policyReason);
    expect(read?.requester).toEqual(long.requester);
    expect(read?.risk).toEqual(RISK);
  });

  it("allow-always saves the whole rule even when it was stored in pieces, signed into the runtime rules", async () => {
    const created = await store.create(long);
    const rulesStore = new RuntimeRulesStore(redis, keys(prefix), prefix);
    const decisions = new InboundDecisions(new ApprovalService(store, silentLog, testSigner), testConfig(prefix), new RulesWriter(rulesStore, testSigner, testKeys));
    await decisions.decide({ identity: { channel: "api", id: "alice" }, approvalId: created.id, decision: "allow-always", isChannelApprover: true });
    const loaded = await rulesStore.load(testKeys);
    expect(loaded.kind === "ok" && loaded.snapshot.alwaysAllow).toEqual([long.alwaysAllowRule]);
    // The signature covers the whole rule as well: the decision verifies against it.
    const record = await store.require(created.id);
    expect(verifyResolution(testKeys, resolutionOf(record) as Resolution, { id: created.id, paramsHash: created.paramsHash, rule: long.alwaysAllowRule as string }).ok).toBe(true);
  });

  it("still reads records stored whole, with risk as JSON, by earlier versions", async () => {
    const key = keys(prefix).approval("ap_00oldformat1");
    await redis.hset(key, { id: "ap_00oldformat1", state: "pending", tool: "exec", params: JSON.stringify({ command }), risk: JSON.stringify(RISK), alwaysAllowRule: long.alwaysAllowRule as string, createdAt: "1", deadline: String(Date.now() + 60_000) });
    const read = await store.get("ap_00oldformat1");
    expect(read?.risk).toEqual(RISK);
    expect(JSON.parse(read?.params ?? "{}")).toEqual({ command });
    expect(read?.alwaysAllowRule).toBe(long.alwaysAllowRule);
  });
});
