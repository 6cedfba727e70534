import { hash } from "node:crypto";
import { compilePolicy, RuleCompiler } from "./compile.ts";
import type { CompiledPolicy } from "./compile.ts";
import { choose, describe } from "./decide.ts";
import { extractSubjects } from "./extract.ts";
import { judge } from "./judge.ts";
import { Doorkeeper } from "./base/doorkeeper.ts";
import { Lru } from "./base/lru.ts";
import { paramsOverLimit } from "./base/params-limits.ts";
import { classifyRisk } from "./risk.ts";
import type { Decision, PolicyConfig } from "./schema.ts";
import { scrubDecision } from "./scrub.ts";
import { Protector, SELF_PROTECTION_RULE } from "./self-protection/check.ts";
import { RESOLVED_PATH_TTL_MS } from "./self-protection/real-paths.ts";
import type { ProtectHit } from "./self-protection/hit.ts";
import type { SelfProtectionContext } from "./self-protection/context.ts";
import { shellOps } from "./shell/mvdan.ts";
import { toolKey, ToolKinds } from "./tools.ts";
import type { PolicyDecision, Risk, RuntimeRules } from "./types.ts";
import type { ToolCall } from "./call/tool-call.ts";

export { parseRule } from "./rule.ts";
export { SELF_PROTECTION_RULE } from "./self-protection/check.ts";

/**
 * Loads the shell parser now (~250 ms) instead of during the first tool call that needs it.
 * The plugin should call this once at start-up.
 */
export function warmShellParser(): void {
  shellOps();
}

const DECISION_CACHE_ENTRIES = 2048;
/** Calls with more text than this are decided afresh each time (they would pin memory). */
const MAX_KEY_LENGTH = 4096;
/**
 * A string param longer than this (a file's content) goes into the key as its length and
 * SHA-256, not as itself: the key stays short to build, hash and look up, and a cached
 * decision is still never reused for other content (a collision-resistant digest, not a
 * fast hash an agent could aim a second content at).
 */
const DIGEST_OVER = 128;
/** Params longer than this in all are not cached at all (digesting them costs more than it saves). */
const MAX_DIGESTED_BYTES = 1_000_000;

function keyPiece(v: string): string {
  return v.length > DIGEST_OVER ? `#${v.length}:${hash("sha256", v, "base64")}` : JSON.stringify(v);
}

/** A call as read for the decision cache: each value read once (a getter cannot answer twice). */
interface ReadCall {
  call: ToolCall;
  /** A cheap hash of what identifies the call, for the doorkeeper (a collision only admits early). */
  sighting: number;
  /** Tool, agent and derived paths, as the key starts. */
  head: string;
  /** The flat params as read; null for a call without params (its key is `head` and what they were). */
  flat: Record<string, unknown> | null;
  /** The key of a call without params. */
  bare: string;
}

/** The exact key, built only for a call seen before; null when it is too long to keep. */
function keyOf(read: ReadCall): string | null {
  if (read.flat === null) return read.bare;
  let out = read.head;
  for (const [k, v] of Object.entries(read.flat)) out += `\0${JSON.stringify(k)}:${typeof v === "string" ? keyPiece(v) : JSON.stringify(v)}`;
  return out.length > MAX_KEY_LENGTH ? null : out;
}

/** FNV-1a over a string's length and its first and last 16 characters: cheap, and enough to tell sightings apart. */
function mix(h: number, s: string): number {
  const n = s.length;
  h = Math.imul(h ^ n, 0x01000193);
  if (n <= 32) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return h;
  }
  for (let i = 0; i < 16; i++) h = Math.imul(h ^ s.charCodeAt(i) ^ (s.charCodeAt(n - 1 - i) << 16), 0x01000193);
  return h;
}

/**
 * A call whose params are flat JSON scalars (what shell, file and web tools send), read once,
 * with the call rebuilt from exactly what was read; null for nested or exotic params, which
 * are not worth a canonical encoding.
 */
