import type { Redis } from "ioredis";
import { z } from "zod";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApprovalContext, ChannelAdapter, MessageRef, PostMarker } from "../../src/channel/adapter.ts";
import { refKey } from "../../queue/names.ts";
import { decodeRefEntry, encodeRefEntry } from "../../queue/refEntry.ts";
import { AuditLog } from "../../src/audit/log.ts";
import type { Recipient } from "../../src/approvals/events.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { startLifecycle, type Lifecycle } from "../../src/lifecycle/runtime.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

/**
 * A channel whose post races another attempt of the same job: while it posts, that attempt
 * saves its own message (as one whose job lock lapsed during a Redis stall would).
 */
class RacingChannel implements ChannelAdapter {
  readonly name = "log";
  readonly refSchema = z.object({ messageId: z.string() });
  posted: string[] = [];
  retracted: MessageRef[] = [];
  updated: MessageRef[] = [];
  retract?: (ctx: ApprovalContext, ref: MessageRef) => Promise<void>;
  constructor(
    private readonly store: ApprovalStore,
    canRetract: boolean,
  ) {
    if (canRetract) this.retract = async (_ctx, ref) => void this.retracted.push(ref);
  }
  async post(ctx: ApprovalContext, recipient: Recipient, _kind: "request" | "reminder" | "escalated", tier: number, _m: PostMarker): Promise<MessageRef> {
    await this.store.setRef(ctx.record.id, refKey(this.name, recipient.target, tier), encodeRefEntry({ s: "posted", ref: { messageId: "theirs" } }));
    this.posted.push("ours");
    return { messageId: "ours" };
  }
  async update(_ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    this.updated.push(ref);
  }
}

let redis: Redis;
let prefix: string;
let store: ApprovalStore;
let lifecycle: Lifecycle | undefined;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("dup");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
});
afterEach(async () => {
  await lifecycle?.close();
  lifecycle = undefined;
  await deleteKeys(redis, prefix);
  await redis.quit();
});

async function run(channel: RacingChannel) {
  const config = testConfig(prefix, { log: { enabled: true } });
  const service = new ApprovalService(store, silentLog, testSigner);
  lifecycle = await startLifecycle({ config, redisUrl: REDIS_URL, service, channels: [channel], audit: new AuditLog(redis, { prefix }), log: silentLog });
  const rec = await store.create(newApproval());
  await expect.poll(() => channel.posted.length, { timeout: 3_000 }).toBe(1);
  return { rec, service };
}

describe("notify worker: two attempts of one post", () => {
  it("keeps the message the other attempt saved and takes its own back", async () => {
    const ch = new RacingChannel(store, true);
    const { rec, service } = await run(ch);
    await expect.poll(() => ch.retracted, { timeout: 3_000 }).toEqual([{ messageId: "ours" }]);
    expect(Object.values(await store.refs(rec.id)).map((v) => decodeRefEntry(v))).toEqual([{ s: "posted", ref: { messageId: "theirs" } }]);
    await service.decide({ id: rec.id, decision: "allow-once", actor: "cli:x", via: "cli" });
    await expect.poll(() => ch.updated, { timeout: 3_000 }).toEqual([{ messageId: "theirs" }]);
  });

  it("a channel that cannot take a message back keeps the copy's ref, so the final edit reaches both", async () => {
    const ch = new RacingChannel(store, false);
    const { rec, service } = await run(ch);
    await expect.poll(async () => Object.keys(await store.refs(rec.id)).length, { timeout: 3_000 }).toBe(2);
    await service.decide({ id: rec.id, decision: "deny", actor: "cli:x", via: "cli", reason: "no" });
    await expect.poll(() => ch.updated.map((r) => r.messageId).sort(), { timeout: 3_000 }).toEqual(["ours", "theirs"]);
  });
});
