import type { ApprovalContext, ChannelAdapter, MessageRef, NotifyKind, PostMarker } from "../src/channel/adapter.ts";
import type { Recipient } from "../src/approvals/events.ts";
import type { ApprovalStore } from "../src/approvals/store.ts";
import { INTENT_SETTLE_MS, REMINDER_TIER } from "./jobs.ts";
import { jobIds } from "./names.ts";
import type { JobProducer } from "./producer.ts";
import { decodeRefEntry, encodeRefEntry, type RefEntry } from "./refEntry.ts";

/**
 * Posting intents and final edits (docs/architecture.md, "Posting exactly once"). An entry of the
 * refs hash goes  posting → posted → posted+closed  or  posting → unposted;  while the approval is
 * pending, a retry replaces an unposted entry, or a settled intent without a message, with a fresh
 * intent. Every move is a compare-and-set on the exact text read, so concurrent attempts cannot
 * both win.
 *
 * Who does what: the notify job writes intents (only while the approval is pending) and saves
 * refs; once the approval has ended, the channel's update job is the one editor: it edits every
 * posted entry not yet closed, resolves every intent (find → posted → edit, or unposted once
 * settled), and waits — as a delayed job, without using attempts — while an intent is young.
 */

export interface IntentDeps {
  store: ApprovalStore;
  channel: ChannelAdapter;
}

/** `channel|target|tier` (a kept second copy adds `|dup-…`). */
function parseRefKey(key: string): { channel: string; target: string; tier: number } {
  const [channel = "", target = "", tier = "0"] = key.split("|");
  return { channel, target, tier: Number(tier) || 0 };
}

/** What a tier posts: the request at tier 0, reminders at REMINDER_TIER, escalation notes between. */
function kindOfTier(tier: number): NotifyKind {
  return tier === 0 ? "request" : tier >= REMINDER_TIER ? "reminder" : "escalated";
}

/** When to look again for a young intent's message: after about its age again, and once just past settling. */
function recheckInMs(at: number, now: number): number {
  const age = Math.max(0, now - at);
  return Math.max(100, Math.min(at + INTENT_SETTLE_MS - now + 100, Math.max(1_000, age)));
}

export type Lookup =
  /** Found, and this attempt saved its ref (`text` is the entry now stored). */
  | { kind: "found"; ref: MessageRef; text: string }
  /** Someone else moved the entry meanwhile: read it again. */
  | { kind: "changed" }
  /** Not found, but the post may still land: look again in `retryInMs`. */
  | { kind: "young"; retryInMs: number }
  /** Not found, and it never will be (INTENT_SETTLE_MS has passed). */
  | { kind: "settled" };

/**
 * Looks for the message of posting intent `text` by its nonce and saves its ref if found.
 * `now` is Redis's time read before the search: a search that began after the intent settled and
 * found nothing proves there is no message.
 */
export async function lookUp(
  d: IntentDeps,
  ctx: ApprovalContext,
  key: string,
  text: string,
  entry: Extract<RefEntry, { s: "posting" }>,
  recipient: Recipient,
  now: number,
): Promise<Lookup> {
  const { tier } = parseRefKey(key);
  const marker: PostMarker = { refKey: key, nonce: entry.nonce, at: entry.at };
  const found = d.channel.find ? await d.channel.find(ctx, recipient, kindOfTier(tier), tier, marker) : null;
  if (found) {
    const posted = encodeRefEntry({ s: "posted", ref: found });
    if (!(await d.store.swapRef(ctx.record.id, key, text, posted))) return { kind: "changed" };
    ctx.log.info({ refKey: key }, "found the message of an interrupted post by its nonce");
    ctx.refs.push({ target: parseRefKey(key).target, tier, ref: found });
    return { kind: "found", ref: found, text: posted };
  }
  if (now - entry.at < INTENT_SETTLE_MS) return { kind: "young", retryInMs: recheckInMs(entry.at, now) };
  return { kind: "settled" };
}

export interface CloseOutcome {
  edited: number;
  unposted: number;
  /** Intents that may still gain a message: run again in this many ms. */
  recheckInMs: number | null;
}

/**
 * The update job's work for one channel of an ended approval: edit each posted message once
 * (then mark its entry closed), resolve each posting intent, and say when to come back for
 * intents that are still young. Request cards first, so a thread note's search knows its parent.
 */
export async function closeMessages(d: IntentDeps, ctx: ApprovalContext, raw: Record<string, string>): Promise<CloseOutcome> {
  const id = ctx.record.id;
  const out: CloseOutcome = { edited: 0, unposted: 0, recheckInMs: null };
  const keys = Object.keys(raw)
    .filter((k) => parseRefKey(k).channel === d.channel.name)
    .sort((a, b) => parseRefKey(a).tier - parseRefKey(b).tier);
  let now = await d.store.now();
  for (const key of keys) {
    let text: string | null = raw[key] ?? null;
    // A few rounds: each compare-and-set that loses re-reads the entry and acts on what it says now.
    for (let round = 0; text !== null && round < 5; round++) {
      const entry = decodeRefEntry(text);
      if (!entry) {
        ctx.log.warn({ refKey: key }, "malformed message ref skipped");
        break;
      }
      if (entry.s === "unposted" || (entry.s === "posted" && entry.closed)) break;
      if (entry.s === "posting") {
        const { target } = parseRefKey(key);
        const found = await lookUp(d, ctx, key, text, entry, { channel: d.channel.name, target }, now);
        if (found.kind === "found") {
          text = found.text;
          continue;
        }
        if (found.kind === "young") {
          out.recheckInMs = Math.min(out.recheckInMs ?? Number.POSITIVE_INFINITY, found.retryInMs);
          break;
        }
        if (found.kind === "settled") {
          if (await d.store.swapRef(id, key, text, encodeRefEntry({ s: "unposted", at: now }))) {
            ctx.log.info({ refKey: key }, "posting intent settled without a message: nothing was posted");
            out.unposted += 1;
            break;
          }
        }
        text = await d.store.ref(id, key);
        now = await d.store.now();
        continue;
      }
      const ref = d.channel.refSchema.safeParse(entry.ref);
      if (!ref.success) {
        ctx.log.warn({ refKey: key, err: ref.error.message }, "message ref does not match the channel's schema; skipped");
        break;
      }
      await d.channel.update(ctx, ref.data);
      out.edited += 1;
      // Only a concurrent run of this same job (its lock lapsed) can have closed it meanwhile.
      if (!(await d.store.swapRef(id, key, text, encodeRefEntry({ s: "posted", ref: entry.ref, closed: true })))) {
        ctx.log.warn({ refKey: key }, "message ref changed while it was being edited");
      }
      break;
    }
  }
  return out;
}

/**
 * The approval has ended and this channel has (or had) a posting intent: make sure its update job
 * exists to resolve and edit it, and with `now`, runs at once if it is waiting for a young intent
 * (whose message was just found). Adding is idempotent (one job id per approval and channel); an
 * extra run finds closed entries and edits nothing.
 */
export async function wakeEditor(producer: JobProducer, approvalId: string, channel: string, now = true): Promise<void> {
  const job = await producer.queue("update", channel).getJob(jobIds.update(approvalId, channel));
  if (!job) return producer.updates(approvalId, [channel]);
  // It may have left the delayed set meanwhile: then it runs anyway.
  if (now && (await job.isDelayed())) await job.promote().catch(() => undefined);
}
