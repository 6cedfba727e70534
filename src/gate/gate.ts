import type { Redis } from "ioredis";
import { AuditLog } from "../audit/log.ts";
import { enabledChannels } from "../../bots/registry.ts";
import { createRedis, waitReady } from "../../queue/connection.ts";
import { JobProducer } from "../../queue/producer.ts";
import { keys } from "../approvals/keys.ts";
import type { Resolution } from "../approvals/record.ts";
import { RuntimeRulesCache, RuntimeRulesStore } from "../approvals/runtime-rules.ts";
import { ApprovalService } from "../approvals/service.ts";
import { ApprovalStore } from "../approvals/store.ts";
import { DecisionWaiter } from "../approvals/waiter.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { RedisUnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { PolicyEngine, warmShellParser } from "../policy/engine.ts";
import { selfProtectionContext } from "../policy/self-protection/context.ts";
import type { PolicyDecision } from "../policy/types.ts";
import { blockReasons } from "./messages.ts";
import { withTimeout } from "./timeout.ts";
import type { AfterToolCallEvent, BeforeToolCallEvent, BeforeToolCallResult, HookContext } from "./types.ts";

/** Stop waiting this long before OpenClaw's hook budget ends, so our block reason is the one the agent sees. */
const BUDGET_MARGIN_MS = 1_000;

interface Backend {
  redis: Redis;
  sub: Redis;
  store: ApprovalStore;
  service: ApprovalService;
  waiter: DecisionWaiter;
  producer: JobProducer;
  audit: AuditLog;
  rules: RuntimeRulesCache;
}

/**
 * The in-process gate behind the plugin's before_tool_call. Allow and deny are decided from
 * memory (config + runtime rules cached from Redis), so they never wait on the network;
 * only an ask touches Redis: create the approval, enqueue notifications, wait for the decision.
 */
export class Gate {
  private engine: PolicyEngine;
  private backend: Backend | null = null;
  private readonly approvedCalls = new Map<string, string>();
  private closed = false;

  /**
   * @param hookBudgetMs the before_tool_call budget OpenClaw actually grants (an operator may
   * cap it below the approval deadline). The wait ends before it, leaving the approval pending,
   * so a later approval can still let the retried call through (approvals.retryGrant).
   */
  constructor(
    readonly config: ClawgateConfig,
    private readonly log: Logger,
    private readonly hookBudgetMs = Number.POSITIVE_INFINITY,
  ) {
    this.engine = new PolicyEngine(config.policy, undefined, { protect: selfProtectionContext(config) });
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
    return this.engine.evaluate({ toolName: event.toolName, params: event.params, agentId: ctx.agentId, derivedPaths: event.derivedPaths });
  }

  async beforeToolCall(event: BeforeToolCallEvent, ctx: HookContext): Promise<BeforeToolCallResult> {
    const decision = this.evaluate(event, ctx);
    if (decision.decision === "allow") return undefined;
    if (decision.decision === "deny") {
      this.log.info({ tool: event.toolName, rule: decision.rule, agentId: ctx.agentId }, "tool call denied by policy");
      this.backend?.audit
        .append({ type: "policy.denied", tool: event.toolName, agentId: ctx.agentId ?? "", reason: decision.reason, details: { rule: decision.rule } })
        .catch((err: unknown) => this.log.error({ err: (err as Error).message }, "audit append failed"));
      return { block: true, blockReason: blockReasons.denied(decision) };
    }
    return this.ask(event, ctx, decision);
  }

