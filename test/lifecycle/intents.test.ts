import type { Redis } from "ioredis";
import { z } from "zod";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChannelRateLimitedError, type ApprovalContext, type ChannelAdapter, type MessageRef, type PostMarker } from "../../src/channel/adapter.ts";
import { INTENT_SETTLE_MS } from "../../queue/jobs.ts";
import { decodeRefEntry, encodeRefEntry, newNonce, type RefEntry } from "../../queue/refEntry.ts";
import type { Recipient } from "../../src/approvals/events.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { startLifecycle, type Lifecycle } from "../../src/lifecycle/runtime.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

/**
 * A channel whose posts are scripted: a post's message may land at once, later, or never, and its
 * answer may come at once or be held (as when the request reached the provider and the caller
 * died or waits). Messages carry the post's nonce, so `find` sees what a provider would.
 */
class ScriptedChannel implements ChannelAdapter {
  readonly name = "log";
  readonly refSchema = z.object({ id: z.string() });
  readonly messages = new Map<string, { nonce: string; edits: string[] }>();
  posts = 0;
  finds = 0;
  retracted: string[] = [];
  /** Where the next posts' messages land: 0 = at once, n = after n ms, null = never. */
  landAfterMs: number | null = 0;
  holdAnswer = false;
  retract?: (ctx: ApprovalContext, ref: MessageRef) => Promise<void>;
  private readonly held: Array<() => void> = [];

  constructor(canRetract = true) {
    if (canRetract)
      this.retract = async (_ctx, ref) => {
        this.retracted.push(String(ref.id));
        this.messages.delete(String(ref.id));
      };
  }

  /** The next post fails with this error (a refusal creates nothing; others after its message landed as `landAfterMs` says). */
  failNextPost: Error | null = null;

  async post(_ctx: ApprovalContext, _r: Recipient, _k: string, _t: number, marker: PostMarker): Promise<MessageRef> {
    this.posts += 1;
    const id = `m${this.posts}`;
    const fail = this.failNextPost;
    this.failNextPost = null;
    // A rate-limited request is refused before anything is created.
    if (fail instanceof ChannelRateLimitedError) throw fail;
    const land = () => this.messages.set(id, { nonce: marker.nonce, edits: [] });
    if (this.landAfterMs === 0) land();
    else if (this.landAfterMs !== null) setTimeout(land, this.landAfterMs);
    if (fail) throw fail;
    if (this.holdAnswer) await new Promise<void>((resolve) => this.held.push(resolve));
    return { id };
  }

  /** How many of the next searches fail (the provider answers 5xx). */
  failFinds = 0;

  async find(_ctx: ApprovalContext, _r: Recipient, _k: string, _t: number, marker: PostMarker): Promise<MessageRef | null> {
    this.finds += 1;
    if (this.failFinds > 0 && this.failFinds--) throw new Error("provider answered 503");
    for (const [id, m] of this.messages) if (m.nonce === marker.nonce) return { id };
    return null;
  }

  async update(ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    this.messages.get(String(ref.id))?.edits.push(ctx.record.state);
  }

  /** Lets every held answer through. */
  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  /** A message that exists with `nonce`, as an interrupted earlier attempt left it. */
  landed(id: string, nonce: string): void {
    this.messages.set(id, { nonce, edits: [] });
  }
}

let redis: Redis;
let prefix: string;
let store: ApprovalStore;
let service: ApprovalService;
let lifecycle: Lifecycle | undefined;
let channels: ScriptedChannel[] = [];

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("intent");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  service = new ApprovalService(store, silentLog, testSigner);
});
afterEach(async () => {
  for (const ch of channels) ch.release();
  channels = [];
  await lifecycle?.close();
  lifecycle = undefined;
  await deleteKeys(redis, prefix);
  await redis.quit();
});

async function start(ch: ScriptedChannel): Promise<void> {
  channels.push(ch);
  const config = testConfig(prefix, { log: { enabled: true } });
  lifecycle = await startLifecycle({ config, redisUrl: REDIS_URL, service, channels: [ch], audit: new AuditLog(redis, { prefix }), log: silentLog });
}

