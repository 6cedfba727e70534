import type { Redis } from "ioredis";
import { createRedis, waitReady } from "../../queue/connection.ts";
import { paramsHash } from "../approvals/canonical.ts";
import { newApprovalId } from "../approvals/id.ts";
import { redactText } from "../redact/redact.ts";
import { CLOSE_REASONS, resolutionOf, type Resolution } from "../approvals/record.ts";
import { RuntimeRulesCache, type RulesMemory } from "../approvals/runtime-rules-cache.ts";
import { RuntimeRulesStore } from "../approvals/runtime-rules.ts";
import { DecisionWaiter } from "../approvals/waiter.ts";
import { configSourceOf } from "../config/load.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { verifyResolution } from "../trust/decisions.ts";
import { gateTrust, type Trust } from "../trust/process.ts";
import { isRedisConnectionError, RedisUnavailableError, TooManyPendingError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { PolicyEngine, warmShellParser } from "../policy/engine.ts";
import type { JudgedCall } from "../policy/engine.ts";
import { selfProtectionContext } from "../config/self-protection.ts";
import type { PolicyDecision } from "../policy/types.ts";
import { openBackend, type Backend } from "../backend/wiring.ts";
import { blockReasons } from "./messages.ts";
import { RedisProgress } from "./progress.ts";
import { withTimeout } from "./timeout.ts";
import type { AfterToolCallEvent, BeforeToolCallEvent, BeforeToolCallResult, HookContext } from "./types.ts";

/** Stop waiting this long before OpenClaw's hook budget ends, so our block reason is the one the agent sees. */
const BUDGET_MARGIN_MS = 1_000;
/** How often the lease timer looks at the clock: a tick this late or later means the process was paused. */
const LEASE_TICK_MS = 500;
const PAUSE_NOTICE_MS = 1_000;

interface GateBackend extends Backend {
  sub: Redis;
  waiter: DecisionWaiter;
  rules: RuntimeRulesCache;
}

/** The facts of one waiting call that an approval must be signed over (computed here, never read from Redis). */
interface CallFacts {
  id: string;
  paramsHash: string;
  rule: string;
}

/**
 * The in-process gate behind the plugin's before_tool_call. Allow and deny are decided from
 * memory (config + runtime rules cached from Redis), so they never wait on the network; only
 * an ask touches Redis: one script creates the approval with its event and a lease, then the
 * hook waits for the decision on pub/sub. Notifying people is `clawgate serve`'s job, so the
 * gateway needs no channel secrets.
 */
export class Gate {
  private engine: PolicyEngine;
  private backend: GateBackend | null = null;
  private readonly approvedCalls = new Map<string, string>();
  /** Approvals this process is waiting on: their leases are renewed while the wait lasts. */
  private readonly waiting = new Set<string>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Fails an ask closed when Redis stops answering, not when our own burst queues up. */
  private readonly progress: RedisProgress;
  /** The public keys whose signatures release a call, and this gateway's own chat key. */
  private readonly trust: Trust;
  /** The first load of the runtime rules (calls wait for it, then block if it failed). */
  private rulesStarting: Promise<void> | null = null;
  /** Forgeries already reported, so one tampered record is audited once, not per message. */
  private readonly reported = new Set<string>();
  /** Retry grants this process has used (a grant releases one call). */
  private readonly usedGrants = new Set<string>();

  /**
   * @param hookBudgetMs the before_tool_call budget OpenClaw actually grants (an operator may
   * cap it below the approval deadline). The wait ends before it, leaving the approval pending,
   * so a later approval can still let the retried call through (approvals.retryGrant).
   */
  constructor(
    readonly config: ClawgateConfig,
    private readonly log: Logger,
    private readonly hookBudgetMs = Number.POSITIVE_INFINITY,
    /** From resolveRedisAddress (the plugin passes it); config.redis.url when constructed directly. */
    private readonly redisUrl = config.redis.url,
    opts: { trust?: Trust; rulesMemory?: RulesMemory } = {},
  ) {
    this.engine = new PolicyEngine(config.policy, undefined, { protect: selfProtectionContext(config) });
    this.progress = new RedisProgress(config.redis.commandTimeout);
    this.trust = opts.trust ?? gateTrust(config, { configSource: configSourceOf(config) ?? null });
    this.rulesMemory = opts.rulesMemory;
  }

  private readonly rulesMemory: RulesMemory | undefined;

  /** Connects to Redis and loads runtime rules. Never throws: until they load, every call is blocked with the reason. */
  async start(): Promise<void> {
    // Load the shell parser now, not inside the first hook call (~250 ms).
    warmShellParser();
    this.connect();
    await this.rulesLoaded();
    if (!this.backend?.rules.ready) this.log.warn({ reason: this.backend?.rules.notReadyReason }, "runtime rules not loaded yet; every call is blocked until they load");
  }

  /** Waits (bounded) for the first load of the runtime rules. */
  private async rulesLoaded(): Promise<void> {
    const b = this.connect();
    if (b.rules.ready || !this.rulesStarting) return;
    await withTimeout(this.rulesStarting, this.config.redis.commandTimeout, () => new Error("timed out loading runtime rules")).catch(() => undefined);
  }

  evaluate(event: BeforeToolCallEvent, ctx: HookContext): PolicyDecision {
    return this.judge(event, ctx).details();
  }

  private judge(event: BeforeToolCallEvent, ctx: HookContext): JudgedCall {
    return this.engine.judge({ toolName: event.toolName, params: event.params, agentId: ctx.agentId, derivedPaths: event.derivedPaths });
  }

  async beforeToolCall(event: BeforeToolCallEvent, ctx: HookContext): Promise<BeforeToolCallResult> {
    const rules = this.connect().rules;
    if (!rules.ready) {
      await this.rulesLoaded();
      // A runtime deny that could not be loaded must not silently vanish: block until it can be.
      // failOpen covers Redis being unreachable, never rules that failed verification.
      if (!rules.ready && !(this.config.approvals.failOpen && !rules.refusedForgery)) {
        const b = this.connect();
        const why = b.redis.status === "ready" ? rules.notReadyReason : `Redis did not answer within ${this.config.redis.commandTimeout} ms (connection ${b.redis.status})`;
        return { block: true, blockReason: blockReasons.rulesNotLoaded(why) };
      }
    }
    const judged = this.judge(event, ctx);
    // An allowed call needs nothing more: its reason, risk and parts are never worked out.
    if (judged.decision === "allow") return undefined;
    const decision = judged.details();
    if (decision.decision === "deny") {
      this.log.info({ tool: event.toolName, rule: decision.rule, agentId: ctx.agentId }, "tool call denied by policy");
      this.backend?.store
        .appendEvent("policy.denied", "", { tool: event.toolName, agentId: ctx.agentId ?? "", reason: decision.reason, rule: decision.rule ?? decision.source })
        .catch((err: unknown) => this.log.error({ err: (err as Error).message }, "could not record a policy denial"));
      return { block: true, blockReason: blockReasons.denied(decision) };
    }
    return this.ask(event, ctx, decision);
  }

  private async ask(event: BeforeToolCallEvent, ctx: HookContext, decision: PolicyDecision): Promise<BeforeToolCallResult> {
    const started = Date.now();
    const b = this.connect();
    const cfg = this.config;
    // Chosen here, so an ask abandoned mid-create can be cancelled by id (no half-made asks).
    const id = newApprovalId();
    let created: { id: string; deadline: number; paramsHash: string };
    try {
      created = await this.progress.run(
        async () => {
          await waitReady(b.redis, cfg.redis.commandTimeout);
          return this.createAsk(b, event, ctx, decision, id).catch((err: unknown) => {
            if (err instanceof TooManyPendingError) this.progress.note();
            // ioredis's own per-command timer: the same verdict, said the same way.
            else if (err instanceof Error && err.message === "Command timed out") throw new RedisUnavailableError(`Redis did not answer within ${cfg.redis.commandTimeout} ms`);
            throw err;
          });
        },
        // However healthy Redis is, an ask never waits to be created longer than the hook may wait.
        Math.max(cfg.redis.commandTimeout, Math.min(this.hookBudgetMs - BUDGET_MARGIN_MS, cfg.approvals.timeout)),
        () => new RedisUnavailableError(`Redis did not answer within ${cfg.redis.commandTimeout} ms`),
      );
    } catch (err) {
      this.abandon(b, id);
      if (err instanceof TooManyPendingError) {
        this.log.warn({ tool: event.toolName, err: err.message }, "ask refused: too many pending approvals");
        return { block: true, blockReason: `clawgate: ${err.message}` };
      }
      return this.unavailable(err, event);
    }
    if (created.deadline === 0) {
      this.log.info({ approvalId: created.id, tool: event.toolName }, "retry grant used: approved after the earlier wait ended");
      return undefined;
    }
    this.log.info({ approvalId: created.id, tool: event.toolName, rule: decision.rule }, "approval requested");
    const budgetEnd = started + this.hookBudgetMs - BUDGET_MARGIN_MS;
    const waitUntil = Math.min(created.deadline, budgetEnd);
    const call: CallFacts = { id: created.id, paramsHash: created.paramsHash, rule: decision.alwaysAllowRule ?? "" };
    this.waiting.add(created.id);
    this.ensureLeaseTimer();
    let result;
    try {
      // Only an approval signed for this very call ends the wait; a forged one is reported and ignored.
      result = await b.waiter.wait(created.id, waitUntil, { signal: ctx.abortSignal, accept: (r) => this.honoured(r, call) });
    } finally {
      this.waiting.delete(created.id);
    }
    let resolution: Resolution | null = result.kind === "decided" ? result.resolution : null;
    if (result.kind === "timeout" && waitUntil < created.deadline) {
      // OpenClaw would end the hook before the approval's deadline: stop waiting on purpose,
      // keep the approval open (no lease: nobody waits, the sweeper must not cancel it).
      b.store.dropLease(created.id).catch(() => undefined);
      return { block: true, blockReason: blockReasons.stillPending(created.id, this.hookBudgetMs, cfg.approvals.retryGrant) };
    }
    if (result.kind === "timeout" || result.kind === "aborted") {
      const state = result.kind === "timeout" ? "expired" : "cancelled";
      const reason = result.kind === "timeout" ? CLOSE_REASONS.deadline : CLOSE_REASONS.aborted;
      resolution = await b.service.close(created.id, state, "clawgate", reason).catch((err: unknown) => {
        this.log.error({ approvalId: created.id, err: (err as Error).message }, `could not mark approval ${state}`);
        return null;
      });
      if (!resolution) return { block: true, blockReason: result.kind === "timeout" ? blockReasons.timedOut(created.id, cfg.approvals.timeout) : blockReasons.cancelled({ id: created.id, reason }) };
    }
    return this.outcome(resolution as Resolution, event, ctx.sessionKey ?? "", b, call);
  }

  /**
   * Whether `r` may end this call's wait: closing states always; an approval only if it is
   * signed over this call's id, params hash and rule by a key this gate trusts. A forgery is
   * logged, audited (serve counts it in /metrics) and ignored.
   */
  private honoured(r: Resolution, call: CallFacts): boolean {
    const v = verifyResolution(this.trust.keys, r, call);
    if (v.ok) return true;
    const key = `${call.id}|${r.sig ?? ""}|${r.decidedBy}`;
    if (!this.reported.has(key)) {
      if (this.reported.size > 10_000) this.reported.clear();
      this.reported.add(key);
      this.log.error({ approvalId: call.id, decidedBy: r.decidedBy, decidedVia: r.decidedVia, why: v.why }, "ignored an approval that is not validly signed (forged in Redis?)");
      this.backend?.store
        // The rule this gate offered: serve removes a saved allow-always rule that differs from it.
        .appendEvent("approval.forged", call.id, { actor: r.decidedBy, via: r.decidedVia, reason: v.why, decision: r.decision, rule: call.rule })
        .catch((err: unknown) => this.log.error({ err: (err as Error).message }, "could not record a forged approval"));
    }
    return false;
  }

  /** A retry grant's id (deadline 0), or the new pending approval. */
  private async createAsk(b: GateBackend, event: BeforeToolCallEvent, ctx: HookContext, decision: PolicyDecision, id: string): Promise<{ id: string; deadline: number; paramsHash: string }> {
    const cfg = this.config;
    if (cfg.approvals.retryGrant > 0) {
      const granted = await b.store.consumeGrant(ctx.sessionKey ?? "", event.toolName, event.params);
      this.progress.note();
      if (granted) {
        // The grant key only names an approval: that approval must be signed for exactly this call.
        const hash = paramsHash(event.params);
        const record = await b.store.get(granted);
        const r = record && record.sessionKey === (ctx.sessionKey ?? "") && record.tool === event.toolName ? resolutionOf(record) : null;
        // A grant is one retry, soon after the (signed) decision: an old approval of the same call
        // put back under a grant key is a replay, and one grant releases this process one call.
        const fresh = r !== null && Date.now() - r.decidedAt <= cfg.approvals.retryGrant && !this.usedGrants.has(granted);
        if (fresh && r.state === "approved" && this.honoured(r, { id: granted, paramsHash: hash, rule: decision.alwaysAllowRule ?? "" })) {
          this.usedGrants.add(granted);
          if (this.usedGrants.size > 10_000) this.usedGrants.clear();
          return { id: granted, deadline: 0, paramsHash: hash };
        }
      }
    }
    const record = await b.store.create(
      {
        tool: event.toolName,
        params: event.params,
        agentId: ctx.agentId,
        sessionKey: ctx.sessionKey,
        requester: ctx.requester,
        risk: decision.risk,
        rule: decision.rule,
        policyReason: decision.reason,
        alwaysAllowRule: decision.alwaysAllowRule,
        timeoutMs: cfg.approvals.timeout,
      },
      { id, lease: true, waiter: b.waiter.id },
    );
    return { id: record.id, deadline: record.deadline, paramsHash: record.paramsHash };
  }

  /**
   * The hook gave up before the create answered: cancel whatever may have landed, or leave a
   * tombstone so a create still in flight cannot land later. Nobody is ever asked to approve a
   * call that nothing waits for.
   */
  private abandon(b: GateBackend, id: string): void {
    const attempt = (n: number): void => {
      b.service.close(id, "cancelled", "clawgate", CLOSE_REASONS.abandoned, { tombstone: true }).catch((err: unknown) => {
        if (n < 5 && !this.closed) setTimeout(() => attempt(n + 1), 500 * (n + 1)).unref();
        else this.log.warn({ approvalId: id, err: (err as Error).message }, "could not cancel an abandoned ask; its lease lapses and serve cancels it");
      });
    };
    attempt(0);
  }

  /**
   * Renews the leases of the approvals this process waits on: every third of a lease, at once
   * after the process was paused (the tick came late: GC, SIGSTOP, a VM or laptop asleep), and
   * at once after a reconnect. A pause does not cost the approvals (the sweeper sees this
   * process's subscriber still connected); renewing first thing afterwards ends the doubt.
   */
  private ensureLeaseTimer(): void {
    if (this.leaseTimer) return;
    const b = this.connect();
    const every = Math.floor(b.store.leaseMs / 3);
    const tickMs = Math.min(LEASE_TICK_MS, every);
    let lastTick = Date.now();
    let lastRenewal = Date.now();
    const renew = () => {
      if (this.waiting.size === 0) return;
      lastRenewal = Date.now();
      b.store.renewLeases([...this.waiting]).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "could not renew approval leases"));
    };
    this.leaseTimer = setInterval(() => {
      const now = Date.now();
      const late = now - lastTick - tickMs;
      lastTick = now;
      if (late >= PAUSE_NOTICE_MS && this.waiting.size > 0) {
        this.log.warn({ pausedMs: late, waiting: this.waiting.size }, `this process was paused for about ${Math.round(late / 100) / 10} s; renewing the leases of the approvals it waits on now`);
        renew();
      } else if (now - lastRenewal >= every) renew();
    }, tickMs);
    this.leaseTimer.unref();
    b.redis.on("ready", renew);
  }

  private async outcome(r: Resolution, event: BeforeToolCallEvent, sessionKey: string, b: GateBackend, call: CallFacts): Promise<BeforeToolCallResult> {
    if (r.state === "approved" && !this.honoured(r, call)) {
      // What Redis calls an approval is not one: the call waited out its deadline and is blocked.
      return { block: true, blockReason: blockReasons.forged(r.id, this.config.approvals.timeout) };
    }
    if (r.state === "approved") {
      if (event.toolCallId) this.approvedCalls.set(event.toolCallId, r.id);
      if (this.config.approvals.retryGrant > 0) {
        // This call is the one that was approved; the retry grant is for when nobody was waiting.
        await b.store.consumeGrant(sessionKey, event.toolName, event.params).catch(() => undefined);
      }
      return undefined;
    }
    if (r.state === "expired") return { block: true, blockReason: blockReasons.timedOut(r.id, this.config.approvals.timeout) };
    if (r.state === "cancelled") return { block: true, blockReason: blockReasons.cancelled(r) };
    return { block: true, blockReason: blockReasons.decided(r) };
  }

  private unavailable(err: unknown, event: BeforeToolCallEvent): BeforeToolCallResult {
    const why = (err as Error).message;
    // Only "Redis could not be reached" may be let through by failOpen.
    const connection = isRedisConnectionError(err);
    this.log.error({ tool: event.toolName, err: why, failOpen: this.config.approvals.failOpen, connection }, "approval could not be requested");
    // failOpen covers an unreachable Redis only, never our own errors.
    if (!connection) return { block: true, blockReason: blockReasons.internal(why) };
    if (this.config.approvals.failOpen) return undefined;
    return { block: true, blockReason: blockReasons.unavailable(why) };
  }

  async afterToolCall(event: AfterToolCallEvent): Promise<void> {
    const id = event.toolCallId ? this.approvedCalls.get(event.toolCallId) : undefined;
    if (!id || !this.backend) return;
    this.approvedCalls.delete(event.toolCallId as string);
    const outcome = redactText(event.error ? `failed: ${String((event.error as Error).message ?? event.error)}` : `ran in ${event.durationMs ?? "?"} ms`);
    try {
      await this.backend.store.setOutcome(id, outcome);
      await this.backend.store.appendEvent("tool.outcome", id, { tool: event.toolName, reason: outcome });
    } catch (err) {
      this.log.error({ approvalId: id, err: (err as Error).message }, "could not record tool outcome");
    }
  }

  /** The approval backend (for the chat command). Connects on first use. */
  get backendForCommands(): Backend {
    return this.connect();
  }

  private connect(): GateBackend {
    if (this.backend) return this.backend;
    const cfg = this.config;
    const base = openBackend(cfg, this.redisUrl, this.log, "clawgate-gate", { signer: this.trust.signer });
    const sub = createRedis(this.redisUrl, "subscriber", { logger: this.log, name: "clawgate-gate-sub" });
    const rules = new RuntimeRulesCache(
      new RuntimeRulesStore(base.redis, base.store.k, cfg.redis.prefix),
      sub,
      this.trust.keys,
      {
        onChange: (runtime) => {
          try {
            this.engine = this.engine.withRuntime(runtime);
            this.log.info({ version: runtime.version, overrides: runtime.overrides.size, alwaysAllow: runtime.alwaysAllow.length }, "runtime rules updated");
          } catch (err) {
            // A signed rule this version cannot parse must not take the gate down: keep the last good rules.
            this.log.error({ err: (err as Error).message }, "runtime rules rejected; keeping the previous ones");
          }
        },
        onRefused: (kind, why) => {
          this.log.error({ kind, why }, "runtime rules refused");
          base.store.appendEvent("rules.refused", "", { reason: why, decision: kind }).catch(() => undefined);
        },
        onError: (err) => this.log.warn({ err: (err as Error).message }, "could not load runtime rules"),
      },
      this.rulesMemory,
    );
    const waiter = new DecisionWaiter(sub, base.store);
    // Subscribed from the start: the sweeper counts this process as alive by its waiter channel.
    waiter.subscribe().catch(() => undefined);
    this.backend = { ...base, sub, waiter, rules };
    this.rulesStarting = rules.start().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "could not load runtime rules"));
    return this.backend;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    const b = this.backend;
    if (!b) return;
    b.rules.stop();
    b.sub.disconnect();
    b.close();
  }
}