function readCall(call: ToolCall): ReadCall | null {
  try {
    if (typeof call !== "object" || call === null) return null;
    const { toolName, agentId, derivedPaths, params } = call;
    if (typeof toolName !== "string") return null;
    const agent = typeof agentId === "string" ? agentId : "\u0001";
    let h = mix(mix(0x811c9dc5, toolName), agent);
    let paths: string[] | undefined;
    if (derivedPaths !== undefined) {
      if (!Array.isArray(derivedPaths) || !derivedPaths.every((p) => typeof p === "string")) return null;
      paths = [...derivedPaths];
      for (const p of paths) h = mix(h, p);
    }
    const head = `${toolName}\0${agent}${paths ? `\0${JSON.stringify(paths)}` : ""}`;
    if (params === undefined || params === null) {
      return { call: snapshot(toolName, params, agentId, paths), sighting: h | 0 || 1, head, flat: null, bare: `${head}\0${String(params)}` };
    }
    if (typeof params !== "object" || Array.isArray(params) || Object.getPrototypeOf(params) !== Object.prototype) return null;
    const flat: Record<string, unknown> = {};
    let text = head.length;
    for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
      if (!(typeof v === "string" || typeof v === "boolean" || v === null || (typeof v === "number" && Number.isFinite(v)))) return null;
      flat[k] = v;
      h = mix(h, k);
      h = typeof v === "string" ? mix(h, v) : mix(h, String(v));
      text += k.length + (typeof v === "string" ? Math.min(v.length, DIGEST_OVER + 64) : 8);
      if (text > MAX_KEY_LENGTH || (typeof v === "string" && v.length > MAX_DIGESTED_BYTES)) return null;
    }
    return { call: snapshot(toolName, flat, agentId, paths), sighting: h | 0 || 1, head, flat, bare: "" };
  } catch {
    // A hostile getter: decided uncached, where evaluate's own guard turns it into "ask".
    return null;
  }
}

/** The call as the key describes it. */
function snapshot(toolName: string, params: unknown, agentId: unknown, paths: string[] | undefined): ToolCall {
  const call: ToolCall = { toolName, params };
  if (typeof agentId === "string") call.agentId = agentId;
  if (paths) call.derivedPaths = paths;
  return call;
}

/** Freezes a decision and everything in it (its shape is fixed: parts, risk, systems). */
function deepFreeze(d: PolicyDecision): PolicyDecision {
  if (Object.isFrozen(d)) return d;
  for (const p of d.parts) Object.freeze(p);
  Object.freeze(d.parts);
  Object.freeze(d.risk.systems);
  Object.freeze(d.risk);
  return Object.freeze(d);
}

/** What agents send, for warmUp(): short and long lines, a here-document, a test, file and web tools. */
const WARM_UP_CALLS: readonly ToolCall[] = [
  { toolName: "exec", params: { command: "git status" } },
  { toolName: "exec", params: { command: "ls -la src && npm test -- --run 2>&1 | tail -n 20" } },
  { toolName: "exec", params: { command: 'if [ -f package.json ]; then jq -r ".scripts | keys[]" package.json; fi' } },
  { toolName: "exec", params: { command: 'rg -n "TODO" src --glob "*.ts" | head -50 > /tmp/todo.txt; echo "$(date +%s) done" >> /tmp/todo.log' } },
  { toolName: "exec", params: { command: "cat > /tmp/warm.yaml <<'EOF'\nname: warm\nitems: [a, b]\nEOF" } },
  { toolName: "exec", params: { command: "uv run pytest -q tests/ --maxfail=1 && docker compose -f deploy/compose.yaml ps --format json | jq length" } },
  { toolName: "exec", params: { command: "rm -rf /tmp/warm-up-build && curl -fsSL https://example.org/install.sh | sh" } },
  { toolName: "read", params: { path: "README.md" } },
  { toolName: "write", params: { path: "src/warm.ts", content: "export const warm = true;\n".repeat(20) } },
  { toolName: "edit", params: { path: "src/warm.ts", old_string: "true", new_string: "false" } },
  { toolName: "web_fetch", params: { url: "https://example.org/docs?q=warm" } },
];

const NO_RUNTIME: RuntimeRules = { overrides: new Map(), alwaysAllow: [] };

export interface PolicyEngineOptions {
  /**
   * What the built-in self-protection rules guard (selfProtectionContext(config, …)); null or
   * absent: no self-protection (`policy.selfProtection: false`, or unit tests of user rules).
   */
  protect?: SelfProtectionContext | null;
  /** Internal: lets withRuntime reuse what is already compiled. */
  compiler?: RuleCompiler;
  /** Internal: lets withRuntime reuse what is already compiled. */
  protector?: Protector | null;
  /** Keep decisions of calls seen before (default true); the rules-growth bench turns it off to time matching. */
  decisionCache?: boolean;
}

/** Fills what a hand-built (not zod-parsed) config may lack, without mutating it. */
function complete(config: Partial<PolicyConfig>): PolicyConfig {
  return {
    mode: config.mode ?? "default",
    allow: config.allow ?? [],
    ask: config.ask ?? [],
    deny: config.deny ?? [],
    tools: config.tools ?? {},
    agents: config.agents ?? {},
    paramKeys: config.paramKeys ?? {},
    dangerousPatterns: config.dangerousPatterns ?? [],
    shellTools: config.shellTools ?? ["exec", "bash", "process"],
    selfProtection: config.selfProtection ?? true,
  };
}

const quote = (s: string): string => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);

/**
 * Decides allow / ask / deny for tool calls, in-process and synchronously. All rules are
 * compiled up front; shell lines are analysed once and cached.
 */
