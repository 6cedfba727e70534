/**
 * A small parser for the shell lines agents send most: simple commands joined by `|`, `&&`,
 * `||` and `;`, with single and double quotes, `$NAME`, `${NAME}`, `$(…)` and plain output
 * redirections. It exists because a first parse through the GopherJS mvdan-sh costs
 * 0.2–0.5 ms and churns garbage; this one costs a few µs. It never guesses: anything outside
 * its subset (backticks, heredocs, `(`, `{`, `&`, reserved words, assignments,
 * `$'…'`, `${…}` with operators, newlines, non-ASCII, …) returns null and the line goes to
 * the full parser. test/policy/lexer-differential.test.ts holds it to the full parser's analysis.
 */

/** One piece of a word; `text` is what the analysis shows for it. */
export interface LexPart {
  text: string;
  dynamic: boolean;
  glob: boolean;
  /** Commands inside a `$(…)`, judged on their own. */
  subst?: LexList;
}

export interface LexWord {
  parts: LexPart[];
}

export interface LexRedirect {
  /** As the full parser renders it: operator and target with no space between. */
  op: string;
  target: LexWord;
  /** `>` `>>` `>|` `&>` `&>>`, or `>&` to something that is not a descriptor. */
  writes: boolean;
}

export interface LexCommand {
  words: LexWord[];
  redirects: LexRedirect[];
}

/** Stages of one pipeline. */
export type LexPipeline = LexCommand[];

export interface LexAndOr {
  first: LexPipeline;
  rest: { op: "&&" | "||"; pipeline: LexPipeline }[];
}

export type LexList = LexAndOr[];

/** First words the full parser treats as syntax or declarations. */
const KEYWORDS = new Set(["if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do", "done", "function", "in", "coproc", "time", "declare", "local", "export", "readonly", "typeset", "nameref", "let", "!", "[[", "]]"]);

const MAX_SUBST_DEPTH = 8;

/** Characters that may appear unquoted inside a word (besides the glob characters `*?[`). */
const WORD_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:=@%+,~^]!") WORD_CHAR[c.charCodeAt(0)] = 1;
for (const c of "*?[") WORD_CHAR[c.charCodeAt(0)] = 2;
for (const c of "{}") WORD_CHAR[c.charCodeAt(0)] = 3;
/** As in words.ts: a run that could brace-expand goes to the full parser. */
const BRACE_CANDIDATE = /\{[^}]*(,|\.\.)[^}]*\}/;

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

class Bail extends Error {}
const BAIL = new Bail();

class Lexer {
  pos = 0;
  constructor(private readonly s: string) {}

  private peek(off = 0): string {
    return this.s[this.pos + off] ?? "";
  }

  private blanks(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }

  /** A comment runs to the end of the line; lines hold no newline here. */
  private atComment(): boolean {
    return this.peek() === "#";
  }

  list(depth: number, closer: string): LexList {
    const out: LexList = [];
    for (;;) {
      this.blanks();
      if (this.atComment()) this.pos = this.s.length;
      if (this.pos >= this.s.length || this.peek() === closer) {
        if (out.length === 0 && depth > 0) throw BAIL;
        return out;
      }
      out.push(this.andOr(depth));
      this.blanks();
      if (this.atComment()) this.pos = this.s.length;
      const c = this.peek();
      if (c === ";") {
        if (this.peek(1) === ";" || this.peek(1) === "&") throw BAIL;
        this.pos++;
        continue;
      }
      if (this.pos >= this.s.length || c === closer) return out;
      throw BAIL;
    }
  }

  private andOr(depth: number): LexAndOr {
    const first = this.pipeline(depth);
    const rest: LexAndOr["rest"] = [];
    for (;;) {
      this.blanks();
      const two = this.s.slice(this.pos, this.pos + 2);
      if (two !== "&&" && two !== "||") return { first, rest };
      this.pos += 2;
      rest.push({ op: two, pipeline: this.pipeline(depth) });
    }
  }

  private pipeline(depth: number): LexPipeline {
    const stages: LexPipeline = [this.command(depth)];
    for (;;) {
      this.blanks();
      if (this.peek() !== "|" || this.peek(1) === "|" || this.peek(1) === "&") return stages;
      this.pos++;
      stages.push(this.command(depth));
    }
  }

  private command(depth: number): LexCommand {
    const words: LexWord[] = [];
    const redirects: LexRedirect[] = [];
    for (;;) {
      this.blanks();
      const c = this.peek();
      if (c === "" || c === ";" || c === "|" || c === "&" || c === ")" || c === "#") break;
      if (c === ">" || c === "<") {
        redirects.push(this.redirect(""));
        continue;
      }
      const start = this.pos;
      const word = this.word(depth);
      // `2>file`: a word of digits glued to `>` is the descriptor.
      if (this.peek() === ">" || this.peek() === "<") {
        const raw = this.s.slice(start, this.pos);
        if (/^\d+$/.test(raw)) {
          redirects.push(this.redirect(raw));
          continue;
        }
        throw BAIL;
      }
      words.push(word);
    }
    if (this.peek() === "&" && this.peek(1) !== "&") throw BAIL;
    if (words.length === 0) throw BAIL;
    const head = words[0] as LexWord;
    const headText = head.parts.map((p) => p.text).join("");
    if (KEYWORDS.has(headText) || headText.includes("=") || headText.startsWith("{") || headText.startsWith("}")) throw BAIL;
    return { words, redirects };
  }

