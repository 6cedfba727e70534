import { homedir } from "node:os";
import picomatch from "picomatch";
import type { ParsedRule } from "./rule.ts";
import { compileTextPattern } from "./text-pattern.ts";
import type { ContentKind } from "./tools.ts";

/** Tests one subject of a call against one rule's content. */
export interface ContentMatcher {
  test(text: string, host: string | undefined): boolean;
  /** Set when the matcher is a plain regex test of `text`: lets lists pre-filter many rules with one regex. */
  re: RegExp | null;
  /** Literal first word of every match, for indexing command rules; null when unknown. */
  head: string | null;
  /** Literal first two words of every match, for a finer index; null when unknown. */
  head2: string | null;
  /** A literal every matching text contains (checked with `includes` before the regex). */
  literal: string | null;
}

const NEVER: ContentMatcher = { test: () => false, re: null, head: null, head2: null, literal: null };

function regexMatcher(re: RegExp, literal: string | null, head: string | null = null, head2: string | null = null): ContentMatcher {
  return { test: (text) => re.test(text), re, head, head2, literal: literal === "" ? null : literal };
}

/**
 * The longest glob-free run of a path glob, without its outer slashes: any path the glob
 * matches contains it (`src/**` → "src", `.env*` → ".env").
 */
export function pathLiteral(glob: string): string {
  let best = "";
  for (const run of glob.split(/[\\*?[\]{}()!+@]/)) {
    const lit = run.replace(/^\/+|\/+$/g, "");
    if (lit.length > best.length) best = lit;
  }
  return best;
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
    return { test: (_t, host) => host !== undefined && host.endsWith(suffix), re: null, head: null, head2: null, literal: null };
  }
  // A domain covers its subdomains, as in a cookie's Domain attribute.
  const suffix = `.${domain}`;
  return { test: (_t, host) => host !== undefined && (host === domain || host.endsWith(suffix)), re: null, head: null, head2: null, literal: null };
}

/** Compiles a rule's content for a tool of the given kind; null for a bare `Tool` rule. */
export function compileMatcher(parsed: ParsedRule, kind: ContentKind): ContentMatcher | null {
  const content = parsed.content;
  if (content === null) return null;
  switch (kind) {
    case "path":
      try {
        return regexMatcher(compilePathGlob(content), pathLiteral(pathGlob(content)));
      } catch {
        // Only reachable for `*(…)` rules not validated as globs: fall back to text matching.
        const p = compileTextPattern(content);
        return regexMatcher(p.re, p.literal);
      }
    case "url": {
      if (parsed.form === "domain") return domainMatcher(content);
      const p = compileTextPattern(content);
      return regexMatcher(p.re, p.literal);
    }
    case "shell":
    case "text": {
      const p = compileTextPattern(content);
      return regexMatcher(p.re, p.literal, p.head, p.head2);
    }
    case "none":
      // Tools without extractable content only match `Tool` and `Tool(*)` (see RuleList).
      return NEVER;
  }
}
