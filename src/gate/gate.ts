import type { Redis } from "ioredis";
import { createRedis } from "../redis/connection.ts";
import { redactText } from "../redact/redact.ts";
import { CLOSE_REASONS } from "../approvals/record.ts";
import type { RuntimeRulesCache, RulesMemory } from "../approvals/runtime-rules-cache.ts";
import { DecisionWaiter } from "../approvals/waiter.ts";
import { AskFlow, type AskCall } from "../asks/flow.ts";
import { livePolicy } from "../asks/runtime-rules.ts";
import { configSourceOf } from "../config/load.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { gateTrust, type Trust } from "../trust/process.ts";
import { isRedisConnectionError, TooManyPendingError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { PolicyEngine, warmShellParser } from "../policy/engine.ts";
import type { JudgedCall } from "../policy/engine.ts";
import { selfProtectionContext } from "../config/self-protection.ts";
import type { PolicyDecision } from "../policy/types.ts";
import { openBackend, type Backend } from "../backend/wiring.ts";
import { DenialRecorder } from "./denials.ts";
import { blockReasons } from "./messages.ts";
import { withTimeout } from "./timeout.ts";
import type { AfterToolCallEvent, BeforeToolCallEvent, BeforeToolCallResult, HookContext } from "./types.ts";

/** Stop waiting this long before OpenClaw's hook budget ends, so our block reason is the one the agent sees. */
const BUDGET_MARGIN_MS = 1_000;

interface GateBackend extends Backend {
  sub: Redis;
  rules: RuntimeRulesCache;
  flow: AskFlow;
}

function callOf(event: BeforeToolCallEvent, ctx: HookContext): AskCall {
  return { tool: event.toolName, params: event.params, agentId: ctx.agentId, sessionKey: ctx.sessionKey, requester: ctx.requester };
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
  private closed = false;
  /** The public keys whose signatures release a call, and this gateway's own chat key. */
  private readonly trust: Trust;
  /** The first load of the runtime rules (calls wait for it, then block if it failed). */
  private rulesStarting: Promise<void> | null = null;
  /** Denied calls, logged and recorded off the hook's path. */
  private readonly denials: DenialRecorder;

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
    this.trust = opts.trust ?? gateTrust(config, { configSource: configSourceOf(config) ?? null });
    this.rulesMemory = opts.rulesMemory;
    this.denials = new DenialRecorder(log, () => this.backend?.store);
  }

  private readonly rulesMemory: RulesMemory | undefined;

  /** Connects to Redis and loads runtime rules. Never throws: until they load, every call is blocked with the reason. */
  async start(): Promise<void> {
    // Load the shell parser now, not inside the first hook call (~250 ms).
    warmShellParser();
    // And the engine's own code paths, so the agent's first calls are as fast as the later ones.
    this.engine.warmUp();
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
    // A denial needs its reason, not the risk people approving a call are shown.
    const ruling = judged.ruling();
    if (ruling.decision === "deny") {
      // Logged and recorded for the audit within DENIAL_FLUSH_MS, in a batch: not on the call's path.
      this.denials.add({ tool: event.toolName, agentId: ctx.agentId, reason: ruling.reason, rule: ruling.rule, source: ruling.source, at: Date.now() });
      return { block: true, blockReason: blockReasons.denied(ruling) };
    }
    return this.ask(event, ctx, judged.details());
  }

  private async ask(event: BeforeToolCallEvent, ctx: HookContext, decision: PolicyDecision): Promise<BeforeToolCallResult> {
    const started = Date.now();
    const { flow } = this.connect();
    const cfg = this.config;
    const call = callOf(event, ctx);
    let created;
    try {
      created = await flow.create(call, decision, { lease: true, grant: true, maxMs: this.hookBudgetMs - BUDGET_MARGIN_MS });
    } catch (err) {
      if (err instanceof TooManyPendingError) {
        this.log.warn({ tool: event.toolName, err: err.message }, "ask refused: too many pending approvals");
        return { block: true, blockReason: `clawgate: ${err.message}` };
      }
      return this.unavailable(err, event);
    }
    if (created.kind === "granted") {
      this.log.info({ approvalId: created.facts.id, tool: event.toolName }, "retry grant used: approved after the earlier wait ended");
      return undefined;
    }
    if (created.kind === "abandoned") return { block: true, blockReason: blockReasons.cancelled({ id: created.id, reason: CLOSE_REASONS.abandoned }) };
    const { approval, facts } = created;
    this.log.info({ approvalId: approval.id, tool: event.toolName, rule: decision.rule }, "approval requested");
    // OpenClaw would end the hook before the approval's deadline: stop waiting before it does,
    // keeping the approval open so a later approval can still let the retried call through.
    const end = await flow.wait(approval, facts, started + this.hookBudgetMs - BUDGET_MARGIN_MS, ctx.abortSignal);
    if (end.kind === "pending") return { block: true, blockReason: blockReasons.stillPending(approval.id, this.hookBudgetMs, cfg.approvals.retryGrant) };
    if (end.kind === "unclosed") return { block: true, blockReason: end.state === "expired" ? blockReasons.timedOut(approval.id, cfg.approvals.timeout) : blockReasons.cancelled({ id: approval.id, reason: end.reason }) };
    const r = end.resolution;
    // What Redis calls an approval is not one: the call waited out its deadline and is blocked.
    if (!end.genuine) return { block: true, blockReason: blockReasons.forged(r.id, cfg.approvals.timeout) };
    if (r.state === "approved") {
      if (event.toolCallId) this.approvedCalls.set(event.toolCallId, r.id);
      // This call is the one that was approved; the retry grant is for when nobody was waiting.
      await flow.spendGrant(call);
      return undefined;
    }
    if (r.state === "expired") return { block: true, blockReason: blockReasons.timedOut(r.id, cfg.approvals.timeout) };
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
    const { cache: rules } = livePolicy(cfg, base.store, sub, this.trust.keys, this.log, {
      initial: this.engine,
      memory: this.rulesMemory,
      announce: true,
      auditRefusals: true,
      onEngine: (engine) => {
        this.engine = engine;
      },
    });
    const waiter = new DecisionWaiter(sub, base.store);
    // Subscribed from the start: the sweeper counts this process as alive by its waiter channel.
    waiter.subscribe().catch(() => undefined);
    const flow = new AskFlow({ config: cfg, service: base.service, waiter, keys: this.trust.keys, log: this.log });
    this.backend = { ...base, sub, rules, flow };
    this.rulesStarting = rules.start().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "could not load runtime rules"));
    return this.backend;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const b = this.backend;
    // Denials still waiting for their batch are written before the connection goes.
    await withTimeout(this.denials.flush(), this.config.redis.commandTimeout, () => new Error("timed out recording denials")).catch(() => undefined);
    if (!b) return;
    b.flow.close();
    b.rules.stop();
    b.sub.disconnect();
    b.close();
  }
}
