import type { CompiledPolicy } from "./compile.ts";
import { normalisePath, withoutParentSegments } from "./paths.ts";
import type { RuleHit, ToolRules } from "./rule-list.ts";
import type { SideEffect } from "./shell/effect-options.ts";
import type { Composite, Part, Subjects } from "./call/subjects.ts";
import { EDIT_TOOLS } from "./tools.ts";
import type { DecisionSource } from "./types.ts";
import { verdict } from "./verdict.ts";
import type { Verdict, VerdictLabel } from "./verdict.ts";

interface Lists {
  deny: ToolRules;
  ask: ToolRules;
  allow: ToolRules;
  alwaysAllow: ToolRules;
  dangerous: ToolRules;
}

const listsCache = new WeakMap<CompiledPolicy, Map<string, Lists>>();

function listsFor(policy: CompiledPolicy, tool: string): Lists {
  let perTool = listsCache.get(policy);
  if (!perTool) {
    perTool = new Map();
    listsCache.set(policy, perTool);
  }
  let lists = perTool.get(tool);
  if (!lists) {
    lists = {
      deny: policy.deny.forTool(tool),
      ask: policy.ask.forTool(tool),
      allow: policy.allow.forTool(tool),
      alwaysAllow: policy.alwaysAllow.forTool(tool),
      dangerous: policy.dangerous.forTool(tool),
    };
    if (perTool.size < 1024) perTool.set(tool, lists);
  }
  return lists;
}

interface Context {
  policy: CompiledPolicy;
  tool: string;
  lists: Lists;
  /** Exact allow-always rule for the whole line (`exec(npm ci && npm test)`): beats ask rules. */
  wholeAlways: RuleHit | null;
  /** Exact allow rule for the whole line: beats defaults. */
  wholeAllow: RuleHit | null;
}

function sourceOf(hit: RuleHit, plain: DecisionSource): DecisionSource {
  return hit.origin === "override" ? "override" : plain;
}

function match(list: ToolRules, p: Part, texts: readonly string[]): RuleHit | null {
  return p.noContent ? list.firstNoContent() : list.first(texts, p.host);
}

function shown(hit: RuleHit, p: Part): string {
  return hit.text.length > 0 ? hit.text : p.display;
}

/** No rule decided: the tool's default, then the mode. */
function fallback(ctx: Context, matched: string, partIndex: number, label: VerdictLabel): Verdict {
  const { policy, tool } = ctx;
  const td = policy.tools.get(tool);
  if (td !== undefined) return verdict(td === "deny" ? "deny" : td === "allowlist" ? "ask" : "allow", "tool-default", `tool-default:${tool}`, matched, partIndex, label);
  const rule = `mode:${policy.mode}`;
  switch (policy.mode) {
    case "default":
    case "bypassPermissions":
      return verdict("allow", "mode", rule, matched, partIndex, label);
    case "acceptEdits":
      return verdict(EDIT_TOOLS.has(tool) ? "allow" : "ask", "mode", rule, matched, partIndex, label);
    case "strict":
    case "dontAsk":
      // dontAsk turns this ask into a deny once the whole call is combined.
      return verdict("ask", "mode", rule, matched, partIndex, label);
  }
}

/**
 * bypassPermissions lets through what rules, defaults or the mode would ask about — but
 * not what we could not understand or what matches dangerousPatterns: that floor stays.
 */
function bypass(ctx: Context, v: Verdict): Verdict {
  if (ctx.policy.mode !== "bypassPermissions" || v.decision !== "ask") return v;
  if (v.source === "unparsed" || v.source === "dangerous" || v.dangerous !== undefined) return v;
  const out = verdict("allow", "mode", "mode:bypassPermissions", v.matched, v.partIndex, v.label);
  out.bypassed = { rule: v.rule, source: v.source };
  return out;
}

/**
 * An option of the command that writes files or runs programs (`find -fprint`, `rg --pre`)
 * which the allow rule does not name: a rule written for a read tool did not mean it. An exact
 * rule (what an approver saves with allow-always) names everything.
 */
function uncovered(p: Part, hit: RuleHit): SideEffect | null {
  if (p.effects === undefined || hit.exact || hit.content === null) return null;
  // Only a rule written for the tool (`exec(find *)`) is read as meaning its read-only use;
  // `exec(*)` or `exec(sudo *)` allow whatever runs.
  const space = hit.content.indexOf(" ");
  const head = space < 0 ? hit.content : hit.content.slice(0, space);
  for (const e of p.effects) {
    if (!e.asks || head !== e.tool) continue;
    if (e.option !== null && namesOption(hit.content, e.option)) continue;
    return e;
  }
  return null;
}

function namesOption(content: string, option: string): boolean {
  for (const w of content.split(" ")) {
    if (w === option || w.startsWith(`${option}=`) || (option === "+" && w.startsWith("+"))) return true;
    // `-ni` names sed's `-i`; `-i.bak` too.
    if (option.length === 2 && option[0] === "-" && /^-[a-zA-Z]/.test(w) && !w.startsWith("--") && w.includes(option[1] as string)) return true;
  }
  return false;
}

/** Asks like code clawgate cannot read: a rule naming the option, or an exact one, passes it. */
function effectAsk(p: Part, gap: SideEffect, hit: RuleHit, partIndex: number, label: VerdictLabel): Verdict {
  const v = verdict("ask", "unparsed", null, p.display, partIndex, label);
  v.unparsed = gap.why;
  v.opaque = true;
  v.effect = { why: gap.why, rule: hit.rule };
  return v;
}

