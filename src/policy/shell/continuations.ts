/**
 * Line continuations (`\` + newline) as bash removes them: in its input reader, before any
 * word or token is formed, so `$\<nl>(id)` is `$(id)`, `i\<nl>d` is `id` and `&\<nl>&` is
 * `&&`, in and out of double quotes, in backticks, `${…}`, `$((…))` and unquoted
 * here-documents. Bash keeps them only inside single quotes (`'…'`, `$'…'`, and `'` in
 * `${…}` or `$((…))` outside double quotes), in comments and in quoted here-documents.
 * mvdan-sh does not remove them everywhere bash does (it reads `"$\<nl>(id)"` as text), so
 * both parsers are given the joined line. Checked against bash 5.2 (test/policy/continuations.test.ts).
 */

type Ctx =
  | { kind: "cmd"; closer: boolean; parens: number; cases: number }
  | { kind: "dq" }
  | { kind: "bt" }
  | { kind: "param"; dq: boolean; braces: number }
  | { kind: "arith"; bracket: boolean; depth: number };

interface Heredoc {
  delim: string;
  quoted: boolean;
  stripTabs: boolean;
}

export interface Joined {
  text: string;
  /** Some `\<newline>` was left in place (single quotes, a comment, a quoted here-document). */
  kept: boolean;
}

const BLANK_OR_OP = /[ \t\n;&|()<>]/;

class Scanner {
  i = 0;
  kept = false;
  readonly removed: number[] = [];
  private readonly stack: Ctx[] = [{ kind: "cmd", closer: false, parens: 0, cases: 0 }];
  private pending: Heredoc[] = [];
  /** In command context: the next character starts a word (so `#` starts a comment). */
  private wordStart = true;

  constructor(private readonly s: string) {}

  /** Drops the continuations at the cursor. */
  private skipConts(): void {
    while (this.s.charCodeAt(this.i) === 0x5c && this.s.charCodeAt(this.i + 1) === 0x0a) {
      this.removed.push(this.i);
      this.i += 2;
    }
  }

  /** Moves past one character, then past any continuations after it. */
  private eat(): void {
    this.i++;
    this.skipConts();
  }

  private top(): Ctx {
    return this.stack[this.stack.length - 1] as Ctx;
  }

  scan(): void {
    const s = this.s;
    for (;;) {
      this.skipConts();
      if (this.i >= s.length) return;
      const c = s[this.i] as string;
      if (c === "\\") {
        // An escaped character is taken as it is (`\\` then a newline is no continuation).
        this.i += 2;
        this.wordStart = false;
        continue;
      }
      const ctx = this.top();
      switch (ctx.kind) {
        case "cmd":
          this.command(ctx, c);
          break;
        case "dq":
          if (c === '"') {
            this.stack.pop();
            this.i++;
          } else this.common(c, true);
          break;
        case "bt":
          // Quotes are not special while bash reads backticks: `'a\<nl>b'` in them is joined.
          if (c === "`") this.stack.pop();
          this.i++;
          break;
        case "param":
          if (c === "}" && ctx.braces === 0) {
            this.stack.pop();
            this.i++;
          } else {
            if (c === "{") ctx.braces++;
            else if (c === "}") ctx.braces--;
            if (c === "'" && !ctx.dq) this.singleQuoted();
            else this.common(c, ctx.dq);
          }
          break;
        case "arith":
          this.arith(ctx, c);
          break;
      }
    }
  }

  /** What double quotes, `${…}` and `$((…))` share: nested quotes and expansions. */
  private common(c: string, inDouble: boolean): void {
    if (c === '"') {
      this.stack.push({ kind: "dq" });
      this.i++;
    } else if (c === "`") {
      this.stack.push({ kind: "bt" });
      this.i++;
    } else if (c === "$") this.dollar(inDouble);
    else this.i++;
  }

