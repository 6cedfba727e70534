import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { storeOptions } from "../../src/backend/wiring.ts";
import { startFakeSlack, type FakeSlack } from "../fakes/slack.ts";
import { newApproval, silentLog, testConfig, testSigner } from "../helpers/fixtures.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { HMAC_KEY, PrivateRedis, Procs, hasButtons, serveConfig, startServe, until, writeConfig, type ServeProc } from "./harness.ts";
import { prefixMemory, queueMetrics, type PrefixMemory, type QueueMetric } from "./load.ts";

/**
 * Sustained load against the real serve and a Slack fake that keeps Slack's pace: 20 asks and
 * 20 decisions a second for 5 minutes, chat.postMessage at one a second per conversation and
 * chat.update at Tier 3's 50 a minute (429 + Retry-After beyond either).
 */
const SOAK_MS = Number(process.env.CLAWGATE_SOAK_MS ?? 300_000);
const ASKS_PER_S = 20;
/** Each ask is decided this long after it was made (uniformly), so decisions also run at 20/s. */
const DECIDE_AFTER_MS: [number, number] = [500, 8_000];
/** The bound stated in docs/operations.md: a card is edited within this long of its decision. */
const EDIT_BOUND_MS = 15_000;
/** approvals.keepFor (its minimum): decided records, their refs and audit dedupe keys expire after it. */
const KEEP_FOR_MS = 60_000;

let procs: Procs;
let slack: FakeSlack;
let prefix: string;

