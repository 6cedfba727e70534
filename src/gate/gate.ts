import type { Redis } from "ioredis";
import { createRedis, waitReady } from "../../queue/connection.ts";
import { newApprovalId } from "../approvals/id.ts";
import { redactText } from "../approvals/redact.ts";
import type { Resolution } from "../approvals/record.ts";
import { RuntimeRulesCache, RuntimeRulesStore } from "../approvals/runtime-rules.ts";
import { DecisionWaiter } from "../approvals/waiter.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { ClawgateError, RedisUnavailableError, TooManyPendingError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { PolicyEngine, warmShellParser } from "../policy/engine.ts";
import type { JudgedCall } from "../policy/engine.ts";
import { selfProtectionContext } from "../policy/self-protection/context.ts";
import type { PolicyDecision } from "../policy/types.ts";
import { openBackend, type Backend } from "../wiring.ts";
import { blockReasons } from "./messages.ts";
import { RedisProgress } from "./progress.ts";
import { withTimeout } from "./timeout.ts";
import type { AfterToolCallEvent, BeforeToolCallEvent, BeforeToolCallResult, HookContext } from "./types.ts";

/** Stop waiting this long before OpenClaw's hook budget ends, so our block reason is the one the agent sees. */
const BUDGET_MARGIN_MS = 1_000;

interface GateBackend extends Backend {
  sub: Redis;
  waiter: DecisionWaiter;
  rules: RuntimeRulesCache;
}

/** Errors that mean "Redis could not be reached", the only ones `failOpen` may let through. */
function isConnectionError(err: unknown): boolean {
  if (err instanceof RedisUnavailableError) return true;
  if (err instanceof ClawgateError) return false;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection is closed|Stream isn't writeable|max retries|Command timed out|Reached the max retries|not reachable/i.test(
    (err as Error)?.message ?? "",
  );
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
  ) {
    this.engine = new PolicyEngine(config.policy, undefined, { protect: selfProtectionContext(config) });
    this.progress = new RedisProgress(config.redis.commandTimeout);
  }

  /** Connects to Redis and loads runtime rules. Never throws: the gate works from config until Redis is back. */
  async start(): Promise<void> {
    // Load the shell parser now, not inside the first hook call (~250 ms).
    warmShellParser();
    const b = this.connect();
    try {
      await withTimeout(b.rules.start(), this.config.redis.commandTimeout * 2, () => new Error("timed out loading runtime rules"));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "runtime rules not loaded yet; using config rules until Redis answers");
    }
  }

  evaluate(event: BeforeToolCallEvent, ctx: HookContext): PolicyDecision {
    return this.judge(event, ctx).details();
  }

  private judge(event: BeforeToolCallEvent, ctx: HookContext): JudgedCall {
    return this.engine.judge({ toolName: event.toolName, params: event.params, agentId: ctx.agentId, derivedPaths: event.derivedPaths });
  }

  async beforeToolCall(event: BeforeToolCallEvent, ctx: HookContext): Promise<BeforeToolCallResult> {
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
    let created: { id: string; deadline: number };
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
    this.waiting.add(created.id);
    this.ensureLeaseTimer();
    let result;
    try {
      result = await b.waiter.wait(created.id, waitUntil, ctx.abortSignal);
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
      resolution = await b.service.close(created.id, state, "clawgate", result.kind === "timeout" ? "no decision before the deadline" : "run aborted").catch((err: unknown) => {
        this.log.error({ approvalId: created.id, err: (err as Error).message }, `could not mark approval ${state}`);
        return null;
      });
      if (!resolution) return { block: true, blockReason: result.kind === "timeout" ? blockReasons.timedOut(created.id, cfg.approvals.timeout) : blockReasons.cancelled(created.id) };
    }
    return this.outcome(resolution as Resolution, event, ctx.sessionKey ?? "", b);
  }

  /** A retry grant's id (deadline 0), or the new pending approval. */
  private async createAsk(b: GateBackend, event: BeforeToolCallEvent, ctx: HookContext, decision: PolicyDecision, id: string): Promise<{ id: string; deadline: number }> {
    const cfg = this.config;
    if (cfg.approvals.retryGrant > 0) {
      const granted = await b.store.consumeGrant(ctx.sessionKey ?? "", event.toolName, event.params);
      this.progress.note();
      if (granted) return { id: granted, deadline: 0 };
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
      { id, lease: true },
    );
    return { id: record.id, deadline: record.deadline };
  }

  /**
   * The hook gave up before the create answered: cancel whatever may have landed, or leave a
   * tombstone so a create still in flight cannot land later. Nobody is ever asked to approve a
   * call that nothing waits for.
   */
  private abandon(b: GateBackend, id: string): void {
    const attempt = (n: number): void => {
      b.service.close(id, "cancelled", "clawgate", "the gateway stopped waiting before the request was created", { tombstone: true }).catch((err: unknown) => {
        if (n < 5 && !this.closed) setTimeout(() => attempt(n + 1), 500 * (n + 1)).unref();
        else this.log.warn({ approvalId: id, err: (err as Error).message }, "could not cancel an abandoned ask; its lease lapses and serve cancels it");
      });
    };
    attempt(0);
  }

  private ensureLeaseTimer(): void {
    if (this.leaseTimer) return;
    const b = this.connect();
    // Renew well inside the lease so one slow round trip never lets it lapse.
    this.leaseTimer = setInterval(() => {
      if (this.waiting.size === 0) return;
      b.store.renewLeases([...this.waiting]).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "could not renew approval leases"));
    }, Math.floor(b.store.leaseMs / 3));
    this.leaseTimer.unref();
  }

  private async outcome(r: Resolution, event: BeforeToolCallEvent, sessionKey: string, b: GateBackend): Promise<BeforeToolCallResult> {
    if (r.state === "approved") {
      if (event.toolCallId) this.approvedCalls.set(event.toolCallId, r.id);
      if (this.config.approvals.retryGrant > 0) {
        // This call is the one that was approved; the retry grant is for when nobody was waiting.
        await b.store.consumeGrant(sessionKey, event.toolName, event.params).catch(() => undefined);
      }
      return undefined;
    }
    if (r.state === "expired") return { block: true, blockReason: blockReasons.timedOut(r.id, this.config.approvals.timeout) };
    if (r.state === "cancelled") return { block: true, blockReason: blockReasons.cancelled(r.id) };
    return { block: true, blockReason: blockReasons.decided(r) };
  }

  private unavailable(err: unknown, event: BeforeToolCallEvent): BeforeToolCallResult {
    const why = (err as Error).message;
    const connection = isConnectionError(err);
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
    const base = openBackend(cfg, this.redisUrl, this.log, "clawgate-gate");
    const sub = createRedis(this.redisUrl, "subscriber", { logger: this.log, name: "clawgate-gate-sub" });
    const rules = new RuntimeRulesCache(
      new RuntimeRulesStore(base.redis, base.store.k),
      sub,
      base.store.k,
      (runtime) => {
        try {
          this.engine = this.engine.withRuntime(runtime);
          this.log.info({ overrides: runtime.overrides.size, alwaysAllow: runtime.alwaysAllow.length }, "runtime rules updated");
        } catch (err) {
          // A bad rule written to Redis by hand must not take the gate down: keep the last good rules.
          this.log.error({ err: (err as Error).message }, "runtime rules rejected; keeping the previous ones");
        }
      },
      (err) => this.log.warn({ err: (err as Error).message }, "could not load runtime rules"),
    );
    this.backend = { ...base, sub, waiter: new DecisionWaiter(sub, base.store), rules };
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