  private arith(ctx: Extract<Ctx, { kind: "arith" }>, c: string): void {
    const open = ctx.bracket ? "[" : "(";
    const close = ctx.bracket ? "]" : ")";
    if (c === open) {
      ctx.depth++;
      this.i++;
    } else if (c === close) {
      if (ctx.depth > 0) {
        ctx.depth--;
        this.i++;
        return;
      }
      this.stack.pop();
      this.eat();
      if (!ctx.bracket && this.s[this.i] === ")") this.i++;
    } else if (c === "'") this.singleQuoted();
    else this.common(c, false);
  }

  /** `$` at the cursor: what it opens, if anything (continuations may sit between). */
  private dollar(inDouble: boolean): void {
    this.eat();
    const c = this.s[this.i];
    if (c === "(") {
      this.eat();
      if (this.s[this.i] === "(") {
        this.stack.push({ kind: "arith", bracket: false, depth: 0 });
        this.i++;
      } else this.stack.push({ kind: "cmd", closer: true, parens: 0, cases: 0 });
      this.wordStart = true;
    } else if (c === "{") {
      this.stack.push({ kind: "param", dq: inDouble, braces: 0 });
      this.i++;
    } else if (c === "[") {
      this.stack.push({ kind: "arith", bracket: true, depth: 0 });
      this.i++;
    } else if (c === "'" && !inDouble) this.ansiQuoted();
    else if (c === '"' && !inDouble) {
      this.stack.push({ kind: "dq" });
      this.i++;
    }
  }

  private command(ctx: Extract<Ctx, { kind: "cmd" }>, c: string): void {
    const s = this.s;
    if (c === "\n") {
      this.i++;
      this.wordStart = true;
      if (this.pending.length > 0) this.heredocBodies();
      return;
    }
    if (c === "#" && this.wordStart) {
      // A comment ends at the next newline, backslash or not.
      const end = s.indexOf("\n", this.i);
      const stop = end < 0 ? s.length : end;
      if (end > 0 && s[end - 1] === "\\") this.kept = true;
      this.i = stop;
      return;
    }
    if (BLANK_OR_OP.test(c)) {
      this.wordStart = true;
      if (c === "(") ctx.parens++;
      else if (c === ")") {
        if (ctx.parens > 0) ctx.parens--;
        else if (ctx.cases === 0 && ctx.closer) {
          this.stack.pop();
          this.wordStart = false;
        }
      } else if (c === "<") {
        this.redirection();
        return;
      }
      this.i++;
      return;
    }
    if (this.wordStart) {
      if (keywordAt(s, this.i, "case")) ctx.cases++;
      else if (keywordAt(s, this.i, "esac") && ctx.cases > 0) ctx.cases--;
    }
    this.wordStart = false;
    if (c === "'") this.singleQuoted();
    else this.common(c, false);
  }

  private singleQuoted(): void {
    const end = this.s.indexOf("'", this.i + 1);
    const stop = end < 0 ? this.s.length : end + 1;
    if (this.s.slice(this.i, stop).includes("\\\n")) this.kept = true;
    this.i = stop;
  }

  /** `$'…'`: a backslash escapes the next character, a newline included. */
  private ansiQuoted(): void {
    const s = this.s;
    let i = this.i + 1;
    while (i < s.length && s[i] !== "'") {
      if (s[i] === "\\") {
        if (s[i + 1] === "\n") this.kept = true;
        i++;
      }
      i++;
    }
    this.i = Math.min(i + 1, s.length);
  }

  /** `<` in command context: a here-document's delimiter is noted, its body read after the line. */
  private redirection(): void {
    this.eat();
    if (this.s[this.i] !== "<") return;
    this.eat();
    if (this.s[this.i] === "<") {
      this.i++;
      return;
    }
    let stripTabs = false;
    if (this.s[this.i] === "-") {
      stripTabs = true;
      this.eat();
    }
    while (this.s[this.i] === " " || this.s[this.i] === "\t") this.eat();
    const word = this.delimiterWord();
    if (word !== null) this.pending.push({ ...word, stripTabs });
  }

