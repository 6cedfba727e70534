import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeRefEntry, encodeRefEntry, newNonce } from "../../queue/refEntry.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { newApproval } from "../helpers/fixtures.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let prefix: string;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("refs");
});
afterEach(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("message ref entries", () => {
  it("round-trip, and the older {s: …} form still reads", () => {
    const posting = { s: "posting" as const, nonce: newNonce(), at: 1_795_700_815_890 };
    const posted = { s: "posted" as const, ref: { channel: "C0123ABCD", ts: "1717171717.123456" } };
    expect(decodeRefEntry(encodeRefEntry(posting))).toEqual(posting);
    expect(decodeRefEntry(encodeRefEntry(posted))).toEqual(posted);
    expect(decodeRefEntry(JSON.stringify({ s: "posting", nonce: "5f0e7f7e-9a53-4a51-9a43-1f0e0f6a7d11", at: 1 }))).toEqual({ s: "posting", nonce: "5f0e7f7e-9a53-4a51-9a43-1f0e0f6a7d11", at: 1 });
    expect(decodeRefEntry(JSON.stringify(posted))).toEqual(posted);
    const closed = { s: "posted" as const, ref: { channel: "C0123ABCD", ts: "1717171717.123456" }, closed: true as const };
    const unposted = { s: "unposted" as const, at: 1_795_700_815_890 };
    expect(decodeRefEntry(encodeRefEntry(closed))).toEqual(closed);
    expect(decodeRefEntry(encodeRefEntry(unposted))).toEqual(unposted);
    // A Slack card's closed entry still fits Redis's compact hash values (64 bytes).
    expect(encodeRefEntry({ ...closed, ref: { channel: "C0123ABCDEF", ts: "1717171717.123456" } }).length).toBeLessThanOrEqual(64);
    expect(decodeRefEntry('{"r":{},"c":2}')).toBeNull();
    expect(decodeRefEntry('{"n":1}')).toBeNull();
    expect(decodeRefEntry("not json")).toBeNull();
    expect(decodeRefEntry(undefined)).toBeNull();
  });

  it("keep a Slack card's refs hash in Redis's compact encoding through posting", async () => {
    const store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
    const rec = await store.create(newApproval());
    const key = "slack|C0123ABCD|0";
    const intent = encodeRefEntry({ s: "posting", nonce: newNonce(), at: Date.now() });
    expect(await store.swapRef(rec.id, key, null, intent)).toBe(true);
    expect(await store.swapRef(rec.id, key, intent, encodeRefEntry({ s: "posted", ref: { channel: "C0123ABCD", ts: "1717171717.123456" } }))).toBe(true);
    // One value over hash-max-listpack-value (64 bytes by default) converts the hash for good.
    expect(await redis.call("OBJECT", "ENCODING", store.k.refs(rec.id))).toBe("listpack");
  });
});
