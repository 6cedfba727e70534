import { waitReady } from "../redis/connection.ts";
import { paramsHash } from "../approvals/canonical.ts";
import { newApprovalId } from "../approvals/id.ts";
import { CLOSE_REASONS, resolutionOf, type ApprovalRecord, type Requester, type Resolution } from "../approvals/record.ts";
import type { ApprovalService } from "../approvals/service.ts";
import type { DecisionWaiter } from "../approvals/waiter.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { RedisUnavailableError, TooManyPendingError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PolicyEngine } from "../policy/engine.ts";
import type { PolicyDecision } from "../policy/types.ts";
import { verifyResolution } from "../trust/decisions.ts";
import type { KeyLookup } from "../trust/signature.ts";
import { LeaseKeeper } from "./leases.ts";
import { RedisProgress } from "./progress.ts";

/** A tool call someone wants to make: from the plugin hook, `clawgate request` or the REST API. */
export interface AskCall {
  tool: string;
  params: unknown;
  agentId?: string | undefined;
  sessionKey?: string | undefined;
  requester?: Requester | undefined;
}

/** What an approval is signed over (computed by the asker, never read back from Redis). */
interface CallFacts {
  id: string;
  paramsHash: string;
  rule: string;
}

type Judged =
  | { decision: "allow"; policy: PolicyDecision }
  | { decision: "deny"; policy: PolicyDecision }
  | { decision: "ask"; policy: PolicyDecision; approval: ApprovalRecord }
  /** The signal fired while the approval was being created: it is cancelled (or tombstoned). */
  | { decision: "abandoned"; policy: PolicyDecision; id: string; cancelled: Promise<void> };

interface AskOptions {
  /** The asker will wait and keep the approval's lease: when it goes away, serve cancels the approval. */
  lease: boolean;
  /** Give up creating after this long (the gate's hook budget); never shorter than redis.commandTimeout. */
  maxMs?: number;
  /** Stop creating: the approval is cancelled, or tombstoned if its create has not landed yet. */
  signal?: AbortSignal | undefined;
  /** Try a retry grant (approvals.retryGrant) before asking anew: the gate's retried call. */
  grant?: boolean;
}

type Created =
  | { kind: "granted"; facts: CallFacts }
  | { kind: "pending"; approval: ApprovalRecord; facts: CallFacts }
  /** `cancelled` settles once Redis has the cancellation or tombstone (or the retries gave up). */
  | { kind: "abandoned"; id: string; cancelled: Promise<void> };

/** How an owner's wait ended. */
type AskEnd =
  /** Decided, expired or cancelled; `genuine` is false for an approval not signed for this very call. */
  | { kind: "final"; resolution: Resolution; genuine: boolean }
  /** The wait stopped before the deadline on purpose (`until`): the approval stays pending, without a lease. */
  | { kind: "pending" }
  /** The deadline passed or the asker stopped, and Redis could not be told: the sweeper closes it. */
  | { kind: "unclosed"; state: "expired" | "cancelled"; reason: string };

interface AskFlowOptions {
  config: ClawgateConfig;
  service: ApprovalService;
  /** Subscribed before the first ask, so serve's sweeper sees this process alive while it waits. Only askers that wait need one. */
  waiter?: DecisionWaiter | undefined;
  /** The public keys an approval must be signed by before it releases anything (src/trust). */
  keys: KeyLookup;
  log: Logger;
  /** Why an approval is cancelled when its asker stops: the gate's run was aborted, the CLI was interrupted. */
  reasons?: { aborted: string; abandoned: string };
}

/**
 * The one ask: policy → create (bounded in-flight) → lease → wait → expire/cancel/tombstone →
 * outcome. The plugin's gate, `clawgate request` and the REST API all ask through it; the gate
 * adds only its hook budget and `failOpen`. One script creates the record, its event and the
 * lease; the decision arrives on pub/sub and counts only when it is signed for this call.
 */
