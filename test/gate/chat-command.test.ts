import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import { handleChatCommand as handle } from "../../src/gate/chat-command.ts";
import { InboundDecisions } from "../../src/inbound/decisions.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { newApproval, silentLog, testChatSigner, testConfig, testKeys } from "../helpers/fixtures.ts";
import { resolutionOf, type Resolution } from "../../src/approvals/record.ts";
import { verifyResolution } from "../../src/trust/decisions.ts";

let redis: Redis;
let prefix: string;
let store: ApprovalStore;
let service: ApprovalService;

const handleChatCommand = (svc: ApprovalService, config: ClawgateConfig, ctx: Parameters<typeof handle>[2]) => handle(new InboundDecisions(svc, config), config, ctx);

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(() => {
  prefix = uniquePrefix("chat");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  // A gateway's service signs with its chat key, as the plugin's does.
  service = new ApprovalService(store, silentLog, testChatSigner);
});
afterEach(() => deleteKeys(redis, prefix));

describe("/clawgate chat command", () => {
  const config = () => testConfig(prefix, { approvals: { chatApprovers: { owner: true, senders: ["telegram:42"] } } });

  it("lists pending approvals for anyone", async () => {
    const rec = await store.create(newApproval());
    const reply = await handleChatCommand(service, config(), { channel: "discord", senderId: "999", args: "pending" });
    expect(reply).toContain(rec.id);
    expect(reply).toContain("exec(git push *)");
  });

  it("lets a listed sender or the owner decide, recording who and via openclaw", async () => {
    const a = await store.create(newApproval({ requester: { channel: "slack", senderId: "U0REQ" } }));
    expect(await handleChatCommand(service, config(), { channel: "telegram", senderId: "42", args: `approve ${a.id} ship it` })).toContain("approved");
    expect(await store.require(a.id)).toMatchObject({ state: "approved", decidedBy: "openclaw:telegram:42", decidedVia: "openclaw", decisionReason: "ship it" });
    const b = await store.create(newApproval());
    expect(await handleChatCommand(service, config(), { channel: "slack", senderId: "U1", senderIsOwner: true, args: `deny ${b.id} not now` })).toContain("denied");
    // The chat key signed it: a gate honours it as a chat decision.
    const approved = resolutionOf(await store.require(a.id)) as Resolution;
    expect(verifyResolution(testKeys, approved, { id: a.id, paramsHash: a.paramsHash, rule: "" })).toMatchObject({ ok: true, key: { use: "chat" } });
    expect((await store.require(b.id)).decisionReason).toBe("not now");
  });

  it("refuses the requester approving their own call, whether or not `people` knows them", async () => {
    // newApproval's requester is telegram:42, a listed chat approver, and no person maps it.
    const rec = await store.create(newApproval());
    const reply = await handleChatCommand(service, config(), { channel: "telegram", senderId: "42", args: `approve ${rec.id}` });
    expect(reply).toContain("you asked for this call yourself");
    expect((await store.require(rec.id)).state).toBe("pending");
    // Denying your own request is always allowed.
    expect(await handleChatCommand(service, config(), { channel: "telegram", senderId: "42", args: `deny ${rec.id} changed my mind` })).toContain("denied");
  });

  it("refuses anyone else, audits the refusal, and leaves the approval pending", async () => {
    const rec = await store.create(newApproval());
    const reply = await handleChatCommand(service, config(), { channel: "telegram", senderId: "666", args: `approve ${rec.id}` });
    expect(reply).toContain("you are not an approver for this request");
    expect((await store.require(rec.id)).state).toBe("pending");
    const events = await redis.xrange(keys(prefix).events, "-", "+");
    const refused = events.find(([, f]) => f[f.indexOf("type") + 1] === "approval.refused");
    expect(refused?.[1]).toContain(rec.id);
    expect(JSON.parse(refused?.[1][refused[1].indexOf("data") + 1] as string)).toMatchObject({ actor: "openclaw:telegram:666", via: "openclaw" });
  });

  it("answers usage errors, unknown ids and second decisions in words", async () => {
    const c = config();
    const owner = { channel: "webchat", senderId: "cli", senderIsOwner: true };
    expect(await handleChatCommand(service, c, { ...owner, args: "frobnicate" })).toMatch(/unknown command "frobnicate". Usage:/);
    expect(await handleChatCommand(service, c, { ...owner, args: "approve" })).toMatch(/approve needs an approval id/);
    expect(await handleChatCommand(service, c, { ...owner, args: "approve ap_000000000000" })).toContain('no approval with id "ap_000000000000"');
    const rec = await store.create(newApproval());
    expect(await handleChatCommand(service, c, { ...owner, args: `deny ${rec.id}` })).toContain("needs a reason");
    await handleChatCommand(service, c, { ...owner, args: `approve ${rec.id}` });
    expect(await handleChatCommand(service, c, { ...owner, args: `deny ${rec.id} too late` })).toContain("already approved by openclaw:webchat:cli via openclaw");
  });

  it("shows one approval, and keeps a quoted reason whole", async () => {
    const c = config();
    const owner = { channel: "webchat", senderId: "cli", senderIsOwner: true };
    const rec = await store.create(newApproval());
    const shown = await handleChatCommand(service, c, { ...owner, args: `show ${rec.id}` });
    expect(shown).toContain(`${rec.id}: pending`);
    expect(shown).toContain("git push origin main");
    expect(await handleChatCommand(service, c, { ...owner, args: `deny ${rec.id} "not now"` })).toContain("denied");
    expect((await store.require(rec.id)).decisionReason).toBe("not now");
  });

  it("rejects a bare sender id in place of channel:senderId at config load", () => {
    expect(() => testConfig(prefix, { approvals: { chatApprovers: { owner: false, senders: ["42"] } } })).toThrow(/approvals.chatApprovers.senders\[0\]: write a chat approver as "channel:senderId"/);
  });
});