export class PolicyEngine {
  private readonly config: PolicyConfig;
  private readonly compiler: RuleCompiler;
  private readonly protector: Protector | null;
  private readonly base: CompiledPolicy;
  private readonly agents = new Map<string, CompiledPolicy>();
  private readonly decisions = new Lru<string, { judged: JudgedCall; at: number }>(DECISION_CACHE_ENTRIES);
  /** Calls are cached from their second sighting (see Doorkeeper). */
  private readonly seen = new Doorkeeper();
  private readonly cacheDecisions: boolean;

  /** Throws PolicyRuleInvalidError on a bad rule in the config or in `runtime`. */
  constructor(config: PolicyConfig, runtime: RuntimeRules = NO_RUNTIME, options: PolicyEngineOptions = {}) {
    this.config = complete(config);
    this.compiler = options.compiler ?? new RuleCompiler();
    this.protector = options.protector !== undefined ? options.protector : options.protect ? new Protector(options.protect) : null;
    this.cacheDecisions = options.decisionCache ?? true;
    const kinds = new ToolKinds(this.config);
    this.base = compilePolicy(this.config, undefined, runtime, this.compiler, kinds);
    for (const [id, agent] of Object.entries(this.config.agents)) {
      this.agents.set(id, compilePolicy(this.config, agent, runtime, this.compiler, kinds));
    }
  }

  /** A new engine with these Redis-held overrides and allow-always rules; the config rules are reused. */
  withRuntime(runtime: RuntimeRules): PolicyEngine {
    return new PolicyEngine(this.config, runtime, { compiler: this.compiler, protector: this.protector, decisionCache: this.cacheDecisions });
  }

  /**
   * Runs the engine over calls of every kind a few hundred times so the first real calls do
   * not pay for compiling its code paths. Decided calls are not cached (no decision is kept),
   * only the shell analyses of these lines. For start-up: it takes tens of milliseconds.
   */
  warmUp(rounds = 25): void {
    for (let r = 0; r < rounds; r++) {
      for (const call of WARM_UP_CALLS) {
        const judged = this.judgeSafely(call);
        if (judged.decision === "deny") judged.ruling();
        else if (judged.decision === "ask") judged.details();
      }
    }
  }

  /** Whether the built-in self-protection rules are active in this engine. */
  get selfProtected(): boolean {
    return this.protector !== null;
  }

  /**
   * The full decision: what `judge` decides, with everything shown to people. Never throws
   * and never touches the network: anything unexpected becomes "ask".
   */
  evaluate(call: ToolCall): PolicyDecision {
    return this.judge(call).details();
  }

  /**
   * Decides a call, leaving the reason, risk, parts and allow-always rule to `details()`: an
   * allowed call (most calls) needs none of them. Never throws. An engine is immutable
   * (runtime rules make a new one), so a call seen before is answered from a bounded cache
   * (from its third sighting: the second admits it, see Doorkeeper); details are frozen so
   * no caller can change what the next one gets.
   */
  judge(call: ToolCall): JudgedCall {
    const read = this.cacheDecisions ? readCall(call) : null;
    if (read === null) return this.judgeSafely(call);
    // A first sighting cannot be cached yet: no key is built, nothing is looked up.
    // Judge exactly what was read (a getter could answer differently the second time).
    if (!this.seen.admitHash(read.sighting)) return this.judgeSafely(read.call);
    const key = keyOf(read);
    if (key === null) return this.judgeSafely(read.call);
    const hit = this.decisions.get(key);
    // Self-protection resolves paths on the file system: a symlink made since must be seen, so
    // its decisions are trusted as long as a resolved path is (RESOLVED_PATH_TTL_MS).
    const now = this.protector ? Date.now() : 0;
    if (hit && (now === 0 || now - hit.at < RESOLVED_PATH_TTL_MS)) return hit.judged;
    const judged = this.judgeSafely(read.call);
    this.decisions.set(key, { judged, at: now });
    return judged;
  }

  private judgeSafely(call: ToolCall): JudgedCall {
    try {
      return this.judgeUnchecked(call);
    } catch (err) {
      return Judged.of(failedDecision(err));
    }
  }

