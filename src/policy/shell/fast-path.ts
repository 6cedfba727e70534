import type { Word } from "./types.ts";

/**
 * Lines made only of these characters need no shell parser: none of them quotes, escapes,
 * expands (`$`, `~`, `*`, `?`, `[`, `{`), comments (`#`), redirects or separates commands
 * (`|&;<>()`, newline, tab). The shell then splits on spaces and nothing else — exactly
 * what `split(" ")` does. Two things remain special and are sent to the parser instead:
 * a `NAME=value` first word (an assignment) and a reserved word in command position.
 */
const SAFE = /^[A-Za-z0-9 \-_./:=@%+,]*$/;

const RESERVED = new Set(["if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do", "done", "function", "in", "coproc", "time"]);

/** The argv of a safe line, or null when the line needs the real parser. */
export function fastSplit(line: string): Word[] | null {
  if (!SAFE.test(line)) return null;
  const parts = line.split(" ").filter((p) => p.length > 0);
  const head = parts[0];
  if (head === undefined || head.includes("=") || RESERVED.has(head)) return null;
  return parts.map((text) => ({ text, dynamic: false, glob: false }));
}