/** deny > (not understood | dangerous: ask) > always-allow > ask > allow > tool default > mode. */
function judgePart(ctx: Context, p: Part, partIndex: number, label: VerdictLabel): Verdict | null {
  const { lists } = ctx;
  const all = p.denyOnly.length > 0 ? p.levels.concat(p.denyOnly) : p.levels;
  const allowTexts = p.allowDepth >= p.levels.length - 1 ? p.levels : p.levels.slice(0, p.allowDepth + 1);

  const deny = match(lists.deny, p, all);
  if (deny) return verdict("deny", sourceOf(deny, "deny-rule"), deny.rule, shown(deny, p), partIndex, label);
  const dangerous = match(lists.dangerous, p, all);
  if (p.unparsed !== undefined) {
    const v = verdict("ask", "unparsed", null, p.display, partIndex, label);
    v.unparsed = p.unparsed;
    if (dangerous) v.dangerous = dangerous.rule;
    return v;
  }
  if (!dangerous) {
    const always = match(lists.alwaysAllow, p, allowTexts) ?? ctx.wholeAlways;
    if (always) {
      const gap = uncovered(p, always);
      if (gap === null) return verdict("allow", "always-allow", always.rule, shown(always, p), partIndex, label);
      return effectAsk(p, gap, always, partIndex, label);
    }
  }
  const ask = match(lists.ask, p, all);
  let v: Verdict;
  if (ask) v = verdict("ask", sourceOf(ask, "ask-rule"), ask.rule, shown(ask, p), partIndex, label);
  else if (p.carrier && !dangerous) return null;
  else {
    const allow = p.carrier ? null : (match(lists.allow, p, allowTexts) ?? ctx.wholeAllow);
    const gap = allow ? uncovered(p, allow) : null;
    if (allow && gap) v = effectAsk(p, gap, allow, partIndex, label);
    else if (allow) v = verdict("allow", sourceOf(allow, "allow-rule"), allow.rule, shown(allow, p), partIndex, label);
    else if (p.opaque !== undefined) {
      // Code we cannot read passes only when a rule names it; neither defaults nor modes pass it.
      v = verdict("ask", "unparsed", null, p.display, partIndex, label);
      v.unparsed = p.opaque;
      v.opaque = true;
    } else v = fallback(ctx, p.display, partIndex, label);
  }
  if (dangerous) {
    // May be approved once, never passed silently (see dangerousPatterns in docs/policy.md).
    if (v.decision === "allow") v = verdict("ask", "dangerous", dangerous.rule, shown(dangerous, p), partIndex, label);
    v.dangerous = dangerous.rule;
  }
  return bypass(ctx, v);
}

/** Pipelines and whole lines: they can only make a call stricter. */
function judgeComposite(ctx: Context, c: Composite): Verdict | null {
  const { lists } = ctx;
  const texts = [c.text];
  const deny = lists.deny.first(texts, undefined, false, true);
  if (deny) return verdict("deny", sourceOf(deny, "deny-rule"), deny.rule, c.text, -1, c.label);
  const dangerous = lists.dangerous.first(texts, undefined, false, true);
  if (dangerous) {
    const v = verdict("ask", "dangerous", dangerous.rule, c.text, -1, c.label);
    v.dangerous = dangerous.rule;
    return v;
  }
  if (ctx.wholeAlways) return null;
  const ask = lists.ask.first(texts, undefined, false, true);
  return ask ? bypass(ctx, verdict("ask", sourceOf(ask, "ask-rule"), ask.rule, c.text, -1, c.label)) : null;
}

/**
 * `> file` is a write: judged like a call of the write tool (its rules, its default, the
 * mode), so strict mode asks before `git diff > notes.txt` and `.env` rules hold.
 */
function judgeWrite(ctx: Context, c: Composite): Verdict | null {
  const p = normalisePath(c.text);
  const up = withoutParentSegments(p);
  const part: Part = { display: c.text, levels: [p], denyOnly: up ? [up] : [], allowDepth: 0 };
  return judgePart({ ...ctx, tool: "write", lists: listsFor(ctx.policy, "write") }, part, -1, "write");
}

export interface Judgement {
  /** One entry per part; null for carriers that decided nothing themselves. */
  parts: (Verdict | null)[];
  composites: Verdict[];
}

export function judge(policy: CompiledPolicy, tool: string, subjects: Subjects): Judgement {
  const lists = listsFor(policy, tool);
  const whole = subjects.whole;
  const severalPieces = subjects.parts.length > 1 || subjects.composites.length > 0;
  let anyUnparsed = false;
  for (const p of subjects.parts) if (p.unparsed !== undefined) anyUnparsed = true;
  const ctx: Context = {
    policy,
    tool,
    lists,
    wholeAlways: whole !== null && severalPieces && !anyUnparsed ? lists.alwaysAllow.first([whole], undefined, true) : null,
    wholeAllow: whole !== null && severalPieces ? lists.allow.first([whole], undefined, true) : null,
  };
  const parts: (Verdict | null)[] = [];
  for (let i = 0; i < subjects.parts.length; i++) parts.push(judgePart(ctx, subjects.parts[i] as Part, i, "part"));
  const composites: Verdict[] = [];
  for (const c of subjects.composites) {
    const v = c.label === "write" ? judgeWrite(ctx, c) : judgeComposite(ctx, c);
    if (v) composites.push(v);
  }
  return { parts, composites };
}