beforeEach(async () => {
  procs = new Procs();
  // A burst of 2 absorbs network jitter between two posts a second apart; the pace is 1/s.
  slack = await startFakeSlack({ pace: { postIntervalMs: 1_000, postBurst: 2, updatesPerMinute: 50, updateBurst: 5 } });
  prefix = uniquePrefix("soak");
  onTestFailed(() => console.error(procs.dump()));
});
afterEach(async () => {
  await procs.cleanup();
  await slack.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The approval a top-level card is for. */
const approvalOf = (blocks: unknown) => /ap_[0-9a-z]{12}/.exec(JSON.stringify(blocks))?.[0];

describe("soak: 20 asks and 20 decisions a second for 5 minutes, Slack at its real pace", () => {
  it("edits every card within the bound, drains the update queue and keeps Redis flat once records expire", { timeout: SOAK_MS + 240_000 }, async () => {
    const server = await PrivateRedis.start(procs);
    const redis: Redis = procs.redis(server.url);
    const over = { approvals: { keepFor: "60s", timeout: "2m" }, audit: { hmacKey: HMAC_KEY, dedupeWindow: "60s" } };
    const serve: ServeProc = await startServe(procs, writeConfig(procs.tmp("soak"), "serve.yaml", serveConfig({ redisUrl: server.url, prefix, slack, over })), server.url);
    // Gateways ask; the deciders (a CLI, a chat) decide: both only write Redis, as in production.
    const store = new ApprovalStore(redis, storeOptions(testConfig(prefix, { approvals: { keepFor: "60s" } })));
    const service = new ApprovalService(store, silentLog, testSigner);

    const baseline = await prefixMemory(redis, prefix);
    const decidedAt = new Map<string, number>();
    const samples: Array<{ t: number; memory: PrefixMemory; update: QueueMetric | undefined }> = [];
    const pending = new Set<Promise<unknown>>();
    const failures: string[] = [];
    const t0 = Date.now();
    let asked = 0;
    let refused = 0;

    const decide = async (id: string, n: number) => {
      try {
        if (n % 2) await service.decide({ id, decision: "allow-once", actor: "cli:alice", via: "cli" });
        else await service.decide({ id, decision: "deny", actor: "cli:alice", via: "cli", reason: "soak" });
        decidedAt.set(id, Date.now());
      } catch (err) {
        failures.push(`decide ${id}: ${(err as Error).message}`);
      }
    };
    const ask = async (n: number) => {
      try {
        const rec = await store.create(newApproval({ agentId: `agent-${n % 5}`, sessionKey: `agent:agent-${n % 5}:s${Math.floor(n / 5) % 20}`, params: { command: `git push origin soak-${n}` } }));
        const [lo, hi] = DECIDE_AFTER_MS;
        await sleep(lo + Math.random() * (hi - lo));
        await decide(rec.id, n);
      } catch (err) {
        refused++;
        failures.push(`ask ${n}: ${(err as Error).message}`);
      }
    };

    // 20 asks a second, on schedule (catching up if a tick ran late).
    let nextSample = t0 + 15_000;
    while (Date.now() - t0 < SOAK_MS) {
      const due = Math.floor(((Date.now() - t0) * ASKS_PER_S) / 1000);
      while (asked < due) {
        const p = ask(asked++);
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      if (Date.now() >= nextSample) {
        nextSample += 15_000;
        samples.push({ t: Date.now() - t0, memory: await prefixMemory(redis, prefix), update: (await queueMetrics(serve.url))["update-slack"] });
      }
      await sleep(10);
    }
    await Promise.all(pending);
    const endedAt = Date.now();

    // Every card of a decided approval is edited (buttons gone) within the bound of its decision.
    const cards = () => [...slack.messages.values()].filter((m) => !m.thread_ts && approvalOf(m.blocks));
    await until("every card edited", () => cards().every((m) => !hasButtons(m)) || undefined, EDIT_BOUND_MS + 5_000, 250);
    const delays = cards().map((m) => {
      const id = approvalOf(m.history[0]?.blocks ?? m.blocks) as string;
      return { id, delay: (m.history[0]?.at ?? Number.POSITIVE_INFINITY) - (decidedAt.get(id) ?? Number.NaN) };
    });
    const worst = Math.max(...delays.map((d) => d.delay));
    const sorted = delays.map((d) => d.delay).sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    const drainedAt = Date.now();

    // The update queue is back to empty, as /metrics shows it.
    const after = await until("the update queue to drain", async () => {
      const q = (await queueMetrics(serve.url))["update-slack"];
      return q && q.waiting === 0 && q.active === 0 && q.oldest === 0 ? q : undefined;
    }, 10_000, 200);

    // Records (and their refs, the audit dedupe keys) expire keepFor after their decision.
    await sleep(Math.max(0, endedAt + KEEP_FOR_MS + 10_000 - Date.now()));
    const expired = await prefixMemory(redis, prefix);

    const posts = slack.callsTo("chat.postMessage");
    const perWindow = (calls: typeof posts, ms: number) => {
      const ok = calls.filter((c) => c.status === 200).map((c) => c.at);
      let max = 0;
      for (let i = 0, j = 0; i < ok.length; i++) {
        while ((ok[i] as number) - (ok[j] as number) >= ms) j++;
        max = Math.max(max, i - j + 1);
      }
      return max;
    };
    const steady = samples.filter((s) => s.t >= KEEP_FOR_MS + DECIDE_AFTER_MS[1] + 15_000);
    const nonAudit = (m: PrefixMemory) => m.total - m.audit;
    const summary = {
      seconds: SOAK_MS / 1000,
      asked,
      refused,
      decided: decidedAt.size,
      cards: delays.length,
      editDelayMs: { p50: sorted[Math.floor(sorted.length / 2)], p99, max: worst },
      drainMsAfterLastDecision: drainedAt - endedAt,
      updateQueue: { maxOldestWaitingS: Math.max(...samples.map((s) => s.update?.oldest ?? 0)), maxWaiting: Math.max(...samples.map((s) => (s.update?.waiting ?? 0) + (s.update?.active ?? 0))), after },
      slack: {
        posts: posts.filter((c) => c.status === 200).length,
        posts429: posts.filter((c) => c.status === 429).length,
        maxPostsIn10s: perWindow(posts, 10_000),
        updates: slack.callsTo("chat.update").filter((c) => c.status === 200).length,
        updates429: slack.callsTo("chat.update").filter((c) => c.status === 429).length,
      },
      memoryBytes: {
        baseline: baseline.total,
        steady: steady.map((s) => ({ t: Math.round(s.t / 1000), nonAudit: nonAudit(s.memory), audit: s.memory.audit, keys: s.memory.keys })),
        afterExpiry: { nonAudit: expired.total - expired.audit, audit: expired.audit, byClass: expired.byClass },
      },
    };
    console.log(`soak summary ${JSON.stringify(summary)}`);

    expect(failures.slice(0, 5)).toEqual([]);
    expect(decidedAt.size).toBe(asked);
    expect(delays.length).toBeGreaterThan(0.5 * (SOAK_MS / 1000));
    expect(worst, "ms from a decision to its card's edit").toBeLessThanOrEqual(EDIT_BOUND_MS);
    // Slack's pace held: never more than one post a second per conversation (one channel here).
    expect(summary.slack.maxPostsIn10s).toBeLessThanOrEqual(11);
    // Flat: once the first records expired, what Redis holds besides the audit log (the history,
    // kept by design) stops growing, and none of it outlives the records.
    const [first, last] = [steady[0], steady[steady.length - 1]];
    if (first && last) expect(nonAudit(last.memory), "bytes besides the audit log, end vs start of the steady state").toBeLessThan(nonAudit(first.memory) * 1.25);
    const perApproval = Object.entries(expired.byClass).filter(([c]) => c === "approvals" || c.startsWith("approval") || c === "pending" || c === "pace");
    expect(perApproval.filter(([, bytes]) => bytes > 0), "keys of expired approvals left").toEqual([]);
    // What is left is each queue's fixed keys and the event stream's handled tail.
    expect(expired.total - expired.audit).toBeLessThan(64 * 1024);
  });
});
