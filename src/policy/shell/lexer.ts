import type { LexAndOr, LexAssign, LexCommand, LexCompound, LexDecl, LexList, LexPart, LexPipeline, LexRedirect, LexWord } from "./lexer-types.ts";
import { arithmeticReadsValues } from "./expansions.ts";
import { decodeAnsiC } from "./words.ts";

/**
 * A small parser for the shell lines agents send: simple commands joined by `|`, `&&`, `||`,
 * `;` and `&`, quoting (`'…'`, `"…"`, `$'…'`, backslashes), `$NAME`, `${NAME…}`, `$(…)`,
 * backticks, `$((…))`, `<(…)`, plain brace expansion, assignments, `export`-style
 * declarations, redirections, `( … )`, `{ …; }`, `if`, `for`, `while`/`until`, `case` and
 * `name() { …; }`, and one here-document per line. It exists because a first parse through
 * the GopherJS mvdan-sh costs 0.1–0.5 ms and churns garbage; this one costs a few µs. It
 * never guesses: anything outside its subset (other newlines, `[[ ]]`, `((…))`, `!`, arrays,
 * `${…}` forms it does not know, here-documents that expand, non-ASCII text, …) returns null
 * and the line goes to the full parser. The structures it returns: lexer-types.ts.
 * test/policy/lexer-differential.test.ts holds it to the full parser's analysis.
 */


/** First words the lexer leaves to the full parser. */
const BAIL_WORDS = new Set(["then", "else", "elif", "fi", "esac", "select", "do", "done", "function", "in", "coproc", "time", "nameref", "let", "!", "[[", "]]", "}"]);
const DECLARATIONS = new Set(["export", "declare", "local", "readonly", "typeset"]);

const MAX_SUBST_DEPTH = 8;

