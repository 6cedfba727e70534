import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { ApprovalNotFoundError, BadRequestError } from "../errors.ts";
import { ScriptCode, scriptError } from "../lua/codes.ts";
import type { Risk } from "../policy/types.ts";
import { canonicalJson, paramsHash } from "./canonical.ts";
import type { EventType, Recipient } from "./events.ts";
import { parseFacts, type ApprovalFacts } from "./facts.ts";
import { APPROVAL_ID, newApprovalId } from "./id.ts";
import { keys, type Keys } from "./keys.ts";
import {
  chunk,
  CHUNKED_FIELDS,
  encodeRisk,
  recordFromHash,
  type ApprovalRecord,
  type ApprovalState,
  type DecisionKind,
  type FinalState,
  type Requester,
  type Resolution,
} from "./record.ts";
import { redact, redactString } from "../redact/redact.ts";
import { scripts } from "./scripts.ts";

export interface NewApproval {
  tool: string;
  params: unknown;
  agentId?: string | undefined;
  sessionKey?: string | undefined;
  requester?: Requester | undefined;
  risk: Risk;
  rule: string | null;
  policyReason: string;
  alwaysAllowRule: string | null;
  timeoutMs: number;
}

export interface CreateOptions {
  /** Chosen by the caller so an abandoned create can be cancelled by id (see cancelAbandoned). */
  id?: string;
  /** A waiter holds a lease: if it stops renewing (the gateway died), the approval is cancelled. */
  lease?: boolean;
  /** The waiting process's waiter id (DecisionWaiter.id): how the sweeper asks whether it still lives. */
  waiter?: string;
  now?: number;
}

export interface Decide {
  state: FinalState;
  decision: DecisionKind | "";
  by: string;
  via: string;
  reason?: string | undefined;
  /** due: expire only once the deadline passed; lease: cancel only once the lease lapsed. */
  guard?: "due" | "lease";
  /** Leave a cancelled tombstone when the approval does not exist (yet). */
  tombstone?: boolean;
  /** The approving decision's signature (src/trust); closing transitions carry none. */
  sig?: string;
}

/**
 * resolveApproval's answer: Done (resolved now), NotPending (already final) and Expired (the
 * deadline had passed, so it is expired instead) carry the final resolution.
 */
export type ResolveOutcome =
  | { code: ScriptCode.Done | ScriptCode.NotPending | ScriptCode.Expired; resolution: Resolution }
  | { code: ScriptCode.NotFound | ScriptCode.NotDue | ScriptCode.AlwaysRefused };

export interface StoreOptions {
  prefix: string;
  keepForMs: number;
  retryGrantMs: number;
  maxParamsBytes: number;
  /** Approximate length the event stream is trimmed to. */
  eventsMaxLen?: number;
  /** How long a waiter's lease lasts without renewal. */
  leaseMs?: number;
  /** Pending approvals one session / one agent may hold (0 = unlimited). */
  maxPendingPerSession?: number;
  maxPendingPerAgent?: number;
}

const MAX_REASON = 2_000;
const DEFAULT_EVENTS_MAXLEN = 100_000;
const DEFAULT_LEASE_MS = 6_000;

/** Approval records in Redis. Every state change is one Lua script (see ./lua) that also appends its event. */
export class ApprovalStore {
  readonly k: Keys;
  readonly leaseMs: number;
  private readonly maxLen: number;
  constructor(
    readonly redis: Redis,
    private readonly opts: StoreOptions,
  ) {
    this.k = keys(opts.prefix);
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.maxLen = opts.eventsMaxLen ?? DEFAULT_EVENTS_MAXLEN;
  }

