import { compileMatcher, urlAuthority } from "./matcher.ts";
import type { ContentMatcher, IndexKey } from "./matcher.ts";
import { unescapedStar } from "./base/text-pattern.ts";
import { unescapeStars } from "./rule.ts";
import type { ParsedRule } from "./rule.ts";
import type { ContentKind } from "./call/subjects.ts";
import type { ToolKinds } from "./tools.ts";

/** Where a rule came from: the config file, `clawgate policy set`, or a saved allow-always. */
export type RuleOrigin = "config" | "override" | "always-allow";

/** `mcp__github__*` → /^mcp__github__.*$/; `\\*` stays a literal star. */
function toolPattern(tool: string): RegExp {
  const pieces: string[] = [];
  let rest = tool;
  for (let i = unescapedStar(rest); i >= 0; i = unescapedStar(rest)) {
    pieces.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  pieces.push(rest);
  return new RegExp(`^${pieces.map((s) => unescapeStars(s).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join(".*")}$`);
}

/** A parsed rule with its content matchers compiled once per content kind. */
export class CompiledRule {
  readonly parsed: ParsedRule;
  /** Set when the tool name has a `*`. */
  readonly toolRe: RegExp | null;
  private readonly matchers = new Map<string, ContentMatcher | null>();

  constructor(parsed: ParsedRule) {
    this.parsed = parsed;
    this.toolRe = parsed.toolName === null ? toolPattern(parsed.tool) : null;
  }

  /** `optionAware`: also every spelling of the options a command rule names (see options.ts). */
  matcher(kind: ContentKind, optionAware = false): ContentMatcher | null {
    const key = optionAware ? `${kind}+options` : kind;
    let m = this.matchers.get(key);
    if (m === undefined) {
      m = compileMatcher(this.parsed, kind, optionAware);
      this.matchers.set(key, m);
    }
    return m;
  }
}

export interface RuleEntry {
  rule: CompiledRule;
  origin: RuleOrigin;
  /** Position across the list, for reporting the first rule that matched. */
  order: number;
}

interface ToolEntry {
  order: number;
  entry: RuleEntry;
  matcher: ContentMatcher;
  literal: string | null;
  exact: boolean;
}

export interface RuleHit {
  rule: string;
  origin: RuleOrigin;
  /** The subject text the rule matched. */
  text: string;
  /** The rule's content (null for a bare `Tool` rule) and whether it has no wildcard. */
  content: string | null;
  exact: boolean;
}

function hitOf(e: RuleEntry, text: string): RuleHit {
  const parsed = e.rule.parsed;
  return { rule: parsed.rule, origin: e.origin, text, content: parsed.content, exact: parsed.form === "exact" };
}

/** The same texts are looked up in five lists in a row: remember the last few answers. */
const recentHeads: { text: string; heads: [string, string | null] }[] = [];

function firstWords(text: string): [string, string | null] {
  for (const r of recentHeads) if (r.text === text) return r.heads;
  const a = text.indexOf(" ");
  const b = a < 0 ? -1 : text.indexOf(" ", a + 1);
  const heads: [string, string | null] = a < 0 ? [text, null] : [text.slice(0, a), b < 0 ? text : text.slice(0, b)];
  if (recentHeads.length >= 4) recentHeads.pop();
  recentHeads.unshift({ text, heads });
  return heads;
}

/** Adds a candidate list once. */
function addList(out: ToolEntry[][], list: ToolEntry[] | undefined): void {
  if (list !== undefined && !out.includes(list)) out.push(list);
}

function add(map: Map<string, ToolEntry[]>, key: string, e: ToolEntry): void {
  const bucket = map.get(key);
  if (bucket) bucket.push(e);
  else map.set(key, [e]);
}

/**
 * One list's rules for one tool, indexed for matching. Command rules are bucketed by their
 * literal first two words (or first word), so `git status` is only tested against `git …`
 * rules; every rule also carries a literal that a cheap `includes` checks before the regex.
 */
export class ToolRules {
  private readonly bare: RuleEntry | null;
  private readonly star: RuleEntry | null;
  private readonly byHead = new Map<string, ToolEntry[]>();
  private readonly byHead2 = new Map<string, ToolEntry[]>();
  /** Subcommand rules by command, for texts with options before the subcommand. */
  private readonly byOptionHead = new Map<string, ToolEntry[]>();
  private readonly generic: ToolEntry[] = [];
  /** Path, file-extension, domain and URL rules by their index key (see IndexKey). */
  private readonly byKey: Record<IndexKey["space"], Map<string, ToolEntry[]>> = { seg: new Map(), ext: new Map(), host: new Map(), url: new Map() };
  private readonly keyed: boolean;
  readonly empty: boolean;

  constructor(entries: RuleEntry[], kind: ContentKind, optionAware = false) {
    let bare: RuleEntry | null = null;
    let star: RuleEntry | null = null;
    for (const e of entries) {
      const content = e.rule.parsed.content;
      if (content === null) {
        bare ??= e;
        continue;
      }
      if (content === "*") star ??= e;
      const matcher = e.rule.matcher(kind, optionAware);
      if (!matcher) continue;
      const te: ToolEntry = { order: e.order, entry: e, matcher, literal: matcher.literal, exact: e.rule.parsed.form === "exact" };
      if (matcher.subcommandHeads !== undefined && matcher.head !== null) {
        for (const h of matcher.subcommandHeads) add(this.byHead2, h, te);
        add(this.byOptionHead, matcher.head, te);
      } else if (matcher.head2 !== null) add(this.byHead2, matcher.head2, te);
      else if (matcher.head !== null) add(this.byHead, matcher.head, te);
      else if (matcher.index !== null) add(this.byKey[matcher.index.space], matcher.index.key, te);
      else this.generic.push(te);
    }
    this.keyed = Object.values(this.byKey).some((m) => m.size > 0);
    this.bare = bare;
    this.star = star;
    this.empty = entries.length === 0;
  }

  /** Earliest entry of `list` (already sorted) matching `text` and earlier than `bestOrder`. */
  private static scan(list: readonly ToolEntry[] | undefined, text: string, host: string | undefined, bestOrder: number, exactOnly: boolean, composite: boolean): ToolEntry | null {
    if (list === undefined) return null;
    for (const e of list) {
      if (e.order >= bestOrder) return null;
      if (exactOnly && !e.exact) continue;
      if (e.literal !== null && !text.includes(e.literal)) continue;
      // Regex rules (most) are tested here directly: one call shape on the hot path.
      const m = e.matcher;
      if (m.re !== null ? m.re.test(text) : m.test(text, host, composite)) return e;
      if (m.options !== null && !composite && m.options.testOtherSpellings(text)) return e;
    }
    return null;
  }

  /**
   * The earliest rule (in list order) matching any of `texts`. `exactOnly` restricts to rules
   * without wildcards: those alone may judge a whole compound line.
   */
  first(texts: readonly string[], host: string | undefined, exactOnly = false, composite = false): RuleHit | null {
    if (this.empty) return null;
    let best: RuleEntry | null = exactOnly ? null : this.bare;
    let bestOrder = best ? best.order : Number.POSITIVE_INFINITY;
    let bestText = texts[0] ?? "";
    const indexed = this.byHead.size > 0 || this.byHead2.size > 0 || this.byOptionHead.size > 0;
    for (const text of texts) {
      let hit: ToolEntry | null = null;
      if (indexed) {
        const [h1, h2] = firstWords(text);
        if (h2 !== null) hit = ToolRules.scan(this.byHead2.get(h2), text, host, bestOrder, exactOnly, composite);
        const h = ToolRules.scan(this.byHead.get(h1), text, host, hit ? hit.order : bestOrder, exactOnly, composite);
        if (h) hit = h;
        if (h2 !== null && this.byOptionHead.size > 0 && text.charCodeAt(h1.length + 1) === 0x2d) {
          const o = ToolRules.scan(this.byOptionHead.get(h1), text, host, hit ? hit.order : bestOrder, exactOnly, composite);
          if (o) hit = o;
        }
      }
      if (this.keyed) {
        for (const list of this.candidates(text, host)) {
          const k = ToolRules.scan(list, text, host, hit ? hit.order : bestOrder, exactOnly, composite);
          if (k) hit = k;
        }
      }
      const g = ToolRules.scan(this.generic, text, host, hit ? hit.order : bestOrder, exactOnly, composite);
      if (g) hit = g;
      if (hit) {
        best = hit.entry;
        bestOrder = hit.order;
        bestText = text;
      }
    }
    return best ? hitOf(best, bestText) : null;
  }

  /** The keyed lists a text (and host) could match: a few map lookups instead of every rule. */
  private candidates(text: string, host: string | undefined): ToolEntry[][] {
    const out: ToolEntry[][] = [];
    const { seg, ext, host: hosts, url } = this.byKey;
    if (seg.size > 0) {
      for (let from = 0; from <= text.length; ) {
        let to = text.indexOf("/", from);
        if (to < 0) to = text.length;
        addList(out, seg.get(text.slice(from, to)));
        from = to + 1;
      }
    }
    if (ext.size > 0) {
      const base = text.slice(text.lastIndexOf("/") + 1);
      const dot = base.lastIndexOf(".");
      if (dot >= 0) addList(out, ext.get(base.slice(dot + 1)));
    }
    if (hosts.size > 0 && host !== undefined) {
      for (let h = host; ; ) {
        addList(out, hosts.get(h));
        const dot = h.indexOf(".");
        if (dot < 0) break;
        h = h.slice(dot + 1);
      }
    }
    if (url.size > 0) {
      const key = urlAuthority(text);
      if (key !== null) addList(out, url.get(key));
    }
    return out;
  }

  /** For calls with no content: only `Tool` and `Tool(*)` can match. */
  firstNoContent(): RuleHit | null {
    const hit = this.bare && (!this.star || this.bare.order < this.star.order) ? this.bare : this.star;
    return hit ? hitOf(hit, "") : null;
  }
}

/** One decision list (deny, ask, allow, …) across all tools. */
export class RuleList {
  private readonly byTool = new Map<string, RuleEntry[]>();
  private readonly patterned: RuleEntry[] = [];
  private readonly cache = new Map<string, ToolRules>();

  /**
   * `optionAware`: command rules also match other spellings of their options — for lists
   * that can only make a call stricter (deny, ask, dangerous). Allow lists match as written.
   */
  constructor(
    entries: readonly RuleEntry[],
    private readonly kinds: ToolKinds,
    private readonly optionAware = false,
  ) {
    for (const e of entries) {
      if (e.rule.toolRe) this.patterned.push(e);
      else {
        const name = e.rule.parsed.toolName as string;
        const list = this.byTool.get(name);
        if (list) list.push(e);
        else this.byTool.set(name, [e]);
      }
    }
  }

  forTool(tool: string): ToolRules {
    const cached = this.cache.get(tool);
    if (cached) return cached;
    const named = this.kinds.ruleTools(tool).flatMap((t) => this.byTool.get(t) ?? []);
    const entries = [...named, ...this.patterned.filter((e) => e.rule.toolRe?.test(tool))].sort((a, b) => a.order - b.order);
    const rules = new ToolRules(entries, this.kinds.kindOf(tool), this.optionAware);
    // Tool names come from agents; do not let a stream of invented names grow this forever.
    if (this.cache.size < 1024) this.cache.set(tool, rules);
    return rules;
  }
}