/** Characters that may appear unquoted inside a word (besides the glob characters `*?[`). */
const WORD_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:=@%+,~^]!") WORD_CHAR[c.charCodeAt(0)] = 1;
for (const c of "*?[") WORD_CHAR[c.charCodeAt(0)] = 2;
for (const c of "{}") WORD_CHAR[c.charCodeAt(0)] = 3;
/** As in words.ts: a run that could brace-expand. */
const BRACE_CANDIDATE = /\{[^}]*(,|\.\.)[^}]*\}/;
/** The one brace form handled here: `pre{a,b,…}post`, plain items, no nesting, no ranges. */
const SIMPLE_BRACE = /^([^{}]*)\{([^{}*?[,.]+(?:,[^{}*?[,.]+)+)\}([^{}]*)$/;
const GLOB = /[*?[]/;

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=/;
const ARRAY_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*\[/;
const FUNC_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `${NAME}` and `${NAME<op>literal}`: the operand may not expand anything itself. */
const PARAM_EXP = /^\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-=?+]|##?|%%?)[A-Za-z0-9_./:@%+,=~ -]*)?\}/;
/** `$((…))` holding only numbers, names and operators. */
const ARITH_BODY = /^[A-Za-z0-9_ +\-*/%<>=!&|^~?:,()$]*$/;

/** Characters that end a word. */
function delimits(c: string): boolean {
  return c === "" || c === " " || c === "\t" || c === ";" || c === "|" || c === "&" || c === "(" || c === ")" || c === "<" || c === ">";
}

class Bail extends Error {}
const BAIL = new Bail();

/** What ends a list besides the end of the input. */
type Stop = ")" | "}" | "keywords" | "case";

class Lexer {
  pos = 0;
  private compoundDepth = 0;
  /** What the whole input parsed into (set by lexLine). */
  parsed: LexList = [];
  /** The here-document this line opened, if any. */
  heredoc: { redirect: LexRedirect; quoted: boolean } | null = null;
  constructor(
    private readonly s: string,
    private readonly heredocAllowed = false,
  ) {}

  private peek(off = 0): string {
    return this.s[this.pos + off] ?? "";
  }

  private blanks(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }

  private skipComment(): void {
    if (this.peek() === "#") this.pos = this.s.length;
  }

  /** The reserved word at the cursor (unquoted, followed by a delimiter), without consuming it. */
  private keyword(): string | null {
    let end = this.pos;
    while (end < this.s.length) {
      const k = this.s.charCodeAt(end);
      if (k < 0x61 || k > 0x7a) break;
      end++;
    }
    if (end === this.pos || !delimits(this.s[end] ?? "")) return null;
    return this.s.slice(this.pos, end);
  }

  private expectKeyword(word: string): void {
    this.blanks();
    if (this.keyword() !== word) throw BAIL;
    this.pos += word.length;
  }

  /** Whether the list stops here (not consumed). */
  private stopsHere(stop: Stop | null, words: ReadonlySet<string> | null): boolean {
    const c = this.peek();
    if (stop === ")" || stop === "case") {
      if (c === ")") return true;
    }
    if (stop === "}" && c === "}" && delimits(this.peek(1))) return true;
    if (words !== null) {
      const k = this.keyword();
      if (k !== null && words.has(k)) return true;
    }
    return false;
  }

  /**
   * Commands up to the end of input or `stop`: `)`, a `}` in command position, one of
   * `words` in command position, or (`case`) a `;;`/`;&`.
   */
  list(depth: number, stop: Stop | null, words: ReadonlySet<string> | null = null, allowEmpty = false): LexList {
    const out: LexList = [];
    for (;;) {
      this.blanks();
      this.skipComment();
      if (this.pos >= this.s.length || this.stopsHere(stop, words)) {
        if (out.length === 0 && (depth > 0 || stop !== null) && !allowEmpty) throw BAIL;
        return out;
      }
      const andOr = this.andOr(depth);
      out.push(andOr);
      this.blanks();
      this.skipComment();
      const c = this.peek();
      if (c === "&" && this.peek(1) !== "&" && this.peek(1) !== ">") {
        andOr.background = true;
        this.pos++;
        continue;
      }
      if (c === ";") {
        if (this.peek(1) === ";" || this.peek(1) === "&") {
          if (stop === "case") return out;
          throw BAIL;
        }
        this.pos++;
        continue;
      }
      if (this.pos >= this.s.length || this.stopsHere(stop, words)) return out;
      throw BAIL;
    }
  }

  private andOr(depth: number): LexAndOr {
    const first = this.pipeline(depth);
    const rest: LexAndOr["rest"] = [];
    for (;;) {
      this.blanks();
      const two = this.s.slice(this.pos, this.pos + 2);
      if (two !== "&&" && two !== "||") {
        // The full parser shows a function in a pipeline or chain by its body: leave those to it.
        if (rest.length > 0 && [first, ...rest.map((r) => r.pipeline)].some((p) => p.some(isFunc))) throw BAIL;
        return { first, rest, background: false };
      }
      this.pos += 2;
      rest.push({ op: two, pipeline: this.pipeline(depth) });
    }
  }

  private pipeline(depth: number): LexPipeline {
    const stages: LexPipeline = [this.command(depth)];
    for (;;) {
      this.blanks();
      if (this.peek() !== "|" || this.peek(1) === "|" || this.peek(1) === "&") {
        if (stages.length > 1 && stages.some(isFunc)) throw BAIL;
        return stages;
      }
      this.pos++;
      stages.push(this.command(depth));
    }
  }

  private command(depth: number): LexCommand {
    this.blanks();
    const c = this.peek();
    const kw = c === "(" || c === "{" ? c : this.keyword();
    if (kw === "(" || kw === "{" || kw === "if" || kw === "for" || kw === "while" || kw === "until" || kw === "case") {
      // Here-documents only on plain top-level commands.
      this.compoundDepth++;
      try {
        return this.commandInner(depth);
      } finally {
        this.compoundDepth--;
      }
    }
    return this.commandInner(depth);
  }

  private commandInner(depth: number): LexCommand {
    const c = this.peek();
    if (c === "(") {
      if (this.peek(1) === "(") throw BAIL;
      this.pos++;
      const body = this.list(depth, ")");
      if (this.peek() !== ")") throw BAIL;
      this.pos++;
      return { kind: "group", open: "(", body, redirects: this.trailingRedirects() };
    }
    if (c === "{" && (this.peek(1) === " " || this.peek(1) === "\t")) {
      this.pos++;
      const body = this.list(depth, "}");
      if (this.peek() !== "}") throw BAIL;
      this.pos++;
      return { kind: "group", open: "{", body, redirects: this.trailingRedirects() };
    }
    const kw = this.keyword();
    if (kw === "if" || kw === "for" || kw === "while" || kw === "until" || kw === "case") return this.compound(kw, depth);
    return this.simple(depth);
  }

  /** Redirections after `)`, `}` or a closing keyword; anything else must end the command. */
  private trailingRedirects(): LexRedirect[] {
    const out: LexRedirect[] = [];
    for (;;) {
      this.blanks();
      const c = this.peek();
      if (c === ">" || c === "<") {
        out.push(this.redirect(""));
        continue;
      }
      if (c === "" || c === ";" || c === "|" || c === "&" || c === ")" || c === "#") return out;
      throw BAIL;
    }
  }

  private simple(depth: number): LexCommand {
    const start = this.pos;
    const words: LexWord[] = [];
    const redirects: LexRedirect[] = [];
    const assigns: LexAssign[] = [];
    for (;;) {
      this.blanks();
      const c = this.peek();
      if (c === "" || c === ";" || c === "|" || c === "&" || c === ")" || c === "#") break;
      if ((c === ">" || c === "<") && this.peek(1) !== "(") {
        redirects.push(this.redirect("", depth));
        continue;
      }
      const wordStart = this.pos;
      const word = this.word(depth);
      if (this.peek() === "(" && words.length === 0 && assigns.length === 0 && redirects.length === 0) {
        return this.func(word, start, depth);
      }
      // `2>file`: a word of digits glued to `>` is the descriptor.
      if (this.peek() === ">" || this.peek() === "<") {
        const raw = this.s.slice(wordStart, this.pos);
        if (/^\d+$/.test(raw)) {
          redirects.push(this.redirect(raw));
          continue;
        }
        throw BAIL;
      }
      if (words.length === 0) {
        // `a[i]=x` assigns to an array element: the full parser's.
        if ((word.parts[0] as QPart).text.includes("[") && ARRAY_ASSIGNMENT.test(this.s.slice(wordStart, this.pos))) throw BAIL;
        const assign = this.asAssignment(word);
        if (assign) {
          assigns.push(assign);
          continue;
        }
      }
      words.push(word);
    }
    if (words.length === 0 && assigns.length === 0) throw BAIL;
    const head = words[0];
    if (head !== undefined) {
      if (head.braces) throw BAIL;
      const headText = wordText(head);
      if (BAIL_WORDS.has(headText) || headText.startsWith("{") || headText.startsWith("}")) throw BAIL;
      if (DECLARATIONS.has(headText) && isPlain(head)) {
        if (assigns.length > 0) throw BAIL;
        return this.decl(headText, words.slice(1), redirects);
      }
    }
    return { kind: "simple", assigns, words, redirects };
  }

  private decl(variant: string, rest: LexWord[], redirects: LexRedirect[]): LexDecl {
    const args = rest.map((w) => {
      if (w.braces) throw BAIL;
      const assign = this.asAssignment(w);
      return assign ? { assign } : { word: w };
    });
    return { kind: "decl", variant, args, redirects };
  }

  /** `NAME=value` / `NAME+=value` with an unquoted name; null for any other word. */
  private asAssignment(word: LexWord): LexAssign | null {
    const first = word.parts[0] as QPart | undefined;
    if (first === undefined || first.dynamic || first.quoted) return null;
    const m = ASSIGNMENT.exec(first.text);
    if (!m) return null;
    if (word.braces) throw BAIL;
    const head = first.text.slice(m[0].length);
    const value: LexPart[] = head.length > 0 ? [{ text: head, dynamic: false, glob: false }] : [];
    value.push(...word.parts.slice(1));
    return { name: m[1] as string, append: m[2] === "+", value };
  }

  /** `name() { …; }` or `name() ( … )`; `start` is where the name began. */
  private func(name: LexWord, start: number, depth: number): LexCompound {
    if (!isName(name)) throw BAIL;
    this.pos++;
    this.blanks();
    if (this.peek() !== ")") throw BAIL;
    this.pos++;
    this.blanks();
    const c = this.peek();
    if (c !== "{" && c !== "(") throw BAIL;
    const body = this.command(depth);
    if (body.kind !== "group" || body.redirects.length > 0) throw BAIL;
    return { kind: "compound", text: this.s.slice(start, this.pos), func: true, steps: [{ command: body }], redirects: this.trailingRedirects() };
  }

  private compound(kw: "if" | "for" | "while" | "until" | "case", depth: number): LexCompound {
    const start = this.pos;
    this.pos += kw.length;
    const steps: LexCompound["steps"] = [];
    if (kw === "if") {
      steps.push({ list: this.list(depth, "keywords", THEN) });
      this.expectKeyword("then");
      steps.push({ list: this.list(depth, "keywords", IF_BRANCH) });
      for (;;) {
        this.blanks();
        const k = this.keyword();
        this.pos += (k ?? "").length;
        if (k === "fi") break;
        if (k === "elif") {
          steps.push({ list: this.list(depth, "keywords", THEN) });
          this.expectKeyword("then");
          steps.push({ list: this.list(depth, "keywords", IF_BRANCH) });
          continue;
        }
        if (k === "else") {
          steps.push({ list: this.list(depth, "keywords", FI) });
          this.expectKeyword("fi");
          break;
        }
        throw BAIL;
      }
    } else if (kw === "for") {
      this.blanks();
      const name = this.word(depth);
      if (!isName(name)) throw BAIL;
      this.expectKeyword("in");
      for (;;) {
        this.blanks();
        const c = this.peek();
        if (c === ";") break;
        if (delimits(c) || c === "#") throw BAIL;
        const w = this.word(depth);
        if (w.braces) throw BAIL;
        steps.push({ word: w });
      }
      this.pos++;
      this.expectKeyword("do");
      steps.push({ list: this.list(depth, "keywords", DONE) });
      this.expectKeyword("done");
    } else if (kw === "while" || kw === "until") {
      steps.push({ list: this.list(depth, "keywords", DO) });
      this.expectKeyword("do");
      steps.push({ list: this.list(depth, "keywords", DONE) });
      this.expectKeyword("done");
    } else {
      this.caseBody(depth, steps);
    }
    const text = this.s.slice(start, this.pos);
    return { kind: "compound", text, steps, redirects: this.trailingRedirects() };
  }

  private caseBody(depth: number, steps: LexCompound["steps"]): void {
    this.blanks();
    const subject = this.word(depth);
    if (subject.braces) throw BAIL;
    steps.push({ word: subject });
    this.expectKeyword("in");
    for (;;) {
      this.blanks();
      if (this.keyword() === "esac") {
        this.pos += 4;
        return;
      }
      if (this.peek() === "(") this.pos++;
      for (;;) {
        this.blanks();
        const pattern = this.word(depth);
        if (pattern.braces) throw BAIL;
        steps.push({ word: pattern });
        this.blanks();
        if (this.peek() === "|") {
          this.pos++;
          continue;
        }
        if (this.peek() !== ")") throw BAIL;
        this.pos++;
        break;
      }
      steps.push({ list: this.list(depth, "case", ESAC, true) });
      this.blanks();
      if (this.peek() === ";") {
        // `;;`, `;&` or `;;&`.
        this.pos += this.s.startsWith(";;&", this.pos) ? 3 : 2;
        continue;
      }
      if (this.keyword() !== "esac") throw BAIL;
    }
  }

  private redirect(fd: string, depth = MAX_SUBST_DEPTH): LexRedirect {
    let op: string;
    const rest = this.s.slice(this.pos, this.pos + 3);
    if (rest.startsWith("<<") && fd === "") return this.heredocRedirect(depth);
    if (rest.startsWith(">>")) op = ">>";
    else if (rest.startsWith(">&")) op = ">&";
    else if (rest.startsWith(">|")) op = ">|";
    else if (rest.startsWith("<") && !/^<[<>&(]/.test(rest)) op = "<";
    else if (rest.startsWith(">") && rest[1] !== "(") op = ">";
    else throw BAIL;
    this.pos += op.length;
    this.blanks();
    const c = this.peek();
    if (c === "" || c === ";" || c === "|" || c === "&" || c === ")" || c === "(" || c === "#" || c === ">" || c === "<") throw BAIL;
    const target = this.word(MAX_SUBST_DEPTH);
    if (this.peek() === ">" || this.peek() === "<" || this.peek() === "(") throw BAIL;
    if (target.braces || target.parts.some((p) => p.dynamic || p.glob)) throw BAIL;
    const text = wordText(target);
    const writes = op === ">>" || op === ">|" || op === ">" ? true : op === ">&" ? !/^(\d+-?|-)$/.test(text) : false;
    return { op: fd + op, target, writes };
  }

  /**
   * `<<WORD`, `<<'WORD'` or `<<"WORD"` in a top-level simple command; its body (the lines
   * after this one, up to WORD) is attached by lexShell. One per line.
   */
  private heredocRedirect(depth: number): LexRedirect {
    if (this.heredoc !== null || depth !== 0 || this.compoundDepth > 0 || !this.heredocAllowed || this.s[this.pos + 2] === "<" || this.s[this.pos + 2] === "-") throw BAIL;
    this.pos += 2;
    this.blanks();
    const m = /^(?:'([A-Za-z_][A-Za-z0-9_]*)'|"([A-Za-z_][A-Za-z0-9_]*)"|([A-Za-z_][A-Za-z0-9_]*))/.exec(this.s.slice(this.pos, this.pos + 80));
    if (!m) throw BAIL;
    this.pos += m[0].length;
    if (!delimits(this.peek()) || this.peek() === "(") throw BAIL;
    const delim = (m[1] ?? m[2] ?? m[3]) as string;
    const redirect: LexRedirect = { op: "<<", target: { parts: [{ text: delim, dynamic: false, glob: false }] }, writes: false };
    this.heredoc = { redirect, quoted: m[3] === undefined };
    return redirect;
  }

  private word(depth: number): LexWord {
    // Most words are one piece: a one-element literal, not the 16-slot store a first push makes.
    let parts: QPart[] | null = null;
    const start = this.pos;
    let braceRun = false;
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
        if (brace && BRACE_CANDIDATE.test(run)) braceRun = true;
        parts = append(parts, { text: run, dynamic: false, glob });
        this.pos = end;
        continue;
      }
      if (c === "'") {
        const end = this.s.indexOf("'", this.pos + 1);
        if (end < 0) throw BAIL;
        const text = this.s.slice(this.pos + 1, end);
        if (/[^\x20-\x7e\t]/.test(text)) throw BAIL;
        parts = append(parts, { text, dynamic: false, glob: false, quoted: true });
        this.pos = end + 1;
        continue;
      }
      if (c === '"') {
        parts = append(parts, this.doubleQuoted(depth));
        continue;
      }
      if (c === "\\") {
        // `\;` is a literal `;`. Escaped braces are left to the full parser (brace expansion checks).
        const next = this.peek(1);
        if (next === "" || next === "{" || next === "}") throw BAIL;
        parts = append(parts, { text: next, dynamic: false, glob: false, quoted: true });
        this.pos += 2;
        continue;
      }
      if (c === "$") {
        parts = append(parts, this.dollar(depth, false));
        continue;
      }
      if (c === "`") {
        parts = append(parts, this.backticks(depth));
        continue;
      }
      if ((c === "<" || c === ">") && this.peek(1) === "(" && this.pos === start) {
        if (depth >= MAX_SUBST_DEPTH) throw BAIL;
        this.pos += 2;
        const inner = this.list(depth + 1, ")");
        if (this.peek() !== ")") throw BAIL;
        this.pos++;
        parts = append(parts, { text: this.s.slice(start, this.pos), dynamic: true, glob: false, subst: inner });
        continue;
      }
      break;
    }
    if (this.pos === start || parts === null) throw BAIL;
    const next = this.peek();
    if (!delimits(next)) throw BAIL;
    if (!braceRun) return { parts };
    return { parts, braces: expandSimpleBrace(parts) };
  }

  private doubleQuoted(depth: number): QPart {
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
      if (c === "$" || c === "`") {
        const p = c === "$" ? this.dollar(depth, true) : this.backticks(depth);
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
      if (code < 0x20 || code > 0x7e) throw BAIL;
      text += c;
      this.pos++;
    }
    const part: QPart = { text, dynamic, glob: false, quoted: true };
    if (substs.length === 1) part.subst = (substs[0] as LexPart).subst;
    else if (substs.length > 1) part.subst = substs.flatMap((p) => p.subst ?? []);
    return part;
  }

  /** `` `…` `` holding no backslash (quoting inside backticks has rules of its own). */
  private backticks(depth: number): LexPart {
    const start = this.pos;
    const end = this.s.indexOf("`", start + 1);
    if (end < 0 || depth >= MAX_SUBST_DEPTH) throw BAIL;
    const body = this.s.slice(start + 1, end);
    if (body.includes("\\") || body.trim().length === 0) throw BAIL;
    const inner = new Lexer(body);
    const list = inner.list(depth + 1, null);
    if (inner.pos !== body.length) throw BAIL;
    this.pos = end + 1;
    return { text: this.s.slice(start, this.pos), dynamic: true, glob: false, subst: list };
  }

  /** `$NAME`, `$1`, `$@`…, `${NAME…}`, `$(…)`, `$((…))` or (unquoted) `$'…'`; anything else bails. */
  private dollar(depth: number, inDouble: boolean): QPart {
    const start = this.pos;
    const next = this.peek(1);
    if (next === "(") {
      if (this.peek(2) === "(") return this.arithmetic();
      if (depth >= MAX_SUBST_DEPTH) throw BAIL;
      this.pos += 2;
      const inner = this.list(depth + 1, ")");
      if (this.peek() !== ")") throw BAIL;
      this.pos++;
      return { text: this.s.slice(start, this.pos), dynamic: true, glob: false, subst: inner };
    }
    if (next === "{") {
      const m = PARAM_EXP.exec(this.s.slice(start, start + 200));
      if (!m) throw BAIL;
      this.pos += m[0].length;
      return { text: m[0], dynamic: true, glob: false };
    }
    if (next === "'" && !inDouble) {
      let i = start + 2;
      for (;;) {
        const k = this.s[i];
        if (k === undefined) throw BAIL;
        if (k === "\\") i += 2;
        else if (k === "'") break;
        else i++;
      }
      this.pos = i + 1;
      return { text: decodeAnsiC(this.s.slice(start + 2, i)), dynamic: false, glob: false, quoted: true };
    }
    if (/^[0-9@*#?$!]$/.test(next)) {
      this.pos += 2;
      return { text: this.s.slice(start, this.pos), dynamic: true, glob: false };
    }
    if (!NAME_START.test(next)) throw BAIL;
    let end = this.pos + 2;
    while (end < this.s.length && NAME_CHAR.test(this.s[end] as string)) end++;
    this.pos = end;
    return { text: this.s.slice(start, end), dynamic: true, glob: false };
  }

  /** `$((…))` of numbers, names and operators only. */
  private arithmetic(): LexPart {
    const start = this.pos;
    let i = start + 3;
    let open = 0;
    for (;;) {
      const k = this.s[i];
      if (k === undefined) throw BAIL;
      if (k === "(") open++;
      else if (k === ")") {
        if (open === 0) break;
        open--;
      }
      i++;
    }
    if (this.s[i + 1] !== ")") throw BAIL;
    const body = this.s.slice(start + 3, i);
    // Arithmetic that reads a variable is judged by the full parser (see expansions.ts).
    if (!ARITH_BODY.test(body) || body.includes("$(") || body.trim().length === 0 || arithmeticReadsValues(body)) throw BAIL;
    this.pos = i + 2;
    return { text: this.s.slice(start, this.pos), dynamic: true, glob: false };
  }
}

/** A part the word scanner knows was quoted (a quoted `X=1` is not an assignment). */
interface QPart extends LexPart {
  quoted?: true;
}

const THEN = new Set(["then"]);
const IF_BRANCH = new Set(["elif", "else", "fi"]);
const FI = new Set(["fi"]);
const DO = new Set(["do"]);
const DONE = new Set(["done"]);
const ESAC = new Set(["esac"]);

function append(parts: QPart[] | null, part: QPart): QPart[] {
  if (parts === null) return [part];
  parts.push(part);
  return parts;
}

function isFunc(cmd: LexCommand): boolean {
  return cmd.kind === "compound" && cmd.func === true;
}

function wordText(word: LexWord): string {
  let text = "";
  for (const p of word.parts) text += p.text;
  return text;
}

/** Unquoted, literal, one run: what a keyword or a name must be. */
function isPlain(word: LexWord): boolean {
  return word.parts.length === 1 && !(word.parts[0] as QPart).quoted && !(word.parts[0] as QPart).dynamic;
}

/** A shell name (a function's or a `for` variable's): one plain run of name characters. */
function isName(word: LexWord): boolean {
  return isPlain(word) && !word.braces && FUNC_NAME.test(wordText(word));
}

/** `pre{a,b}post` as one unquoted run → its expansions; anything fancier bails. */
function expandSimpleBrace(parts: QPart[]): string[] {
  if (parts.length !== 1) throw BAIL;
  const m = SIMPLE_BRACE.exec((parts[0] as QPart).text);
  if (!m) throw BAIL;
  const [, pre = "", items = "", post = ""] = m;
  if (GLOB.test(pre) || GLOB.test(post)) throw BAIL;
  return items.split(",").map((item) => `${pre}${item}${post}`);
}

/** The line's structure, or null when it needs the full parser. */
export function lexShell(line: string): LexList | null {
  const nl = line.indexOf("\n");
  if (nl >= 0) return lexHeredoc(line, nl);
  // Other control characters and non-ASCII text are the full parser's, even quoted: checking
  // here keeps the lexer's loops simple.
  if (!printable(line)) return null;
  return lexLine(line, false)?.parsed ?? null;
}

function printable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    if (k >= 0x7f || (k < 0x20 && k !== 0x09)) return false;
  }
  return true;
}

function lexLine(line: string, heredocAllowed: boolean): Lexer | null {
  const lexer = new Lexer(line, heredocAllowed);
  try {
    lexer.parsed = lexer.list(0, null);
  } catch (err) {
    if (err === BAIL) return null;
    throw err;
  }
  return lexer.pos === line.length ? lexer : null;
}

/**
 * A first line that opens one here-document, its body up to the delimiter line, then
 * (after a newline, which separates commands like `;`) more lines. Bodies that would expand
 * (`$`, backticks) or hold backslashes, empty bodies and `<<-` go to the full parser.
 */
function lexHeredoc(line: string, nl: number): LexList | null {
  const first = line.slice(0, nl);
  if (!printable(first)) return null;
  const head = lexLine(first, true);
  const doc = head?.heredoc;
  if (!head || !doc) return null;
  const delim = wordText(doc.redirect.target);
  let at = nl + 1;
  let body = "";
  for (;;) {
    const end = line.indexOf("\n", at);
    const text = end < 0 ? line.slice(at) : line.slice(at, end);
    if (text === delim) {
      at = end < 0 ? line.length : end + 1;
      break;
    }
    if (end < 0) return null;
    body += `${text}\n`;
    at = end + 1;
  }
  if (body.length === 0 || !printable(body.replace(/\n/g, "")) || body.includes("\\") || (!doc.quoted && /[$`]/.test(body))) return null;
  doc.redirect.body = body;
  const list = head.parsed;
  if (at >= line.length) return list;
  const rest = lexShell(line.slice(at));
  return rest === null ? null : [...list, ...rest];
}
