import { goString, items, kindOf, splitBraces } from "./mvdan.ts";
import type { Parsed, RawBraceExp, RawLit, RawNode, RawSglQuoted, RawWord } from "./mvdan.ts";
import type { Word } from "./types.ts";

/** The parsed line, for slicing the original text of a node (positions are UTF-8 byte offsets). */
export class Source {
  private readonly bytes: string;
  private readonly ascii: boolean;
  constructor(
    readonly text: string,
    readonly parsed: Parsed,
  ) {
    this.ascii = !/[^\x00-\x7f]/.test(text);
    this.bytes = this.ascii ? text : Buffer.from(text, "utf8").toString("latin1");
  }
  slice(node: RawNode): string {
    const piece = this.bytes.slice(node.Pos().Offset(), node.End().Offset());
    return this.ascii ? piece : goString(piece);
  }
}

/** Expansions beyond this many words are not worth guessing at: the command needs approval. */
const MAX_BRACE_WORDS = 256;

export class BraceOverflowError extends Error {}

interface Piece {
  alternatives: string[];
  dynamic: boolean;
  glob: boolean;
}

const UNQUOTED_GLOB = /[*?[]/;
const BRACE_CANDIDATE = /\{[^}]*(,|\.\.)[^}]*\}/;

/** Unquoted backslash removes itself and quotes the next character; `\<newline>` disappears. */
function unescapeUnquoted(raw: string): string {
  return raw.includes("\\") ? raw.replace(/\\(\n|[\s\S])?/g, (_m, c: string | undefined) => (c === "\n" || c === undefined ? "" : c)) : raw;
}

/** Inside double quotes a backslash only escapes `$`, `` ` ``, `"`, `\` and newline. */
function unescapeDouble(raw: string): string {
  return raw.includes("\\") ? raw.replace(/\\([$`"\\\n])/g, (_m, c: string) => (c === "\n" ? "" : c)) : raw;
}

const ANSI_SIMPLE: Record<string, string> = { a: "\x07", b: "\b", e: "\x1b", E: "\x1b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", "'": "'", '"': '"', "?": "?" };

/** `$'…'` strings: decoded so `$'\x72m'` is seen as `rm`. */
export function decodeAnsiC(raw: string): string {
  return raw.replace(/\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|[\s\S])/g, (m, esc: string) => {
    const head = esc[0] ?? "";
    if (head === "x" || head === "u" || head === "U") return safeCodePoint(parseInt(esc.slice(1), 16), m);
    if (/[0-7]/.test(head)) return safeCodePoint(parseInt(esc, 8), m);
    if (head === "c" && esc.length === 2) return String.fromCharCode(esc.charCodeAt(1) & 0x1f);
    return ANSI_SIMPLE[esc] ?? m;
  });
}

function safeCodePoint(cp: number, fallback: string): string {
  return Number.isInteger(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : fallback;
}

function pieceOf(part: RawNode, src: Source): Piece {
  switch (kindOf(part)) {
    case "Lit": {
      const raw = goString((part as RawLit).Value);
      return { alternatives: [unescapeUnquoted(raw)], dynamic: false, glob: UNQUOTED_GLOB.test(raw.replace(/\\[\s\S]/g, "")) };
    }
    case "SglQuoted": {
      const q = part as RawSglQuoted;
      const value = goString(q.Value);
      return { alternatives: [q.Dollar ? decodeAnsiC(value) : value], dynamic: false, glob: false };
    }
    case "DblQuoted": {
      let text = "";
      let dynamic = false;
      for (const inner of items((part as RawWord).Parts)) {
        if (kindOf(inner) === "Lit") text += unescapeDouble(goString((inner as RawLit).Value));
        else {
          text += src.slice(inner);
          dynamic = true;
        }
      }
      return { alternatives: [text], dynamic, glob: false };
    }
    case "BraceExp":
      return { alternatives: expandBrace(part as RawBraceExp, src), dynamic: false, glob: false };
    case "ExtGlob":
      return { alternatives: [src.slice(part)], dynamic: false, glob: true };
    default:
      // ParamExp, CmdSubst, ArithmExp, ProcSubst: kept as written; the value is only known at run time.
      return { alternatives: [src.slice(part)], dynamic: true, glob: false };
  }
}

function expandBrace(brace: RawBraceExp, src: Source): string[] {
  const elems = items(brace.Elems);
  if (brace.Sequence) {
    const [from, to, step] = elems.map((w) => wordTexts(w, src));
    const a = from?.[0] ?? "";
    const b = to?.[0] ?? "";
    const inc = Math.abs(Number(step?.[0] ?? "1")) || 1;
    const out: string[] = [];
    if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) {
      const x = Number(a);
      const y = Number(b);
      if (Math.abs(y - x) / inc >= MAX_BRACE_WORDS) throw new BraceOverflowError();
      for (let i = x; x <= y ? i <= y : i >= y; i += x <= y ? inc : -inc) out.push(String(i));
      return out;
    }
    if (a.length === 1 && b.length === 1) {
      const x = a.charCodeAt(0);
      const y = b.charCodeAt(0);
      for (let i = x; x <= y ? i <= y : i >= y; i += x <= y ? inc : -inc) out.push(String.fromCharCode(i));
      return out;
    }
    return [`{${a}..${b}}`];
  }
  const out: string[] = [];
  for (const elem of elems) {
    out.push(...wordTexts(elem, src));
    if (out.length > MAX_BRACE_WORDS) throw new BraceOverflowError();
  }
  return out;
}

function wordTexts(word: RawWord, src: Source): string[] {
  return combine(items(word.Parts).map((p) => pieceOf(p, src))).map((w) => w.text);
}

function combine(pieces: Piece[]): Word[] {
  let texts = [""];
  let dynamic = false;
  let glob = false;
  for (const piece of pieces) {
    dynamic ||= piece.dynamic;
    glob ||= piece.glob;
    if (piece.alternatives.length === 1) {
      const only = piece.alternatives[0] ?? "";
      texts = texts.map((t) => t + only);
      continue;
    }
    const next: string[] = [];
    for (const t of texts) for (const alt of piece.alternatives) next.push(t + alt);
    if (next.length > MAX_BRACE_WORDS) throw new BraceOverflowError();
    texts = next;
  }
  return texts.map((text) => ({ text, dynamic, glob }));
}

/** True when an unquoted literal of the word could brace-expand (`{a,b}`, `{1..3}`). */
export function mayBraceExpand(word: RawWord): boolean {
  return items(word.Parts).some((p) => kindOf(p) === "Lit" && BRACE_CANDIDATE.test((p as RawLit).Value));
}

/**
 * Quote removal and brace expansion, as bash does before running a command:
 * `r"m"` → rm, `\rm` → rm, `$'\x72m'` → rm, `{-rf,/}` → -rf /. Parameter expansions and
 * substitutions stay as written and mark the word dynamic.
 */
export function expandWord(word: RawWord, src: Source): Word[] {
  if (mayBraceExpand(word)) splitBraces(src.parsed, word);
  return combine(items(word.Parts).map((p) => pieceOf(p, src)));
}