  private async ask(event: BeforeToolCallEvent, ctx: HookContext, decision: PolicyDecision): Promise<BeforeToolCallResult> {
    const started = Date.now();
    const b = this.connect();
    const cfg = this.config;
    let created: { id: string; deadline: number };
    try {
      created = await withTimeout(
        (async () => {
          await waitReady(b.redis, cfg.redis.commandTimeout);
          if (cfg.approvals.retryGrant > 0) {
            const granted = await b.store.consumeGrant(ctx.sessionKey ?? "", event.toolName, event.params);
            if (granted) return { id: granted, deadline: 0 };
          }
          const record = await b.store.create({
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
          });
          await Promise.all([
            b.producer.notify(record.id, enabledChannels(cfg), 0, "request"),
            b.producer.timers(record.id, record.createdAt, record.deadline, cfg),
            b.audit.append({ type: "approval.created", approvalId: record.id, tool: record.tool, agentId: record.agentId, reason: decision.reason, details: { rule: decision.rule, risk: decision.risk.score } }),
          ]);
          return { id: record.id, deadline: record.deadline };
        })(),
        cfg.redis.commandTimeout,
        () => new RedisUnavailableError(`Redis did not answer within ${cfg.redis.commandTimeout} ms`),
      );
    } catch (err) {
      return this.unavailable(err, event);
    }
    if (created.deadline === 0) {
      this.log.info({ approvalId: created.id, tool: event.toolName }, "retry grant used: approved after the earlier wait ended");
      return undefined;
    }
    this.log.info({ approvalId: created.id, tool: event.toolName, rule: decision.rule }, "approval requested");
    const budgetEnd = started + this.hookBudgetMs - BUDGET_MARGIN_MS;
    const waitUntil = Math.min(created.deadline, budgetEnd);
    const result = await b.waiter.wait(created.id, waitUntil, ctx.abortSignal);
    let resolution: Resolution | null = result.kind === "decided" ? result.resolution : null;
    if (result.kind === "timeout" && waitUntil < created.deadline) {
      // OpenClaw would end the hook before the approval's deadline: stop waiting, keep the approval open.
      return { block: true, blockReason: blockReasons.stillPending(created.id, this.hookBudgetMs, cfg.approvals.retryGrant) };
    }
    if (result.kind === "timeout" || result.kind === "aborted") {
      const state = result.kind === "timeout" ? "expired" : "cancelled";
      resolution = await b.service
        .close(created.id, state, "clawgate", result.kind === "timeout" ? "no decision before the deadline" : "run aborted")
        .catch((err: unknown) => {
          this.log.error({ approvalId: created.id, err: (err as Error).message }, `could not mark approval ${state}`);
          return null;
        });
      if (!resolution) return { block: true, blockReason: result.kind === "timeout" ? blockReasons.timedOut(created.id, cfg.approvals.timeout) : blockReasons.cancelled(created.id) };
    }
    return this.outcome(resolution as Resolution, event, ctx.sessionKey ?? "", b);
  }

  private async outcome(r: Resolution, event: BeforeToolCallEvent, sessionKey: string, b: Backend): Promise<BeforeToolCallResult> {
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
    this.log.error({ tool: event.toolName, err: why, failOpen: this.config.approvals.failOpen }, "approval service unavailable");
    if (this.config.approvals.failOpen) return undefined;
    return { block: true, blockReason: blockReasons.unavailable(why) };
  }

  async afterToolCall(event: AfterToolCallEvent): Promise<void> {
    const id = event.toolCallId ? this.approvedCalls.get(event.toolCallId) : undefined;
    if (!id || !this.backend) return;
    this.approvedCalls.delete(event.toolCallId as string);
    const outcome = event.error ? `failed: ${String((event.error as Error).message ?? event.error)}` : `ran in ${event.durationMs ?? "?"} ms`;
    try {
      await this.backend.store.setOutcome(id, outcome);
      await this.backend.audit.append({ type: "tool.outcome", approvalId: id, tool: event.toolName, reason: outcome });
    } catch (err) {
      this.log.error({ approvalId: id, err: (err as Error).message }, "could not record tool outcome");
    }
  }

  /** The approval service (for the chat command). Connects on first use. */
  get service(): ApprovalService {
    return this.connect().service;
  }

  private connect(): Backend {
    if (this.backend) return this.backend;
    const cfg = this.config;
    const url = cfg.redis.url || "redis://127.0.0.1:6379";
    const redis = createRedis(url, "command", { commandTimeoutMs: cfg.redis.commandTimeout, logger: this.log, name: "clawgate-gate" });
    const sub = createRedis(url, "subscriber", { logger: this.log, name: "clawgate-gate-sub" });
    const k = keys(cfg.redis.prefix);
    const store = new ApprovalStore(redis, {
      prefix: cfg.redis.prefix,
      keepForMs: cfg.approvals.keepFor,
      retryGrantMs: cfg.approvals.retryGrant,
      maxParamsBytes: cfg.approvals.maxParamsBytes,
    });
    const audit = new AuditLog(redis, { prefix: cfg.redis.prefix, hmacKey: cfg.audit.hmacKey, logger: this.log });
    const producer = new JobProducer(redis, cfg.redis.prefix);
    const service = new ApprovalService(store, { audit, producer, channels: enabledChannels(cfg), log: this.log });
    const rules = new RuntimeRulesCache(
      new RuntimeRulesStore(redis, k),
      sub,
      k,
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
    this.backend = { redis, sub, store, service, waiter: new DecisionWaiter(sub, store), producer, audit, rules };
    return this.backend;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const b = this.backend;
    if (!b) return;
    b.rules.stop();
    await b.producer.close().catch(() => undefined);
    b.sub.disconnect();
    b.redis.disconnect();
  }
}