  private judgeUnchecked(call: ToolCall): JudgedCall {
    const tool = toolKey(typeof call?.toolName === "string" ? call.toolName : "");
    const agentId = typeof call.agentId === "string" ? call.agentId : undefined;
    const policy = (agentId !== undefined ? this.agents.get(agentId) : undefined) ?? this.base;
    const subjects = extractSubjects(call, tool, policy.kinds);
    // Self-protection comes before every user rule, in every mode.
    const hit = this.protector?.check(call, tool, subjects) ?? null;
    if (hit?.decision === "deny") return new Judged("deny", (withRisk) => protectedDecision(hit, "deny", withRisk ? classifyRisk(tool, subjects, call.params) : UNCLASSIFIED));
    const judgement = judge(policy, tool, subjects);
    const choice = choose(policy.mode, judgement);
    const dontAskMode = policy.mode === "dontAsk";
    let decision = choice.decision;
    if (hit && decision !== "deny") decision = dontAskMode ? "deny" : "ask";
    const over = decision !== "deny" ? paramsOverLimit(call.params) : null;
    if (over) decision = dontAskMode ? "deny" : "ask";
    return new Judged(decision, (withRisk) => {
      let d = describe(tool, policy.mode, subjects, judgement, choice, withRisk ? classifyRisk(tool, subjects, call.params) : UNCLASSIFIED);
      if (hit && d.decision !== "deny") d = protectedDecision(hit, dontAskMode ? "deny" : "ask", d.risk);
      if (over && d.decision !== "deny") d = overLimit(d, over, dontAskMode);
      return d;
    });
  }
}

/** What a denied call is told and logged with: details() without the risk and the parts. */
export type Ruling = Readonly<Pick<PolicyDecision, "decision" | "rule" | "source" | "reason">>;

/** A call's decision, and on request everything shown to people about it. */
export interface JudgedCall {
  readonly decision: Decision;
  /** Worked out on the first call, then the same frozen object every time. */
  details(): PolicyDecision;
  /**
   * details()'s decision, rule, source and reason, without classifying the call's risk (what a
   * denial needs: the risk is shown only to approvers). The same as details() says, always.
   */
  ruling(): Ruling;
}

/** Placeholder risk for ruling(): never shown, never kept. */
const UNCLASSIFIED: Risk = Object.freeze({ actionType: "unknown", score: 0, class: "low", reversible: true, systems: Object.freeze([]) as unknown as string[] });

class Judged implements JudgedCall {
  private described: PolicyDecision | null = null;
  private brief: Ruling | null = null;

  /** `describeIt(false)` may leave the risk unclassified: only ruling() asks for that. */
  constructor(
    readonly decision: Decision,
    private readonly describeIt: (withRisk: boolean) => PolicyDecision,
  ) {}

  static of(d: PolicyDecision): Judged {
    const judged = new Judged(d.decision, () => d);
    judged.described = deepFreeze(d);
    return judged;
  }

  details(): PolicyDecision {
    if (this.described === null) this.described = deepFreeze(this.describeSafely(true));
    return this.described;
  }

  ruling(): Ruling {
    if (this.brief === null) {
      const d = this.described ?? this.describeSafely(false);
      this.brief = Object.freeze({ decision: d.decision, rule: d.rule, source: d.source, reason: d.reason });
    }
    return this.brief;
  }

  private describeSafely(withRisk: boolean): PolicyDecision {
    try {
      return this.describeIt(withRisk);
    } catch (err) {
      // Describing failed (a bug): the call was judged, but nobody should approve it blind.
      return failedDecision(err);
    }
  }
}

function failedDecision(err: unknown): PolicyDecision {
  return scrubDecision({
    decision: "ask",
    rule: null,
    source: "unparsed",
    reason: `needs approval: clawgate could not evaluate this call (${err instanceof Error ? err.message : String(err)})`,
    risk: { actionType: "unknown", score: 50, class: "high", reversible: false, systems: [] },
    alwaysAllowRule: null,
    parts: [],
  });
}

function protectedDecision(hit: ProtectHit, decision: "deny" | "ask", risk: Risk): PolicyDecision {
  const why = `${quote(hit.matched)} ${hit.what}`;
  const reason = decision === "deny" ? `denied by clawgate self-protection: ${why}` : `needs approval: clawgate self-protection: ${why}`;
  return scrubDecision({
    decision,
    rule: SELF_PROTECTION_RULE,
    source: "self-protection",
    reason: hit.decision === "ask" && decision === "deny" ? `dontAsk mode: ${why} would need approval (clawgate self-protection)` : reason,
    risk,
    // Never remembered: each such call is seen by a human.
    alwaysAllowRule: null,
    parts: [{ content: hit.matched, decision, rule: SELF_PROTECTION_RULE, note: hit.what }],
  });
}

/** Params past the limits are never allowed on the strength of what we could read of them. */
function overLimit(d: PolicyDecision, why: string, dontAsk: boolean): PolicyDecision {
  return {
    ...d,
    decision: dontAsk ? "deny" : "ask",
    rule: dontAsk ? "mode:dontAsk" : null,
    source: dontAsk ? "mode" : "unparsed",
    reason: dontAsk ? `dontAsk mode: the call would need approval (${why})` : `needs approval: ${why}`,
    alwaysAllowRule: null,
  };
}
