import { homedir } from "node:os";
import picomatch from "picomatch";
import type { ParsedRule } from "./rule.ts";
import { OptionRule } from "./options.ts";
import { pathLiteral } from "./base/path-literal.ts";
import { compileTextPattern } from "./base/text-pattern.ts";
import type { ContentKind } from "./call/subjects.ts";

/** Tests one subject of a call against one rule's content. */
export interface ContentMatcher {
  /** `composite`: `text` is a whole pipeline or line, not one command (options are then read as written). */
  test(text: string, host: string | undefined, composite?: boolean): boolean;
  /** Set when a match of `text` by this regex is a match of the rule (lists test it directly). */
  re: RegExp | null;
  /** Set for an option-aware command rule: texts `re` does not match may still be other spellings. */
  options: OptionRule | null;
  /** Literal first word of every match, for indexing command rules; null when unknown. */
  head: string | null;
  /** Literal first two words of every match, for a finer index; null when unknown. */
  head2: string | null;
  /** A literal every matching text contains (checked with `includes` before the regex). */
  literal: string | null;
  /** A key every match is filed under, so rule lists look up candidates instead of scanning all. */
  index: IndexKey | null;
  /**
   * An option-aware rule naming a subcommand: every match starts with one of these two words
   * (`npm install`, `npm i`) unless options come before the subcommand (`kubectl -n x delete`),
   * when it starts with `head` and an option.
   */
  subcommandHeads?: readonly string[];
}

/**
 * - `seg`: a whole path segment every matching path has (`src/module5/**` → "module5");
 * - `ext`: the last dot-part of every matching file name (last segment `*.conf` → "conf");
 * - `host`: the domain of a `domain:` rule; a host is looked up with each of its parent domains;
 * - `url`: `scheme://authority` of a URL rule whose literal prefix spells it out.
 */
export interface IndexKey {
  space: "seg" | "ext" | "host" | "url";
  key: string;
}

const NEVER: ContentMatcher = { test: () => false, re: null, options: null, head: null, head2: null, literal: null, index: null };

function regexMatcher(re: RegExp, literal: string | null, head: string | null = null, head2: string | null = null, index: IndexKey | null = null): ContentMatcher {
  return { test: (text) => re.test(text), re, options: null, head, head2, literal: literal === "" ? null : literal, index };
}

const GLOB_SPECIAL = /[*?[\]{}()!+@\\]/;

/** What every path a (picomatch) glob matches must have: its longest literal segment, or its extension. */
function pathIndex(glob: string): IndexKey | null {
  if (glob.includes("!")) return null;
  const segments = glob.split("/");
  let best = "";
  for (const seg of segments) {
    if (seg === "" || seg === "." || seg === ".." || GLOB_SPECIAL.test(seg)) continue;
    if (seg.length > best.length) best = seg;
  }
  if (best) return { space: "seg", key: best };
  const ext = /^\*\.([^*?[\]{}()!+@\\/]+)$/.exec(segments[segments.length - 1] ?? "");
  if (ext) {
    const suffix = ext[1] as string;
    return { space: "ext", key: suffix.slice(suffix.lastIndexOf(".") + 1) };
  }
  return null;
}

/** The text up to its third slash (`https://host`), or null. */
export function urlAuthority(text: string): string | null {
  const a = text.indexOf("//");
  if (a < 0) return null;
  const b = text.indexOf("/", a + 2);
  return b < 0 ? null : text.slice(0, b);
}

/** Index key of a URL text rule: its literal prefix (before any `*`) must reach the path. */
function urlIndex(content: string): IndexKey | null {
  const c = content.trim();
  const star = c.indexOf("*");
  const prefix = star < 0 ? c : c.slice(0, star);
  if (prefix.includes("\\") || prefix.includes(" ")) return null;
  const key = urlAuthority(prefix);
  return key === null ? null : { space: "url", key };
}

/** `~/x` means the gateway user's home, in rules and in paths alike. */
export function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? homedir() + path.slice(1) : path;
}

/**
 * Path globs (picomatch, dotfiles included). Without a cwd we cannot resolve relative
 * rules, so a relative glob matches at any directory boundary: `.env*` behaves like
 * `**` + `/.env*`, and `src/**` matches `/home/u/app/src/x`. Anchor with `/` or `~/`.
 */
function pathGlob(content: string): string {
  let glob = expandHome(content.trim());
  if (glob.startsWith("./")) glob = glob.slice(2);
  return glob.startsWith("/") || glob.startsWith("**") ? glob : `**/${glob}`;
}

export function compilePathGlob(content: string): RegExp {
  return picomatch.makeRe(pathGlob(content), { dot: true });
}

function domainMatcher(content: string): ContentMatcher {
  const domain = content.slice("domain:".length).trim().toLowerCase();
  if (domain.startsWith("*.")) {
    const suffix = domain.slice(1);
    return { test: (_t, host) => host !== undefined && host.endsWith(suffix), re: null, options: null, head: null, head2: null, literal: null, index: suffix.length > 1 ? { space: "host", key: suffix.slice(1) } : null };
  }
  // A domain covers its subdomains, as in a cookie's Domain attribute.
  const suffix = `.${domain}`;
  return { test: (_t, host) => host !== undefined && (host === domain || host.endsWith(suffix)), re: null, options: null, head: null, head2: null, literal: null, index: domain.length > 0 ? { space: "host", key: domain } : null };
}

/**
 * A command rule that also matches every spelling of its options (deny, ask and dangerous
 * lists; see options.ts). It matches whatever the plain text pattern matches, and more.
 */
function optionMatcher(content: string): ContentMatcher | null {
  const options = OptionRule.compile(content);
  if (options === null) return null;
  const { re } = compileTextPattern(content);
  // Indexed by the command alone: `rm -fr` is not filed under the rule's "rm -rf".
  // A pipeline or line holds other commands' options: its parts are each judged with theirs.
  const m: ContentMatcher = { test: (text, _host, composite) => re.test(text) || (composite !== true && options.testOtherSpellings(text)), re, options, head: options.command, head2: null, literal: options.command, index: null };
  const heads = options.subcommandHeads;
  if (heads !== null) m.subcommandHeads = heads;
  return m;
}

/**
 * Compiles a rule's content for a tool of the given kind; null for a bare `Tool` rule.
 * `optionAware`: shell rules also match other spellings of the options they name.
 */
export function compileMatcher(parsed: ParsedRule, kind: ContentKind, optionAware = false): ContentMatcher | null {
  const content = parsed.content;
  if (content === null) return null;
  switch (kind) {
    case "path":
      try {
        const glob = pathGlob(content);
        return regexMatcher(compilePathGlob(content), pathLiteral(glob), null, null, pathIndex(glob));
      } catch {
        // Only reachable for `*(…)` rules not validated as globs: fall back to text matching.
        const p = compileTextPattern(content);
        return regexMatcher(p.re, p.literal);
      }
    case "url": {
      if (parsed.form === "domain") return domainMatcher(content);
      const p = compileTextPattern(content);
      return regexMatcher(p.re, p.literal, null, null, urlIndex(content));
    }
    case "shell":
      if (optionAware) {
        const m = optionMatcher(content);
        if (m) return m;
      }
      return compileText(content);
    case "text":
      return compileText(content);
    case "none":
      // Tools without extractable content only match `Tool` and `Tool(*)` (see RuleList).
      return NEVER;
  }
}

function compileText(content: string): ContentMatcher {
  const p = compileTextPattern(content);
  return regexMatcher(p.re, p.literal, p.head, p.head2);
}