  /** The here-document delimiter at the cursor, quotes removed; null when there is none. */
  private delimiterWord(): { delim: string; quoted: boolean } | null {
    const s = this.s;
    let delim = "";
    let quoted = false;
    for (;;) {
      this.skipConts();
      const c = s[this.i];
      if (c === undefined || BLANK_OR_OP.test(c)) break;
      if (c === "'" || c === '"') {
        quoted = true;
        const end = s.indexOf(c, this.i + 1);
        const stop = end < 0 ? s.length : end;
        delim += s.slice(this.i + 1, stop).replace(c === '"' ? /\\\n/g : /(?!)/g, "");
        if (c === "'" && s.slice(this.i, stop).includes("\\\n")) this.kept = true;
        this.i = Math.min(stop + 1, s.length);
      } else if (c === "\\") {
        quoted = true;
        delim += s[this.i + 1] ?? "";
        this.i += 2;
      } else {
        delim += c;
        this.i++;
      }
    }
    return delim.length > 0 || quoted ? { delim, quoted } : null;
  }

  /**
   * The bodies of the here-documents opened on the line just ended, in order. An unquoted
   * body is read with its continuations removed (so `x\<nl>EOF` does not end it), a quoted
   * one as it is.
   */
  private heredocBodies(): void {
    const s = this.s;
    for (const doc of this.pending) {
      while (this.i < s.length) {
        let line: string;
        if (doc.quoted) {
          const end = s.indexOf("\n", this.i);
          const stop = end < 0 ? s.length : end;
          line = s.slice(this.i, stop);
          if (line.endsWith("\\") && end >= 0) this.kept = true;
          this.i = end < 0 ? s.length : end + 1;
        } else line = this.logicalLine();
        if ((doc.stripTabs ? line.replace(/^\t+/, "") : line) === doc.delim) break;
      }
    }
    this.pending = [];
    this.wordStart = true;
  }

  /** One line of an unquoted here-document, continuations removed; the cursor moves past its newline. */
  private logicalLine(): string {
    const s = this.s;
    let line = "";
    for (;;) {
      this.skipConts();
      const c = s[this.i];
      if (c === undefined) return line;
      if (c === "\n") {
        this.i++;
        return line;
      }
      if (c === "\\") {
        line += s.slice(this.i, this.i + 2);
        this.i += 2;
        continue;
      }
      line += c;
      this.i++;
    }
  }
}

function keywordAt(s: string, i: number, word: string): boolean {
  if (!s.startsWith(word, i)) return false;
  const next = s[i + word.length];
  return next === undefined || BLANK_OR_OP.test(next);
}

/** `line` with every continuation bash would remove removed. */
export function joinContinuations(line: string): Joined {
  if (!line.includes("\\\n")) return { text: line, kept: false };
  const scanner = new Scanner(line);
  scanner.scan();
  let text = "";
  let from = 0;
  for (const at of scanner.removed) {
    text += line.slice(from, at);
    from = at + 2;
  }
  text += line.slice(from);
  return { text, kept: scanner.kept };
}

/**
 * The readings of `line` worth analysing, the most faithful first: bash's own; when a
 * continuation was kept (in quotes, a comment, a quoted here-document), also every `\<nl>`
 * removed, so a misjudged quote can only add commands to judge; with a `#` or `<<`, also the
 * line as written (see below); when the line has CRLF line
 * ends, also the reading of a runtime that turns them into LF first (`\<CR><LF>` is then a
 * continuation; bash itself reads `\<CR>` as an escaped CR).
 */
export function continuationReadings(line: string): string[] {
  const first = joinContinuations(line);
  const out = [first.text];
  if (first.kept) out.push(line.replace(/\\\n/g, ""));
  // A comment or here-document the scanner missed would hide the lines it joined: the full
  // parser's own reading of the line as written keeps them apart.
  if (line.includes("#") || line.includes("<<")) out.push(line);
  if (line.includes("\\\r\n")) {
    const lf = joinContinuations(line.replace(/\r\n/g, "\n"));
    out.push(lf.text);
    if (lf.kept) out.push(line.replace(/\r\n/g, "\n").replace(/\\\n/g, ""));
  }
  return out.filter((t, i) => out.indexOf(t) === i);
}