  /** Builds the record (redacted) without writing it. */
  build(input: NewApproval, id: string, now: number): ApprovalRecord {
    const hash = paramsHash(input.params);
    const sessionKey = input.sessionKey ?? "";
    let params = canonicalJson(redact(input.params));
    if (params.length > this.opts.maxParamsBytes) {
      params = JSON.stringify({ truncated: true, bytes: params.length, head: params.slice(0, this.opts.maxParamsBytes) });
    }
    return {
      id,
      tool: input.tool,
      params,
      paramsHash: hash,
      agentId: input.agentId ?? "",
      sessionKey,
      requester: input.requester ?? {},
      risk: input.risk,
      rule: redactString(input.rule ?? ""),
      policyReason: redactString(input.policyReason),
      alwaysAllowRule: input.alwaysAllowRule ?? "",
      createdAt: now,
      deadline: now + input.timeoutMs,
      state: "pending",
      decision: "",
      decidedBy: "",
      decidedVia: "",
      decisionReason: "",
      decidedAt: null,
      grantKey: "",
      outcome: "",
      tier: 0,
      sig: "",
    };
  }

  async create(input: NewApproval, o: CreateOptions = {}): Promise<ApprovalRecord> {
    const now = o.now ?? Date.now();
    const id = o.id ?? newApprovalId();
    const record = this.build(input, id, now);
    const fields: Array<string | number> = [];
    for (const [key, value] of Object.entries(record)) {
      // grantKey is derived (session, tool, hash) and tier starts at 0: neither is stored.
      if (key === "state" || key === "grantKey" || key === "tier" || value === null || value === "") continue;
      if (key === "requester" && Object.keys(value as object).length === 0) continue;
      const text = key === "risk" ? encodeRisk(value as Risk) : typeof value === "object" ? JSON.stringify(value) : value;
      if (typeof text === "string" && CHUNKED_FIELDS.has(key)) chunk(text).forEach((piece, i) => fields.push(i === 0 ? key : `${key}~${i}`, piece));
      else fields.push(key, text);
    }
    if (o.lease && o.waiter) fields.push("waiter", o.waiter);
    const data = JSON.stringify({ tool: record.tool, agentId: record.agentId, sessionKey: record.sessionKey, rule: record.rule, risk: record.risk.score, reason: record.policyReason });
    const sessionField = record.sessionKey ? `s:${record.sessionKey}` : "";
    const agentField = record.agentId ? `a:${record.agentId}` : "";
    const res = (await scripts(this.redis).createApproval.run(
      [this.k.approval(id), this.k.pending, this.k.index, this.k.events, this.k.leases, this.k.pendingCounts],
      [
        id,
        record.deadline,
        now,
        o.lease ? now + this.leaseMs : 0,
        this.maxLen,
        sessionField,
        this.opts.maxPendingPerSession ?? 0,
        agentField,
        this.opts.maxPendingPerAgent ?? 0,
        data,
        ...fields,
      ],
    )) as [number, number];
    const code = Number(res[0]);
    // A 60-bit id colliding is not worth a retry loop, but it must never overwrite; a tombstone
    // (Exists) means the ask was abandoned before this create landed.
    if (code !== ScriptCode.Done) {
      const who = code === ScriptCode.SessionCapReached ? record.sessionKey : record.agentId;
      throw scriptError(code, { id, who, count: Number(res[1]) });
    }
    record.grantKey = this.k.grant(record.sessionKey, record.tool, record.paramsHash);
    return record;
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    if (!APPROVAL_ID.test(id)) return null;
    const r = recordFromHash(await this.redis.hgetall(this.k.approval(id)));
    if (r) r.grantKey = this.k.grant(r.sessionKey, r.tool, r.paramsHash);
    return r;
  }

  async require(id: string): Promise<ApprovalRecord> {
    const r = await this.get(id);
    if (!r) throw new ApprovalNotFoundError(id);
    return r;
  }

  /**
   * The newest `limit` approvals in `state`, newest first. Pending ones come from the pending
   * index (O(limit)); other states scan the creation index newest-first in pages.
   */
  async list(opts: { state?: ApprovalState | "all"; limit?: number } = {}): Promise<ApprovalRecord[]> {
    const limit = opts.limit ?? 100;
    const state = opts.state ?? "pending";
    const out: ApprovalRecord[] = [];
    if (state === "pending") {
      const ids = await this.redis.zrange(this.k.pending, "0", String(limit - 1), "REV");
      for (const r of await this.fetch(ids)) if (r && r.state === "pending") out.push(r);
      return out;
    }
    const page = Math.max(limit * 2, 100);
    for (let start = 0; out.length < limit; start += page) {
      const ids = await this.redis.zrange(this.k.index, String(start), String(start + page - 1), "REV");
      if (ids.length === 0) break;
      const rows = await this.fetch(ids);
      const gone: string[] = [];
      rows.forEach((r, i) => {
        if (!r) gone.push(ids[i] as string);
        else if (state === "all" || r.state === state) out.push(r);
      });
      // Records expire (approvals.keepFor); drop their index entries lazily.
      if (gone.length) await this.redis.zrem(this.k.index, ...gone);
      if (ids.length < page) break;
      if (gone.length) start -= gone.length;
    }
    return out.slice(0, limit);
  }

