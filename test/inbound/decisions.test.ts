import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { InboundDecisions } from "../../src/inbound/decisions.ts";
import { parseVerb } from "../../src/inbound/verbs.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";

let redis: Redis;
let prefix: string;
let store: ApprovalStore;
let service: ApprovalService;

const slackCfg = { botToken: "xoxb-x", signingSecret: "s", channel: "C0APPROVALS" };
const people = { alice: { slack: "U0ALICE", ids: ["telegram:42"] }, bob: { slack: "U0BOB" } };

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(() => {
  prefix = uniquePrefix("inbound");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  service = new ApprovalService(store, silentLog, testSigner);
});
afterEach(() => deleteKeys(redis, prefix));

const refusals = async () =>
  (await redis.xrange(keys(prefix).events, "-", "+")).filter(([, f]) => f[f.indexOf("type") + 1] === "approval.refused").map(([, f]) => JSON.parse(f[f.indexOf("data") + 1] as string));

describe("the one inbound decision path", () => {
  it("lets a requester linked to a person not approve their own request, but deny it, unless allowSelfApproval", async () => {
    const d = new InboundDecisions(service, testConfig(prefix, { people, slack: slackCfg }));
    const rec = await store.create(newApproval({ requester: { channel: "telegram", senderId: "42" } }));
    const alice = { identity: { channel: "slack", id: "U0ALICE" }, approvalId: rec.id, isChannelApprover: () => true };
    await expect(d.decide({ ...alice, decision: "allow-once" })).rejects.toThrow(/you asked for this call yourself/);
    expect((await store.require(rec.id)).state).toBe("pending");
    expect(await refusals()).toEqual([expect.objectContaining({ actor: "slack:U0ALICE", via: "slack", why: expect.stringMatching(/yourself/) })]);
    const r = await d.decide({ ...alice, decision: "deny", reason: "changed my mind" });
    expect(r.state).toBe("denied");

    const lenient = new InboundDecisions(service, testConfig(prefix, { people, slack: slackCfg, approvals: { allowSelfApproval: true } }));
    const rec2 = await store.create(newApproval({ requester: { channel: "telegram", senderId: "42" } }));
    expect((await lenient.decide({ ...alice, approvalId: rec2.id, decision: "allow-once" })).state).toBe("approved");
  });

  it("lets whoever an escalation tier notified decide, though they are no channel approver", async () => {
    const d = new InboundDecisions(service, testConfig(prefix, { people, slack: slackCfg }));
    const rec = await store.create(newApproval());
    const bob = { identity: { channel: "slack", id: "U0BOB" }, approvalId: rec.id, decision: "allow-once" as const, isChannelApprover: () => false };
    await expect(d.decide(bob)).rejects.toThrow(/you are not an approver for this request/);
    await store.escalate(rec.id, 1, [{ channel: "slack", target: "U0BOB", person: "bob" }], ["person:bob"]);
    const r = await d.decide(bob);
    expect(r).toMatchObject({ state: "approved", decidedBy: "slack:U0BOB", decidedVia: "slack" });
  });

  it("answers unknown, already decided and expired approvals clearly, and records each refusal", async () => {
    const d = new InboundDecisions(service, testConfig(prefix));
    const who = { identity: { channel: "cli", id: "op@host" }, isChannelApprover: true as const };
    await expect(d.decide({ ...who, approvalId: "ap_000000000000", decision: "allow-once" })).rejects.toThrow(/no approval with id "ap_000000000000"/);
    const rec = await store.create(newApproval({ timeoutMs: 1_000 }));
    await d.decide({ ...who, approvalId: rec.id, decision: "deny", reason: "no" });
    await expect(d.decide({ ...who, approvalId: rec.id, decision: "allow-once" })).rejects.toThrow(/already denied by cli:op@host via cli: no/);
    const late = await store.create(newApproval({ timeoutMs: 1_000 }));
    await new Promise((r) => setTimeout(r, 1_100));
    await expect(d.decide({ ...who, approvalId: late.id, decision: "allow-once" })).rejects.toMatchObject({ code: "approval_expired" });
    expect((await store.require(late.id)).state).toBe("expired");
    expect((await refusals()).map((r) => r.why)).toEqual(["approval_not_found", "approval_already_decided", "approval_expired"]);
  });

  it("returns a typed outcome each channel renders: refused with its code, already decided by whom, not found — each refusal recorded", async () => {
    const d = new InboundDecisions(service, testConfig(prefix, { people, slack: slackCfg }));
    const rec = await store.create(newApproval({ requester: { channel: "telegram", senderId: "42" } }));
    const alice = { identity: { channel: "slack", id: "U0ALICE" }, approvalId: rec.id, isChannelApprover: () => true };
    expect(await d.run({ ...alice, decision: "allow-once" })).toMatchObject({ kind: "refused", code: "self_approval", error: { code: "approver_not_allowed" } });
    const mallory = { identity: { channel: "slack", id: "U0MALLORY" }, approvalId: rec.id, isChannelApprover: () => false };
    expect(await d.run({ ...mallory, decision: "deny", reason: "no" })).toMatchObject({ kind: "refused", code: "not_approver", why: "you are not an approver for this request" });
    const bob = { identity: { channel: "slack", id: "U0BOB" }, approvalId: rec.id, isChannelApprover: () => true };
    expect(await d.run({ ...bob, decision: "allow-once" })).toMatchObject({ kind: "decided", resolution: { state: "approved", decidedBy: "slack:U0BOB" }, record: { id: rec.id } });
    const again = await d.run({ ...mallory, decision: "deny", reason: "no" });
    expect(again).toMatchObject({ kind: "already-decided", resolution: { decidedBy: "slack:U0BOB", decidedVia: "slack" } });
    expect(again.kind !== "decided" && again.error.message).toMatch(/already approved by slack:U0BOB via slack/);
    expect(await d.run({ ...bob, approvalId: "ap_000000000000", decision: "allow-once" })).toMatchObject({ kind: "not-found", id: "ap_000000000000" });
    expect((await refusals()).map((r) => [r.actor, r.why])).toEqual([
      ["slack:U0ALICE", expect.stringMatching(/yourself/)],
      ["slack:U0MALLORY", "you are not an approver for this request"],
      ["slack:U0MALLORY", "approval_already_decided"],
      ["slack:U0BOB", "approval_not_found"],
    ]);
  });

  it("reads the route's approvers and the requester from the approval's facts, not from its own config (a gateway has neither)", async () => {
    const gateway = new InboundDecisions(service, testConfig(prefix));
    const rec = await store.create(newApproval({ requester: { channel: "telegram", senderId: "42" } }));
    const chat = (id: string) => ({ identity: { channel: "openclaw", id }, approvalId: rec.id, isChannelApprover: () => true });
    await store.fixFacts(rec.id, {
      v: 1,
      chain: "default",
      schedule: { tiers: [{ after: 0, notify: ["slack"] }], repeat: 0, end: "wait" },
      approvers: { people: ["carol"], ids: ["openclaw:telegram:77"] },
      recipients: [],
      requesterPerson: "alice",
      requesterIds: ["slack:U0ALICE", "openclaw:slack:U0ALICE"],
    });
    expect(await gateway.run({ ...chat("slack:U0ALICE"), decision: "allow-once" })).toMatchObject({ kind: "refused", code: "self_approval" });
    expect(await gateway.run({ ...chat("telegram:43"), decision: "allow-once" })).toMatchObject({ kind: "refused", code: "not_approver" });
    expect(await gateway.run({ ...chat("telegram:77"), decision: "allow-once" })).toMatchObject({ kind: "decided" });
  });

  it("parses the shared verbs, quoted reasons included, and refuses bad ones with usage", () => {
    expect(parseVerb("")).toEqual({ verb: "pending" });
    expect(parseVerb("show ap_1")).toEqual({ verb: "show", id: "ap_1" });
    expect(parseVerb('deny ap_1 "not now"')).toEqual({ verb: "deny", id: "ap_1", reason: "not now" });
    expect(parseVerb("approve ap_1 --always ship it")).toEqual({ verb: "approve", id: "ap_1", always: true, reason: "ship it" });
    expect(() => parseVerb("deny ap_1")).toThrow(/needs a reason/);
    expect(() => parseVerb("nuke ap_1")).toThrow(/unknown command "nuke"/);
  });
});