export class AskFlow {
  private readonly cfg: ClawgateConfig;
  private readonly service: ApprovalService;
  private readonly waiter: DecisionWaiter | undefined;
  private readonly keys: KeyLookup;
  private readonly log: Logger;
  private readonly reasons: { aborted: string; abandoned: string };
  /** Fails a create closed when Redis stops answering, not when our own burst queues up. */
  private readonly progress: RedisProgress;
  private readonly leases: LeaseKeeper;
  /** Forgeries already reported, so one tampered record is audited once, not per message. */
  private readonly reported = new Set<string>();
  /** Retry grants this process has used (a grant releases one call). */
  private readonly usedGrants = new Set<string>();
  private closed = false;

  constructor(o: AskFlowOptions) {
    this.cfg = o.config;
    this.service = o.service;
    this.waiter = o.waiter;
    this.keys = o.keys;
    this.log = o.log;
    this.reasons = o.reasons ?? { aborted: CLOSE_REASONS.aborted, abandoned: CLOSE_REASONS.abandoned };
    this.progress = new RedisProgress(o.config.redis.commandTimeout);
    this.leases = new LeaseKeeper(o.service.store, o.log);
  }

  /** Policy first; on ask, the approval is created (see `create`). A denial is recorded as `policy.denied`. */
  async request(engine: PolicyEngine, call: AskCall, opts: Omit<AskOptions, "grant">): Promise<Judged> {
    const policy = engine.judge({ toolName: call.tool, params: call.params, agentId: call.agentId }).details();
    if (policy.decision === "allow") return { decision: "allow", policy };
    if (policy.decision === "deny") {
      await this.denied(call, policy);
      return { decision: "deny", policy };
    }
    const created = await this.create(call, policy, opts);
    if (created.kind === "abandoned") return { decision: "abandoned", policy, id: created.id, cancelled: created.cancelled };
    // Only the gate asks for grants; a grant never reaches here.
    if (created.kind !== "pending") throw new Error("a retry grant was used outside the gate");
    return { decision: "ask", policy, approval: created.approval };
  }