const entry = async (id: string, key = "log|log|0"): Promise<RefEntry | null> => decodeRefEntry(await store.ref(id, key));
const deny = (id: string) => service.decide({ id, decision: "deny", actor: "cli:x", via: "cli", reason: "no" });

describe("a posting intent is always resolved", () => {
  it("the approval ends while a post is in flight and its answer never comes: the update job finds the message, edits it once, and the late answer changes nothing", async () => {
    const ch = new ScriptedChannel();
    ch.holdAnswer = true;
    await start(ch);
    const rec = await store.create(newApproval());
    await expect.poll(() => ch.messages.size, { timeout: 3_000 }).toBe(1);
    expect((await entry(rec.id))?.s).toBe("posting");
    await deny(rec.id);
    await expect.poll(async () => await entry(rec.id), { timeout: 3_000 }).toEqual({ s: "posted", ref: { id: "m1" }, closed: true });
    ch.release();
    await new Promise((r) => setTimeout(r, 300));
    expect(ch.messages.get("m1")?.edits).toEqual(["denied"]);
    expect(ch.posts).toBe(1);
    expect(ch.retracted).toEqual([]);
  });

  it("a post that lands after the approval ended (within the settling time) is found on a later look and edited once", async () => {
    const ch = new ScriptedChannel();
    ch.landAfterMs = null;
    ch.holdAnswer = true;
    await start(ch);
    const rec = await store.create(newApproval());
    await expect.poll(async () => (await entry(rec.id))?.s, { timeout: 3_000 }).toBe("posting");
    await deny(rec.id);
    // The update job looks, finds nothing yet, and waits (the intent is young).
    await expect.poll(() => ch.finds, { timeout: 3_000 }).toBeGreaterThanOrEqual(1);
    const nonce = (await entry(rec.id)) as Extract<RefEntry, { s: "posting" }>;
    ch.landed("m1", nonce.nonce);
    await expect.poll(() => ch.messages.get("m1")?.edits, { timeout: 5_000 }).toEqual(["denied"]);
    expect(await entry(rec.id)).toEqual({ s: "posted", ref: { id: "m1" }, closed: true });
    expect(ch.posts).toBe(1);
  });

  it("an intent whose message never appears is marked unposted once it has settled, and nothing is posted after the end", async () => {
    const ch = new ScriptedChannel();
    await start(ch);
    const rec = await store.create(newApproval());
    await expect.poll(async () => (await entry(rec.id))?.s, { timeout: 3_000 }).toBe("posted");
    // An escalation note's intent left by a worker that died before its request went out: one
    // nearly settled, written 1.5 s before it would be.
    const at = (await store.now()) - INTENT_SETTLE_MS + 1_500;
    expect(await store.swapPendingRef(rec.id, "log|log|1", null, encodeRefEntry({ s: "posting", nonce: newNonce(), at }))).toBe("set");
    await deny(rec.id);
    await expect.poll(async () => (await entry(rec.id, "log|log|1"))?.s, { timeout: 6_000 }).toBe("unposted");
    // It was young when the update job first looked: it looked again rather than give up.
    expect(ch.finds).toBeGreaterThanOrEqual(2);
    expect(await entry(rec.id)).toEqual({ s: "posted", ref: { id: "m1" }, closed: true });
    expect(ch.messages.get("m1")?.edits).toEqual(["denied"]);
    expect(ch.posts).toBe(1);
  });

  it("a notify job that runs after the end saves an interrupted post's ref, posts nothing, and the update job edits it once", async () => {
    const ch = new ScriptedChannel();
    const rec = await store.create(newApproval());
    // The earlier serve wrote the intent and its message reached the channel; then it died.
    const nonce = newNonce();
    expect(await store.swapPendingRef(rec.id, "log|log|0", null, encodeRefEntry({ s: "posting", nonce, at: await store.now() }))).toBe("set");
    ch.landed("m0", nonce);
    await deny(rec.id);
    await start(ch);
    await expect.poll(async () => await entry(rec.id), { timeout: 5_000 }).toEqual({ s: "posted", ref: { id: "m0" }, closed: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(ch.messages.get("m0")?.edits).toEqual(["denied"]);
    expect(ch.posts).toBe(0);
  });

  it("while pending, a retry waits for a young intent's message rather than post a second copy", async () => {
    const ch = new ScriptedChannel();
    const rec = await store.create(newApproval());
    // An interrupted attempt's intent, its post still on the way to the channel.
    const nonce = newNonce();
    expect(await store.swapPendingRef(rec.id, "log|log|0", null, encodeRefEntry({ s: "posting", nonce, at: await store.now() }))).toBe("set");
    await start(ch);
    await expect.poll(() => ch.finds, { timeout: 3_000 }).toBeGreaterThanOrEqual(1);
    ch.landed("m0", nonce);
    await expect.poll(async () => await entry(rec.id), { timeout: 5_000 }).toEqual({ s: "posted", ref: { id: "m0" } });
    expect(ch.posts).toBe(0);
  });

  it("while pending, a settled intent without a message is replaced by a fresh post", async () => {
    const ch = new ScriptedChannel();
    const rec = await store.create(newApproval());
    const old = encodeRefEntry({ s: "posting", nonce: newNonce(), at: (await store.now()) - INTENT_SETTLE_MS - 1 });
    expect(await store.swapPendingRef(rec.id, "log|log|0", null, old)).toBe("set");
    await start(ch);
    await expect.poll(async () => (await entry(rec.id))?.s, { timeout: 3_000 }).toBe("posted");
    expect(ch.posts).toBe(1);
    expect(ch.finds).toBe(1);
  });

  it("a post whose intent was settled meanwhile is a second copy: taken back, or edited to the outcome where the channel cannot take it back", async () => {
    for (const canRetract of [true, false]) {
      const ch = new ScriptedChannel(canRetract);
      ch.holdAnswer = true;
      ch.landAfterMs = null;
      await start(ch);
      const rec = await store.create(newApproval());
      await expect.poll(async () => (await entry(rec.id))?.s, { timeout: 3_000 }).toBe("posting");
      await deny(rec.id);
      // The update job settled the intent (this attempt took longer than any bound allows)…
      const intent = await store.ref(rec.id, "log|log|0");
      expect(await store.swapRef(rec.id, "log|log|0", intent, encodeRefEntry({ s: "unposted", at: await store.now() }))).toBe(true);
      // …and then its message lands and its answer comes back.
      ch.landed("m1", (decodeRefEntry(intent) as Extract<RefEntry, { s: "posting" }>).nonce);
      ch.release();
      if (canRetract) {
        await expect.poll(() => ch.retracted, { timeout: 3_000 }).toEqual(["m1"]);
        expect(ch.messages.size).toBe(0);
      } else {
        await expect.poll(() => ch.messages.get("m1")?.edits, { timeout: 3_000 }).toEqual(["denied"]);
        const copies = Object.entries(await store.refs(rec.id)).filter(([k]) => k.startsWith("log|log|0|dup-"));
        expect(copies.map(([, v]) => decodeRefEntry(v))).toEqual([{ s: "posted", ref: { id: "m1" }, closed: true }]);
      }
      await lifecycle?.close();
      lifecycle = undefined;
    }
  });
});

describe("a post that fails", () => {
  const httpError = (status: number) => Object.assign(new Error(`HTTP ${status}`), { statusCode: status });

  it("refused (429 or a 4xx): its intent is marked unposted and the retry posts without searching or waiting for it", async () => {
    const ch = new ScriptedChannel();
    ch.failNextPost = new ChannelRateLimitedError(200);
    await start(ch);
    const rec = await store.create(newApproval());
    await expect.poll(async () => (await entry(rec.id))?.s, { timeout: 3_000 }).toBe("unposted");
    // The queue retries once the channel's pause is over (BullMQ may take a few seconds more).
    await expect.poll(async () => (await entry(rec.id))?.s, { timeout: 10_000 }).toBe("posted");
    expect(ch.posts).toBe(2);
    expect(ch.finds).toBe(0);
  });

  it("answered with a 500 although the provider created the message: it is found at once and not posted again", async () => {
    const ch = new ScriptedChannel();
    ch.failNextPost = httpError(500);
    await start(ch);
    const rec = await store.create(newApproval());
    await expect.poll(async () => await entry(rec.id), { timeout: 3_000 }).toEqual({ s: "posted", ref: { id: "m1" } });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(ch.posts).toBe(1);
    expect(ch.messages.size).toBe(1);
  });

  it("unanswered (a reset connection) while the provider is still creating the message: the retry waits and finds it, one card", async () => {
    const ch = new ScriptedChannel();
    ch.landAfterMs = 1_500;
    ch.failNextPost = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    await start(ch);
    const rec = await store.create(newApproval());
    await expect.poll(async () => await entry(rec.id), { timeout: 6_000 }).toEqual({ s: "posted", ref: { id: "m1" } });
    expect(ch.posts).toBe(1);
    expect(ch.finds).toBeGreaterThanOrEqual(2);
  });
});

describe("each message is edited once", () => {
  it("an update job run again (a redelivered event) edits nothing twice", async () => {
    const ch = new ScriptedChannel();
    await start(ch);
    const rec = await store.create(newApproval());
    await expect.poll(async () => (await entry(rec.id))?.s, { timeout: 3_000 }).toBe("posted");
    await deny(rec.id);
    await expect.poll(async () => (await entry(rec.id)) as unknown, { timeout: 3_000 }).toEqual({ s: "posted", ref: { id: "m1" }, closed: true });
    await lifecycle?.producer.updates(rec.id, ["log"]);
    await new Promise((r) => setTimeout(r, 800));
    expect(ch.messages.get("m1")?.edits).toEqual(["denied"]);
  });

  it("a search that fails is retried by the queue without editing the cards already edited again", async () => {
    const ch = new ScriptedChannel();
    await start(ch);
    const rec = await store.create(newApproval());
    await expect.poll(async () => (await entry(rec.id))?.s, { timeout: 3_000 }).toBe("posted");
    const nonce = newNonce();
    expect(await store.swapPendingRef(rec.id, "log|log|1", null, encodeRefEntry({ s: "posting", nonce, at: await store.now() }))).toBe("set");
    ch.landed("n1", nonce);
    ch.failFinds = 1;
    await deny(rec.id);
    await expect.poll(async () => (await entry(rec.id, "log|log|1")) as unknown, { timeout: 5_000 }).toEqual({ s: "posted", ref: { id: "n1" }, closed: true });
    expect(ch.messages.get("m1")?.edits).toEqual(["denied"]);
    expect(ch.messages.get("n1")?.edits).toEqual(["denied"]);
    expect(ch.finds).toBe(2);
  });
});

describe("posting intents are written only while the approval is pending", () => {
  it("an ended approval gets no intent, so nothing is posted for it", async () => {
    const rec = await store.create(newApproval());
    const intent = encodeRefEntry({ s: "posting", nonce: newNonce(), at: await store.now() });
    await deny(rec.id);
    expect(await store.swapPendingRef(rec.id, "slack|C1|0", null, intent)).toBe("final");
    expect(await store.swapPendingRef("ap_000000000000", "slack|C1|0", null, intent)).toBe("final");
    expect(await store.refs(rec.id)).toEqual({});
  });

  it("compares and sets like swapRef while pending", async () => {
    const rec = await store.create(newApproval());
    const a = encodeRefEntry({ s: "posting", nonce: newNonce(), at: 1 });
    const b = encodeRefEntry({ s: "posting", nonce: newNonce(), at: 2 });
    expect(await store.swapPendingRef(rec.id, "slack|C1|0", null, a)).toBe("set");
    expect(await store.swapPendingRef(rec.id, "slack|C1|0", null, b)).toBe("changed");
    expect(await store.swapPendingRef(rec.id, "slack|C1|0", b, a)).toBe("changed");
    expect(await store.swapPendingRef(rec.id, "slack|C1|0", a, b)).toBe("set");
    expect(await store.ref(rec.id, "slack|C1|0")).toBe(b);
  });
});
