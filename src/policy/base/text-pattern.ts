export interface TextPattern {
  re: RegExp;
  /** Literal first word every match starts with, for indexing; null when it has a wildcard. */
  head: string | null;
  /** Literal first two words every match starts with, for a finer index; null when unknown. */
  head2: string | null;
  /** A literal every match contains: a cheap `includes` rules most texts out before the regex. */
  literal: string;
}

/** Index of the first `*` not escaped by a backslash, or -1. */
export function unescapedStar(content: string): number {
  for (let i = 0; i < content.length; i++) {
    const c = content[i];
    if (c === "\\") i++;
    else if (c === "*") return i;
  }
  return -1;
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

/** Runs of spaces count as one, in rules and in the texts they match. */
export function collapseSpaces(text: string): string {
  return text.includes("  ") ? text.replace(/ {2,}/g, " ") : text;
}

function unescape(literal: string): string {
  return literal.replace(/\\([\\*])/g, "$1");
}

function literalRe(literal: string): string {
  return unescape(literal).replace(REGEX_SPECIAL, "\\$&");
}

/** Splits on unescaped stars. */
function splitStars(content: string): string[] {
  const pieces: string[] = [];
  let rest = content;
  for (let i = unescapedStar(rest); i >= 0; i = unescapedStar(rest)) {
    pieces.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  pieces.push(rest);
  return pieces;
}

/** The first `words` complete words of a literal prefix, if the prefix has that many. */
function leadingWords(literalPrefix: string, complete: boolean, words: number): string | null {
  const parts = literalPrefix.split(" ");
  // Without a following space the last word may be extended by a wildcard, unless complete.
  const known = complete ? parts.length : parts.length - 1;
  return known >= words ? unescape(parts.slice(0, words).join(" ")) : null;
}

function longestLiteral(pieces: string[]): string {
  let best = "";
  for (const p of pieces) {
    const lit = unescape(p).trim();
    if (lit.length > best.length) best = lit;
  }
  return best;
}

/**
 * Compiles command-like content (shell commands, plugin tool content, URLs):
 * - `git push:*` (legacy): "git push" alone or followed by a space and anything;
 * - `*` matches any run of characters, spaces included;
 * - a trailing ` *` also matches nothing at all, so `git diff *` matches bare "git diff"
 *   and `rm -rf *` matches the "rm -rf" xargs runs;
 * - `\*` is a literal star and `\\` a literal backslash.
 */
export function compileTextPattern(rawContent: string): TextPattern {
  const content = collapseSpaces(rawContent.trim());
  if (content.endsWith(":*") && unescapedStar(content) === content.length - 1) {
    const prefix = content.slice(0, -2);
    return {
      re: new RegExp(`^${literalRe(prefix)}(?: [\\s\\S]*)?$`),
      head: leadingWords(prefix, true, 1),
      head2: leadingWords(prefix, true, 2),
      literal: unescape(prefix).trim(),
    };
  }
  const pieces = splitStars(content);
  const last = pieces.length - 1;
  let body = "";
  pieces.forEach((piece, i) => {
    if (i === last) {
      body += literalRe(piece);
      return;
    }
    const next = pieces[i + 1];
    if (i === last - 1 && next === "" && piece.endsWith(" ")) {
      body += `${literalRe(piece.slice(0, -1))}(?: [\\s\\S]*)?`;
      return;
    }
    body += `${literalRe(piece)}[\\s\\S]*`;
  });
  const first = pieces[0] ?? "";
  const complete = pieces.length === 1;
  return { re: new RegExp(`^${body}$`), head: leadingWords(first, complete, 1), head2: leadingWords(first, complete, 2), literal: longestLiteral(pieces) };
}