  /** Records a policy denial for the audit trail. Never rejects. */
  denied(call: AskCall, policy: PolicyDecision): Promise<void> {
    return this.service.store
      .appendEvent("policy.denied", "", { tool: call.tool, agentId: call.agentId ?? "", reason: policy.reason, rule: policy.rule ?? policy.source })
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, "could not record a policy denial"));
  }

  /**
   * Creates the approval (or uses a retry grant), at most 128 creates talking to Redis at once.
   * The id is chosen first, so a create given up on (Redis silent, the signal fired) is
   * cancelled by id, or leaves a tombstone a late create cannot land on: nobody is ever asked
   * to approve a call that nothing waits for.
   */
  async create(call: AskCall, policy: PolicyDecision, opts: AskOptions): Promise<Created> {
    const cfg = this.cfg;
    const id = newApprovalId();
    const redis = this.service.store.redis;
    const unavailable = () => new RedisUnavailableError(`Redis did not answer within ${cfg.redis.commandTimeout} ms`);
    const work = this.progress.run(
      async () => {
        await waitReady(redis, cfg.redis.commandTimeout);
        return this.createNow(call, policy, id, opts).catch((err: unknown) => {
          if (err instanceof TooManyPendingError) this.progress.note();
          // ioredis's own per-command timer: the same verdict, said the same way.
          else if (err instanceof Error && err.message === "Command timed out") throw unavailable();
          throw err;
        });
      },
      // However healthy Redis is, an ask never waits to be created longer than its asker may wait.
      Math.max(cfg.redis.commandTimeout, Math.min(opts.maxMs ?? cfg.approvals.timeout, cfg.approvals.timeout)),
      unavailable,
    );
    let created: Created | null;
    try {
      created = await abortable(work, opts.signal);
    } catch (err) {
      void this.abandon(id);
      throw err;
    }
    if (created) return created;
    return { kind: "abandoned", id, cancelled: this.abandon(id) };
  }

  private async createNow(call: AskCall, policy: PolicyDecision, id: string, opts: AskOptions): Promise<Created> {
    const rule = policy.alwaysAllowRule ?? "";
    if (opts.grant && this.cfg.approvals.retryGrant > 0) {
      const granted = await this.grantFor(call, rule);
      if (granted) return { kind: "granted", facts: granted };
    }
    const approval = await this.service.store.create(
      {
        tool: call.tool,
        params: call.params,
        agentId: call.agentId,
        sessionKey: call.sessionKey,
        requester: call.requester,
        risk: policy.risk,
        rule: policy.rule,
        policyReason: policy.reason,
        alwaysAllowRule: policy.alwaysAllowRule,
        timeoutMs: this.cfg.approvals.timeout,
      },
      { id, lease: opts.lease, ...(opts.lease && this.waiter ? { waiter: this.waiter.id } : {}) },
    );
    return { kind: "pending", approval, facts: { id: approval.id, paramsHash: approval.paramsHash, rule } };
  }

  /** A fresh, genuine approval of this very call whose waiter had already gone (approvals.retryGrant). */
  private async grantFor(call: AskCall, rule: string): Promise<CallFacts | null> {
    const store = this.service.store;
    const sessionKey = call.sessionKey ?? "";
    const granted = await store.consumeGrant(sessionKey, call.tool, call.params);
    this.progress.note();
    if (!granted) return null;
    // The grant key only names an approval: that approval must be signed for exactly this call.
    const facts = { id: granted, paramsHash: paramsHash(call.params), rule };
    const record = await store.get(granted);
    const r = record && record.sessionKey === sessionKey && record.tool === call.tool ? resolutionOf(record) : null;
    // A grant is one retry, soon after the (signed) decision: an old approval of the same call
    // put back under a grant key is a replay, and one grant releases this process one call.
    const fresh = r !== null && Date.now() - r.decidedAt <= this.cfg.approvals.retryGrant && !this.usedGrants.has(granted);
    if (!fresh || r.state !== "approved" || !this.honoured(r, facts)) return null;
    this.usedGrants.add(granted);
    if (this.usedGrants.size > 10_000) this.usedGrants.clear();
    return facts;
  }

  /**
   * The asker waits for its approval until `until` (at most the deadline), keeping the lease.
   * Reaching the deadline expires the approval and the signal cancels it; stopping at an
   * earlier `until` leaves it pending without a lease, for a later retry grant.
   */
  async wait(approval: Pick<ApprovalRecord, "id" | "deadline">, facts: CallFacts, until: number, signal?: AbortSignal): Promise<AskEnd> {
    const id = approval.id;
    this.leases.hold(id);
    let result;
    try {
      // Only an approval signed for this very call ends the wait; a forged one is reported and ignored.
      result = await this.waiting().wait(id, Math.min(until, approval.deadline), { signal, accept: (r) => this.honoured(r, facts) });
    } finally {
      this.leases.release(id);
    }
    if (result.kind === "decided") return { kind: "final", resolution: result.resolution, genuine: true };
    if (result.kind === "timeout" && until < approval.deadline) {
      // Stopped waiting on purpose: nobody waits now, so the sweeper must not cancel it for a lapsed lease.
      this.service.store.dropLease(id).catch(() => undefined);
      return { kind: "pending" };
    }
    const state = result.kind === "timeout" ? "expired" : "cancelled";
    const reason = result.kind === "timeout" ? CLOSE_REASONS.deadline : this.reasons.aborted;
    const closed = await this.service.close(id, state, "clawgate", reason).catch((err: unknown) => {
      this.log.error({ approvalId: id, err: (err as Error).message }, `could not mark approval ${state}`);
      return null;
    });
    if (!closed) return { kind: "unclosed", state, reason };
    // A decision that landed first is returned by the close; it counts only if genuine.
    return { kind: "final", resolution: closed, genuine: closed.state !== "approved" || this.honoured(closed, facts) };
  }

  /** Watches an approval someone else asked for (a long-poll): nothing changes when it stops. */
  async watch(approval: Pick<ApprovalRecord, "id" | "deadline" | "paramsHash" | "alwaysAllowRule">, until: number, signal?: AbortSignal): Promise<void> {
    const facts = { id: approval.id, paramsHash: approval.paramsHash, rule: approval.alwaysAllowRule };
    // A forged approval does not end the wait (it is shown as denied by `view`).
    await this.waiting().wait(approval.id, Math.min(until, approval.deadline), { ...(signal ? { signal } : {}), accept: (r) => verifyResolution(this.keys, r, facts).ok });
  }

  private waiting(): DecisionWaiter {
    if (!this.waiter) throw new Error("this ask flow was built without a waiter; it cannot wait");
    return this.waiter;
  }

  /**
   * `record` as a caller may act on it: an approval that is not validly signed for this
   * approval's params and rule is shown as denied with the reason, never as approved.
   */
  view(record: ApprovalRecord): ApprovalRecord {
    const r = resolutionOf(record);
    if (!r) return record;
    const v = verifyResolution(this.keys, r, { id: record.id, paramsHash: record.paramsHash, rule: record.alwaysAllowRule });
    if (v.ok) return record;
    return { ...record, state: "denied", decision: "deny", decidedBy: "clawgate", decidedVia: "clawgate", decisionReason: `an approval without a valid signature was ignored (${v.why}); nothing may run` };
  }

  /**
   * Whether `r` may release the call: closing states always; an approval only if it is signed
   * over this call's id, params hash and rule by a trusted key. A forgery is logged, audited
   * (serve counts it in /metrics) and ignored.
   */
  honoured(r: Resolution, facts: CallFacts): boolean {
    const v = verifyResolution(this.keys, r, facts);
    if (v.ok) return true;
    const key = `${facts.id}|${r.sig ?? ""}|${r.decidedBy}`;
    if (!this.reported.has(key)) {
      if (this.reported.size > 10_000) this.reported.clear();
      this.reported.add(key);
      this.log.error({ approvalId: facts.id, decidedBy: r.decidedBy, decidedVia: r.decidedVia, why: v.why }, "ignored an approval that is not validly signed (forged in Redis?)");
      this.service.store
        // The rule this asker offered: serve removes a saved allow-always rule that differs from it.
        .appendEvent("approval.forged", facts.id, { actor: r.decidedBy, via: r.decidedVia, reason: v.why, decision: r.decision, rule: facts.rule })
        .catch((err: unknown) => this.log.error({ err: (err as Error).message }, "could not record a forged approval"));
    }
    return false;
  }

  /** The approved call ran: its retry grant (made for when nobody was waiting) is used up. */
  async spendGrant(call: AskCall): Promise<void> {
    if (this.cfg.approvals.retryGrant > 0) await this.service.store.consumeGrant(call.sessionKey ?? "", call.tool, call.params).catch(() => undefined);
  }

  /**
   * Cancels `id` with a tombstone, so a create still in flight cannot land later. Retried a few
   * times in the background; if Redis stays away, the lease lapses and serve cancels it.
   */
  abandon(id: string): Promise<void> {
    return new Promise<void>((done) => {
      const attempt = (n: number): void => {
        this.service.close(id, "cancelled", "clawgate", this.reasons.abandoned, { tombstone: true }).then(
          () => done(),
          (err: unknown) => {
            if (n < 5 && !this.closed) setTimeout(() => attempt(n + 1), 500 * (n + 1)).unref();
            else {
              this.log.warn({ approvalId: id, err: (err as Error).message }, "could not cancel an abandoned ask; its lease lapses and serve cancels it");
              done();
            }
          },
        );
      };
      attempt(0);
    });
  }

  close(): void {
    this.closed = true;
    this.leases.stop();
  }
}

/** `work`, or null as soon as `signal` fires (work keeps running; its result is dropped). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T | null> {
  if (!signal) return work;
  if (signal.aborted) return Promise.resolve(null);
  return new Promise<T | null>((resolve, reject) => {
    const stop = () => resolve(null);
    signal.addEventListener("abort", stop, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", stop);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", stop);
        reject(err);
      },
    );
  });
}
