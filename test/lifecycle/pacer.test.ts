import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChannelPacing, PaceSlot } from "../../src/channel/adapter.ts";
import { keys } from "../../src/approvals/keys.ts";
import { HOLD_HORIZON_MS, Pacer, type Turn } from "../../queue/pacer.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";

/** One call per conversation every PACE ms: wide enough margins for a busy test machine. */
const PACE = 300;
const pacing: ChannelPacing = {
  buckets: { post: { intervalMs: PACE }, edit: { intervalMs: PACE } },
  post: (r) => ({ bucket: "post", key: r.target }),
  edit: () => ({ bucket: "edit", key: "w" }),
};
const slot = (key: string): PaceSlot => ({ bucket: "post", key });

let redis: Redis;
let prefix: string;
const pacers: Pacer[] = [];
const pacer = () => {
  const p = new Pacer(redis, prefix);
  pacers.push(p);
  return p;
};

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix("pacer");
});
afterEach(async () => {
  for (const p of pacers.splice(0)) p.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

/** Resolves with when the turn came and what it was. */
const timed = async (t0: number, turn: Promise<Turn>) => ({ turn: await turn, at: Date.now() - t0 });

describe("pacer", () => {
  it("holds one conversation to its pace across serve replicas, and lets another conversation go at once", async () => {
    const [a, b] = [pacer(), pacer()];
    const t0 = Date.now();
    const runs = await Promise.all([
      ...[1, 2, 3].map((n) => timed(t0, a.post("slack", pacing, slot("C1"), { priority: 1, timestamp: n, id: `a${n}` }))),
      ...[4, 5, 6].map((n) => timed(t0, b.post("slack", pacing, slot("C1"), { priority: 1, timestamp: n, id: `b${n}` }))),
      timed(t0, b.post("slack", pacing, slot("C2"), { priority: 1, timestamp: 7, id: "other" })),
    ]);
    expect(runs.every((r) => r.turn.kind === "go")).toBe(true);
    const c1 = runs.slice(0, 6).map((r) => r.at).sort((x, y) => x - y);
    // Six posts to C1 at one per 300 ms take 1.5 s, whichever replica made them.
    for (let i = 1; i < c1.length; i++) expect((c1[i] as number) - (c1[i - 1] as number)).toBeGreaterThanOrEqual(PACE - 50);
    expect(runs[6]?.at).toBeLessThan(PACE - 50);
  });

  it("gives the next token to the best waiting post, not the first to arrive", async () => {
    const p = pacer();
    const t0 = Date.now();
    const order: string[] = [];
    const post = (id: string, priority: number) => p.post("slack", pacing, slot("C1"), { priority, timestamp: t0, id }).then(() => order.push(id));
    const all = [post("first", 5), post("noisy-2", 5), post("noisy-3", 5)];
    await new Promise((r) => setTimeout(r, 20));
    all.push(post("quiet", 1));
    await Promise.all(all);
    expect(order).toEqual(["first", "quiet", "noisy-2", "noisy-3"]);
  });

  it("parks what does not fit within the hold horizon, spread out in order, and makes room for a better post", async () => {
    const p = pacer();
    const room = Math.ceil(HOLD_HORIZON_MS / PACE);
    const turns = Array.from({ length: room + 3 }, (_, i) => p.post("slack", pacing, slot("C1"), { priority: 10, timestamp: i, id: `n${i}` }));
    const parked = (await Promise.all(turns.slice(room))) as Array<{ kind: "park"; ms: number }>;
    expect(parked.map((t) => t.kind)).toEqual(["park", "park", "park"]);
    // Back one after another, each behind the ones held and parked before it.
    expect(parked.map((t) => t.ms)).toEqual([room * PACE, (room + 1) * PACE, (room + 2) * PACE]);
    // A better post takes the place of the worst one held, which is parked instead.
    const better = p.post("slack", pacing, slot("C1"), { priority: 1, timestamp: 99, id: "b" });
    expect(await turns[room - 1]).toEqual({ kind: "park", ms: expect.any(Number) });
    expect((await better).kind).toBe("go");
  });

  it("a provider's 429 holds back only its bucket and key; a channel-wide pause holds back every call", async () => {
    const p = pacer();
    await p.penalize("slack", pacing, slot("C1"), 1_000, "call");
    const t0 = Date.now();
    const [held, free] = await Promise.all([timed(t0, p.post("slack", pacing, slot("C1"), { priority: 1, timestamp: 1, id: "x" })), timed(t0, p.post("slack", pacing, slot("C2"), { priority: 1, timestamp: 2, id: "y" }))]);
    expect(held.turn.kind).toBe("go");
    expect(held.at).toBeGreaterThanOrEqual(950);
    expect(free.at).toBeLessThan(PACE);

    await p.penalize("slack", pacing, slot("C1"), 5_000, "channel");
    // Longer than a job may be held: it is parked until the pause ends.
    const parked = await p.post("slack", pacing, slot("C9"), { priority: 1, timestamp: 3, id: "z" });
    expect(parked).toEqual({ kind: "park", ms: expect.any(Number) });
    expect((parked as { ms: number }).ms).toBeGreaterThan(4_500);
    expect(await p.edit("slack", pacing, { bucket: "edit", key: "w" })).toEqual({ kind: "park", ms: expect.any(Number) });
  });

  it("a post whose approval ended while it waited gives its token to the next one", async () => {
    const p = pacer();
    const order: string[] = [];
    const post = (id: string, n: number, wanted: boolean) => p.post("slack", pacing, slot("C1"), { priority: 1, timestamp: n, id, wanted: async () => wanted }).then((t) => order.push(`${id}:${t.kind}`));
    const t0 = Date.now();
    await Promise.all([post("a", 1, true), post("gone", 2, false), post("b", 3, true)]);
    expect(order).toEqual(["a:go", "gone:skip", "b:go"]);
    // b took the slot "gone" would have had: one interval after a, not two.
    expect(Date.now() - t0).toBeLessThan(2 * PACE - 50);
  });

  it("edits first: while an edit waits for its bucket, the channel's posts wait too", async () => {
    const p = pacer();
    const edit = { bucket: "edit", key: "w" };
    await p.edit("slack", pacing, edit);
    const t0 = Date.now();
    const waiting = timed(t0, p.edit("slack", pacing, edit));
    await new Promise((r) => setTimeout(r, 20));
    const post = await timed(t0, p.post("slack", pacing, slot("C1"), { priority: 1, timestamp: 1, id: "p" }));
    expect((await waiting).at).toBeGreaterThanOrEqual(PACE - 50);
    expect(post.at).toBeGreaterThanOrEqual((await waiting).at);
  });

  it("edits first: while a provider's 429 holds edits back, the channel's posts wait too", async () => {
    const p = pacer();
    await p.penalize("slack", pacing, { bucket: "edit", key: "w" }, 1_000, "call", "edit");
    const t0 = Date.now();
    const post = await timed(t0, p.post("slack", pacing, slot("C1"), { priority: 1, timestamp: 1, id: "p" }));
    expect(post.turn.kind).toBe("go");
    expect(post.at).toBeGreaterThanOrEqual(950);
    // A post's own 429 holds back only that conversation's posts.
    await p.penalize("slack", pacing, slot("C1"), 1_000, "call", "post");
    const elsewhere = await timed(Date.now(), p.post("slack", pacing, slot("C2"), { priority: 1, timestamp: 2, id: "q" }));
    expect(elsewhere.at).toBeLessThan(PACE);
  });

  it("keeps no bucket in Redis longer than its pace needs", async () => {
    const p = pacer();
    await p.post("slack", pacing, slot("C1"), { priority: 1, timestamp: 1, id: "a" });
    const ttl = await redis.pttl(keys(prefix).pace("slack", "post", "C1"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2 * PACE);
  });
});