  private redirect(fd: string): LexRedirect {
    let op: string;
    const rest = this.s.slice(this.pos, this.pos + 3);
    if (rest.startsWith(">>")) op = ">>";
    else if (rest.startsWith(">&")) op = ">&";
    else if (rest.startsWith(">|")) op = ">|";
    else if (rest.startsWith("<") && !/^<[<>&(]/.test(rest)) op = "<";
    else if (rest.startsWith(">") && rest[1] !== "(") op = ">";
    else throw BAIL;
    this.pos += op.length;
    this.blanks();
    const c = this.peek();
    if (c === "" || c === ";" || c === "|" || c === "&" || c === ")" || c === "#" || c === ">" || c === "<") throw BAIL;
    const target = this.word(MAX_SUBST_DEPTH);
    if (this.peek() === ">" || this.peek() === "<") throw BAIL;
    const text = target.parts.map((p) => p.text).join("");
    if (target.parts.some((p) => p.dynamic || p.glob)) throw BAIL;
    const writes = op === ">>" || op === ">|" || op === ">" ? true : op === ">&" ? !/^(\d+-?|-)$/.test(text) : false;
    return { op: fd + op, target, writes };
  }

  private word(depth: number): LexWord {
    const parts: LexPart[] = [];
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      const code = c.charCodeAt(0);
      if (c === "") break;
      if (code < 128 && WORD_CHAR[code]) {
        let end = this.pos;
        let glob = false;
        let brace = false;
        while (end < this.s.length) {
          const k = this.s.charCodeAt(end);
          if (k >= 128 || !WORD_CHAR[k]) break;
          if (WORD_CHAR[k] === 2) glob = true;
          else if (WORD_CHAR[k] === 3) brace = true;
          end++;
        }
        const run = this.s.slice(this.pos, end);
        if (brace && BRACE_CANDIDATE.test(run)) throw BAIL;
        parts.push({ text: run, dynamic: false, glob });
        this.pos = end;
        continue;
      }
      if (c === "'") {
        const end = this.s.indexOf("'", this.pos + 1);
        if (end < 0) throw BAIL;
        const text = this.s.slice(this.pos + 1, end);
        if (/[^\x20-\x7e\t]/.test(text)) throw BAIL;
        parts.push({ text, dynamic: false, glob: false });
        this.pos = end + 1;
        continue;
      }
      if (c === '"') {
        parts.push(this.doubleQuoted(depth));
        continue;
      }
      if (c === "\\") {
        // `\;` is a literal `;`. Escaped braces are left to the full parser (brace expansion checks).
        const next = this.peek(1);
        if (next === "" || next === "{" || next === "}") throw BAIL;
        parts.push({ text: next, dynamic: false, glob: false });
        this.pos += 2;
        continue;
      }
      if (c === "$") {
        parts.push(this.dollar(depth));
        continue;
      }
      break;
    }
    if (this.pos === start) throw BAIL;
    const next = this.peek();
    if (next !== "" && next !== " " && next !== "\t" && !";|&)<>".includes(next)) throw BAIL;
    return { parts };
  }

  private doubleQuoted(depth: number): LexPart {
    this.pos++;
    let text = "";
    let dynamic = false;
    const substs: LexPart[] = [];
    for (;;) {
      const c = this.peek();
      if (c === "") throw BAIL;
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c === "$") {
        const p = this.dollar(depth);
        text += p.text;
        dynamic = true;
        if (p.subst) substs.push(p);
        continue;
      }
      const code = c.charCodeAt(0);
      if (c === "\\") {
        // Inside double quotes a backslash escapes only `$`, `` ` ``, `"` and `\`.
        const next = this.peek(1);
        if (next === "") throw BAIL;
        text += next === "$" || next === "`" || next === '"' || next === "\\" ? next : `\\${next}`;
        this.pos += 2;
        continue;
      }
      if (c === "`" || code < 0x20 || code > 0x7e) throw BAIL;
      text += c;
      this.pos++;
    }
    const part: LexPart = { text, dynamic, glob: false };
    if (substs.length === 1) part.subst = (substs[0] as LexPart).subst;
    else if (substs.length > 1) part.subst = substs.flatMap((p) => p.subst ?? []);
    return part;
  }

  /** `$NAME`, `${NAME}` or `$(…)`; anything else bails. */
  private dollar(depth: number): LexPart {
    const start = this.pos;
    const next = this.peek(1);
    if (next === "(") {
      if (this.peek(2) === "(" || depth >= MAX_SUBST_DEPTH) throw BAIL;
      this.pos += 2;
      const inner = this.list(depth + 1, ")");
      if (this.peek() !== ")") throw BAIL;
      this.pos++;
      return { text: this.s.slice(start, this.pos), dynamic: true, glob: false, subst: inner };
    }
    if (next === "{") {
      const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(this.s.slice(start, start + 200));
      if (!m) throw BAIL;
      this.pos += m[0].length;
      return { text: m[0], dynamic: true, glob: false };
    }
    if (!NAME_START.test(next)) throw BAIL;
    let end = this.pos + 2;
    while (end < this.s.length && NAME_CHAR.test(this.s[end] as string)) end++;
    this.pos = end;
    return { text: this.s.slice(start, end), dynamic: true, glob: false };
  }
}

/** The line's structure, or null when it needs the full parser. */
export function lexShell(line: string): LexList | null {
  // Newlines, backticks and non-ASCII text are the full parser's, even quoted:
  // checking here keeps the lexer's loops simple.
  for (let i = 0; i < line.length; i++) {
    const k = line.charCodeAt(i);
    if (k === 0x60 || k >= 0x7f || (k < 0x20 && k !== 0x09)) return null;
  }
  const lexer = new Lexer(line);
  try {
    const list = lexer.list(0, "");
    return lexer.pos === line.length ? list : null;
  } catch (err) {
    if (err === BAIL) return null;
    throw err;
  }
}