  /**
   * Drops the creation-index entries of the oldest `window` records that have expired, so the
   * index shrinks as records expire instead of only when someone lists (serve's sweeper calls
   * it every second). Records expire roughly in creation order (decided within their timeout,
   * then kept for keepFor), so the oldest entries are the ones to look at. Returns how many
   * were dropped.
   */
  async forgetExpired(window = 16): Promise<number> {
    const ids = await this.redis.zrange(this.k.index, "0", String(window - 1));
    if (ids.length === 0) return 0;
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.exists(this.k.approval(id));
    const exists = (await pipe.exec()) ?? [];
    const gone = ids.filter((_, i) => Number(exists[i]?.[1]) === 0);
    if (gone.length) await this.redis.zrem(this.k.index, ...gone);
    return gone.length;
  }

  private async fetch(ids: string[]): Promise<Array<ApprovalRecord | null>> {
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.k.approval(id));
    const rows = (await pipe.exec()) ?? [];
    return rows.map(([err, h]) => (err ? null : recordFromHash(h as Record<string, string>)));
  }

  /** Ids of pending approvals whose deadline has passed (for the sweeper). */
  async overdue(now = Date.now(), limit = 500): Promise<string[]> {
    return this.redis.zrangebyscore(this.k.pending, 0, now, "LIMIT", 0, limit);
  }

  /** Ids of approvals whose waiter stopped renewing its lease (for the sweeper). */
  async lapsedLeases(now = Date.now(), limit = 500): Promise<string[]> {
    return this.redis.zrangebyscore(this.k.leases, 0, now, "LIMIT", 0, limit);
  }

  /** Extend the leases of approvals this process still waits on. */
  async renewLeases(ids: readonly string[], now = Date.now()): Promise<void> {
    if (ids.length === 0) return;
    const score = String(now + this.leaseMs);
    await this.redis.zadd(this.k.leases, "XX", ...ids.flatMap((id) => [score, id]));
  }

  /**
   * Whether some connection still listens for this approval's decision (its waiter subscribes
   * while it waits). A waiter that is merely paused (GC, SIGSTOP, a VM or laptop asleep) keeps
   * its socket, so Redis still counts it; one that died has had its socket closed by the kernel.
   */
  async waiterListening(id: string): Promise<boolean> {
    const waiter = await this.redis.hget(this.k.approval(id), "waiter");
    // Records of the previous format: their waiter subscribed to the approval's own channel.
    const channel = waiter ? this.k.waiterChannel(waiter) : this.k.decisionChannel(id);
    const reply = (await this.redis.pubsub("NUMSUB", channel)) as unknown[];
    return Number(reply[1] ?? 0) > 0;
  }

  /** Nobody waits any more, on purpose (e.g. the hook budget ended before the deadline). */
  async dropLease(id: string): Promise<void> {
    await this.redis.zrem(this.k.leases, id);
  }

  async resolve(id: string, d: Decide, now = Date.now()): Promise<ResolveOutcome> {
    // The time is chosen here and passed in, so the signature made over it matches what is stored.
    if (!APPROVAL_ID.test(id)) return { code: ScriptCode.NotFound };
    const reason = redactString((d.reason ?? "").slice(0, MAX_REASON));
    if (d.state === "denied" && d.decision !== "deny") throw new BadRequestError("a denial must carry the deny decision");
    const grantKey = d.state === "approved" && this.opts.retryGrantMs > 0 ? await this.grantKeyOf(id) : this.k.grant("", "", id);
    const res = (await scripts(this.redis).resolveApproval.run(
      [this.k.approval(id), this.k.pending, grantKey, this.k.refs(id), this.k.events, this.k.leases, this.k.pendingCounts, this.k.notified(id)],
      [
        d.state,
        d.decision,
        d.by,
        d.via,
        reason,
        now,
        this.k.decisionChannel(id),
        d.state === "approved" ? this.opts.retryGrantMs : 0,
        d.guard ?? "",
        d.state === "approved" ? (d.sig ?? "") : "",
        this.opts.keepForMs,
        this.maxLen,
        d.tombstone ? "1" : "0",
        id,
        this.k.decisions,
      ],
    )) as Array<string | number>;
    const code = Number(res[0]);
    if (code === ScriptCode.NotFound || code === ScriptCode.NotDue || code === ScriptCode.AlwaysRefused) return { code };
    if (code !== ScriptCode.Done && code !== ScriptCode.NotPending && code !== ScriptCode.Expired) throw scriptError(code, { id });
    const resolution: Resolution = {
      id,
      state: String(res[1]) as FinalState,
      decision: String(res[2]) as DecisionKind | "",
      decidedBy: String(res[3] ?? ""),
      decidedVia: String(res[4] ?? ""),
      reason: String(res[5] ?? ""),
      decidedAt: Number(res[6] ?? 0),
      ...(res[7] ? { sig: String(res[7]) } : {}),
    };
    return { code, resolution };
  }

  private async grantKeyOf(id: string): Promise<string> {
    const [session, tool, hash] = await this.redis.hmget(this.k.approval(id), "sessionKey", "tool", "paramsHash");
    return hash ? this.k.grant(session ?? "", tool ?? "", hash) : this.k.grant("", "", id);
  }

  /** Escalation tier `tier` fired: record who it reached and append the event. */
  async escalate(id: string, tier: number, recipients: Recipient[], identities: string[], now = Date.now()): Promise<"escalated" | "not_found" | "final" | "already"> {
    const code = Number(
      await scripts(this.redis).escalateApproval.run([this.k.approval(id), this.k.notified(id), this.k.events], [id, tier, now, this.maxLen, JSON.stringify({ tier, recipients }), ...identities]),
    );
    if (code === ScriptCode.Done) return "escalated";
    if (code === ScriptCode.NotFound) return "not_found";
    if (code === ScriptCode.NotPending) return "final";
    if (code === ScriptCode.TierFired) return "already";
    throw scriptError(code, { id });
  }

  /** Identities the first tier reached directly (later tiers add theirs in escalateApproval). */
  async addNotified(id: string, identities: readonly string[]): Promise<void> {
    if (identities.length === 0) return;
    const ttl = await this.redis.pttl(this.k.approval(id));
    const tx = this.redis.multi().sadd(this.k.notified(id), ...identities);
    if (ttl > 0) tx.pexpire(this.k.notified(id), ttl);
    await tx.exec();
  }

  /**
   * Fixes the approval's facts (route approvers, chain, tier-0 recipients, requester person)
   * unless they are fixed already, and returns the ones that stand: the first writer wins, so
   * a redelivered event or a second replica never changes them.
   */
  async fixFacts(id: string, facts: ApprovalFacts): Promise<ApprovalFacts> {
    const json = JSON.stringify(facts);
    const digest = createHash("sha256").update(json).digest("hex").slice(0, 16);
    const [ttl, deadline] = await Promise.all([this.redis.pttl(this.k.approval(id)), this.redis.hget(this.k.approval(id), "deadline")]);
    // The body outlives every record pointing at it: its TTL once final, else until the deadline plus keepFor.
    const keep = ttl > 0 ? ttl : Math.max(1_000, Number(deadline ?? 0) - Date.now()) + this.opts.keepForMs;
    const [code, fixed] = (await scripts(this.redis).fixFacts.run([this.k.approval(id), this.k.facts(digest)], [digest, json, String(Math.ceil(keep))])) as [number, string];
    if (code !== ScriptCode.Exists) return facts;
    return parseFacts(await this.redis.get(this.k.facts(fixed))) ?? facts;
  }

  /** The facts fixed when the approval was created, or null before serve has seen it. */
  async facts(id: string): Promise<ApprovalFacts | null> {
    if (!APPROVAL_ID.test(id)) return null;
    const digest = await this.redis.hget(this.k.approval(id), "facts");
    return digest ? parseFacts(await this.redis.get(this.k.facts(digest))) : null;
  }

  /** Identities an escalation tier notified for this approval. */
  async notified(id: string): Promise<string[]> {
    return this.redis.smembers(this.k.notified(id));
  }

  /** A fact that changes no approval state (a refusal, a policy denial…), for serve to audit. */
  async appendEvent(type: EventType, id: string, data: Record<string, unknown>, now = Date.now()): Promise<void> {
    // Events feed the audit log and metrics: nothing in them may carry a secret (error texts do).
    await this.redis.xadd(this.k.events, "MAXLEN", "~", this.maxLen, "*", "type", type, "id", id, "at", String(now), "data", JSON.stringify(redact(data)));
  }

  /** Several such facts in one round trip, each with its own time, in order. */
  async appendEvents(events: ReadonlyArray<{ type: EventType; id: string; data: Record<string, unknown>; at: number }>): Promise<void> {
    if (events.length === 0) return;
    const p = this.redis.pipeline();
    for (const e of events) p.xadd(this.k.events, "MAXLEN", "~", this.maxLen, "*", "type", e.type, "id", e.id, "at", String(e.at), "data", JSON.stringify(redact(e.data)));
    const results = (await p.exec()) ?? [];
    const failed = results.find(([err]) => err !== null);
    if (failed) throw failed[0] as Error;
  }

  /** The retry grant for an identical call, used at most once. */
  async consumeGrant(sessionKey: string, tool: string, params: unknown): Promise<string | null> {
    return this.redis.getdel(this.k.grant(sessionKey, tool, paramsHash(params)));
  }

  /** Raw ref entries (JSON text, see queue/refEntry.ts) by ref key; channels validate their own with zod. */
  async refs(id: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.k.refs(id));
  }

  /** One raw ref entry, or null. */
  async ref(id: string, refKey: string): Promise<string | null> {
    return this.redis.hget(this.k.refs(id), refKey);
  }

  /** Sets ref entry `refKey` to `entry`, as stored (encodeRefEntry in queue/refEntry.ts). */
  async setRef(id: string, refKey: string, entry: string): Promise<void> {
    const key = this.k.refs(id);
    await this.redis.multi().hset(key, refKey, entry).pexpire(key, this.opts.keepForMs).exec();
  }

  /**
   * Sets ref entry `refKey` to `next` only if it still reads `expected` (exact JSON text; null =
   * absent). False when another attempt changed it first.
   */
  async swapRef(id: string, refKey: string, expected: string | null, next: string): Promise<boolean> {
    const code = Number(await scripts(this.redis).swapRef.run([this.k.refs(id)], [refKey, expected ?? "", next, this.opts.keepForMs]));
    if (code === ScriptCode.Done || code === ScriptCode.Conflict) return code === ScriptCode.Done;
    throw scriptError(code, { id });
  }

  /**
   * swapRef, only while the approval is pending: "set" when written, "changed" when another
   * attempt moved the entry first, "final" when the approval has ended (or is gone).
   */
  async swapPendingRef(id: string, refKey: string, expected: string | null, next: string): Promise<"set" | "changed" | "final"> {
    const code = Number(await scripts(this.redis).setPendingRef.run([this.k.approval(id), this.k.refs(id)], [refKey, expected ?? "", next, this.opts.keepForMs]));
    if (code === ScriptCode.Done) return "set";
    if (code === ScriptCode.Conflict) return "changed";
    if (code === ScriptCode.NotPending) return "final";
    throw scriptError(code, { id });
  }

  /** Redis's clock in ms: posting intents are timed by it, so replicas' clocks need not agree. */
  async now(): Promise<number> {
    const [s, us] = await this.redis.time();
    return Number(s) * 1_000 + Math.floor(Number(us) / 1_000);
  }

  async setOutcome(id: string, outcome: string): Promise<void> {
    // Only annotate records that still exist; HSET on a missing key would resurrect a stub.
    if (await this.redis.exists(this.k.approval(id))) await this.redis.hset(this.k.approval(id), "outcome", redactString(outcome.slice(0, MAX_REASON)));
  }
}
