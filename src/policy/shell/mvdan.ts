import { createRequire } from "node:module";

/**
 * Access to mvdan-sh (GopherJS build of mvdan.cc/sh/v3/syntax).
 *
 * The package's JS API wraps every node in a proxy built on each property read (~50 µs a
 * read), which made analysing one line cost milliseconds. We parse through the public API
 * and then read the underlying Go structs directly (`__internal_object__`): fields are plain
 * properties, slices are `{ $array, $offset, $length }`, strings hold UTF-8 bytes. Reads
 * take nanoseconds. The shapes below mirror the Go structs of mvdan.cc/sh/v3/syntax; tests
 * fail loudly if an upgrade changes them.
 *
 * The bundle (1.5 MB) is loaded lazily so importing the policy module (e.g. for
 * `parseRule` in the CLI) does not pay the ~250 ms it takes to evaluate it.
 */

export interface GoSlice<T> {
  readonly $array: T[];
  readonly $offset: number;
  readonly $length: number;
}

interface GoType {
  readonly string: string;
  readonly nil?: unknown;
  readonly elem?: { readonly fields: readonly { readonly prop: string; readonly typ: { readonly kind: number } }[] };
}

interface GoPos {
  Offset(): number;
}

export interface RawNode {
  readonly constructor: GoType;
  Pos(): GoPos;
  End(): GoPos;
}
interface RawFile extends RawNode {
  Stmts: GoSlice<RawStmt>;
}
export interface RawStmt extends RawNode {
  Cmd: RawNode;
  Redirs: GoSlice<RawRedirect>;
  Negated: boolean;
  Background: boolean;
}
export interface RawRedirect extends RawNode {
  Op: number;
  N: RawLit;
  Word: RawWord;
  Hdoc: RawWord;
}
export interface RawLit extends RawNode {
  Value: string;
}
export interface RawWord extends RawNode {
  Parts: GoSlice<RawNode>;
}
export interface RawSglQuoted extends RawNode {
  Value: string;
  Dollar: boolean;
}
export interface RawBraceExp extends RawNode {
  Sequence: boolean;
  Elems: GoSlice<RawWord>;
}
export interface RawAssign extends RawNode {
  Name: RawLit;
  Value: RawWord;
  Array: RawNode;
  Naked: boolean;
  Append: boolean;
}
export interface RawCallExpr extends RawNode {
  Assigns: GoSlice<RawAssign>;
  Args: GoSlice<RawWord>;
}
export interface RawBinaryCmd extends RawNode {
  Op: number;
  X: RawStmt;
  Y: RawStmt;
}
/** Subshell, Block, CmdSubst, ProcSubst. */
export interface RawStmtList extends RawNode {
  Stmts: GoSlice<RawStmt>;
}
export interface RawIfClause extends RawNode {
  Cond: GoSlice<RawStmt>;
  Then: GoSlice<RawStmt>;
  Else: RawIfClause;
}
export interface RawWhileClause extends RawNode {
  Cond: GoSlice<RawStmt>;
  Do: GoSlice<RawStmt>;
}
export interface RawForClause extends RawNode {
  Loop: RawNode;
  Do: GoSlice<RawStmt>;
}
interface RawCaseItem extends RawNode {
  Patterns: GoSlice<RawWord>;
  Stmts: GoSlice<RawStmt>;
}
export interface RawCaseClause extends RawNode {
  Word: RawWord;
  Items: GoSlice<RawCaseItem>;
}
export interface RawDeclClause extends RawNode {
  Variant: RawLit;
  Args: GoSlice<RawAssign>;
}
export interface RawFuncDecl extends RawNode {
  Name: RawLit;
  Body: RawStmt;
}
/** TimeClause, CoprocClause. */
export interface RawWrappedStmt extends RawNode {
  Stmt: RawStmt;
}

interface Wrapper {
  readonly __internal_object__: unknown;
}
interface ShSyntax {
  NewParser(): { Parse(src: string, name: string): Wrapper };
  Walk(node: Wrapper, visit: (node: Wrapper | null) => boolean): void;
  SplitBraces(word: Wrapper): Wrapper;
}

let syntax: ShSyntax | undefined;
let parser: ReturnType<ShSyntax["NewParser"]> | undefined;

function load(): ShSyntax {
  if (!syntax) {
    const require = createRequire(import.meta.url);
    syntax = (require("mvdan-sh") as { syntax: ShSyntax }).syntax;
  }
  return syntax;
}

/** Parse failures carry a Go error; we surface its message (e.g. `1:6: reached EOF without closing quote "`). */
export class ShellSyntaxError extends Error {}

export interface Parsed {
  file: RawFile;
  /** The public wrapper, only for the rare calls that need the JS API (SplitBraces). */
  wrapper: Wrapper;
}

export function parseShell(src: string): Parsed {
  const sx = load();
  parser ??= sx.NewParser();
  try {
    const wrapper = parser.Parse(src, "");
    return { file: wrapper.__internal_object__ as RawFile, wrapper };
  } catch (err) {
    // A stack overflow inside GopherJS may leave the parser half-updated: start over next time.
    parser = undefined;
    if (err instanceof RangeError) throw new ShellSyntaxError("nested too deeply to analyse");
    const goErr = err as { Error?: () => string } | null;
    throw new ShellSyntaxError(typeof goErr?.Error === "function" ? goErr.Error() : String(err));
  }
}

/** Go nil: a typed nil pointer is its type's `nil` object; a nil interface has no Go type. */
export function isNil(node: unknown): boolean {
  if (node === null || node === undefined || typeof node !== "object") return true;
  const type = (node as { constructor?: GoType }).constructor;
  return typeof type?.string !== "string" || node === type.nil;
}

export function items<T>(slice: GoSlice<T> | undefined): T[] {
  if (!slice || !Array.isArray(slice.$array)) return [];
  return slice.$array.slice(slice.$offset, slice.$offset + slice.$length);
}

const kinds = new Map<GoType, string>();

/** "CallExpr", "Lit", … */
export function kindOf(node: RawNode): string {
  let k = kinds.get(node.constructor);
  if (k === undefined) {
    const s = node.constructor.string;
    k = s.startsWith("*syntax.") ? s.slice("*syntax.".length) : s;
    kinds.set(node.constructor, k);
  }
  return k;
}

/** Go strings arrive as one JS char per UTF-8 byte. */
export function goString(bytes: string): string {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes.charCodeAt(i) > 0x7f) return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return bytes;
}

/** Per node type, the fields that can hold nodes, found from GopherJS type metadata. */
const childProps = new Map<GoType, string[]>();
let containerKinds: Set<number> | undefined;

function nodeFieldKinds(): Set<number> {
  if (containerKinds) return containerKinds;
  // Learn GopherJS's kind numbers for slice, interface and pointer from fields we know.
  const kindOfField = (type: GoType | undefined, prop: string): number | undefined => type?.elem?.fields.find((f) => f.prop === prop)?.typ.kind;
  const file = parseShell("a > b").file;
  const stmt = items(file.Stmts)[0];
  const redir = items(stmt?.Redirs)[0];
  const found = [kindOfField(file.constructor, "Stmts"), kindOfField(stmt?.constructor, "Cmd"), kindOfField(redir?.constructor, "N")];
  containerKinds = new Set(found.filter((k): k is number => k !== undefined));
  return containerKinds;
}

function propsOf(node: RawNode, kindsSet: Set<number>): string[] {
  let props = childProps.get(node.constructor);
  if (!props) {
    props = (node.constructor.elem?.fields ?? []).filter((f) => kindsSet.has(f.typ.kind)).map((f) => f.prop);
    childProps.set(node.constructor, props);
  }
  return props;
}

function isNode(v: unknown): v is RawNode {
  return !isNil(v) && (v as RawNode).constructor.string.startsWith("*syntax.");
}

/** Depth-first walk over raw nodes; `visit` returns false to skip a node's children. */
export function walk(node: RawNode, visit: (node: RawNode) => boolean): void {
  const kindsSet = nodeFieldKinds();
  const rec = (n: RawNode): void => {
    if (!visit(n)) return;
    for (const prop of propsOf(n, kindsSet)) {
      const v = (n as unknown as Record<string, unknown>)[prop];
      if (v !== null && typeof v === "object" && "$array" in v) {
        for (const el of items(v as GoSlice<unknown>)) if (isNode(el)) rec(el);
      } else if (isNode(v)) rec(v);
    }
  };
  rec(node);
}

/**
 * Brace expansion through mvdan's own SplitBraces, which only takes a wrapper: find the
 * wrapper of `word` (slow, but brace words are rare) and let it rewrite the word in place.
 */
export function splitBraces(parsed: Parsed, word: RawWord): void {
  const sx = load();
  let target: Wrapper | undefined;
  sx.Walk(parsed.wrapper, (w) => {
    if (target || !w) return false;
    const node = w.__internal_object__ as RawNode;
    if (node === word) {
      target = w;
      return false;
    }
    // Walk cannot enter a word an earlier call already split (it panics on BraceExp).
    return !(kindOf(node) === "Word" && items((node as RawWord).Parts).some((p) => kindOf(p) === "BraceExp"));
  });
  // Not found (it sits inside an already split word): better unjudged than judged unexpanded.
  if (!target) throw new Error("a brace expansion inside another brace-expanded word");
  sx.SplitBraces(target);
}

/**
 * Operator token codes are GopherJS-internal numbers that could move between mvdan-sh
 * releases, so we learn them from the parser itself instead of hard-coding them.
 */
export interface ShOps {
  and: number;
  or: number;
  pipe: number;
  pipeAll: number;
  rdrOut: number;
  appOut: number;
  rdrIn: number;
  rdrInOut: number;
  dplIn: number;
  dplOut: number;
  clbOut: number;
  hdoc: number;
  dashHdoc: number;
  wordHdoc: number;
  rdrAll: number;
  appAll: number;
  /** `${x@P}` and the other `@` transformations. */
  paramAt: number;
  /** `[[ a -eq b ]]` and -ne, -lt, -le, -gt, -ge: both sides are evaluated as arithmetic. */
  testArith: ReadonlySet<number>;
  /** `[[ -v name ]]`. */
  testNamed: ReadonlySet<number>;
}

let ops: ShOps | undefined;

export function shellOps(): ShOps {
  if (ops) return ops;
  const first = (src: string): RawStmt | undefined => items(parseShell(src).file.Stmts)[0];
  const bin = (src: string): number => (first(src)?.Cmd as RawBinaryCmd).Op;
  const rdr = (src: string): number => items(first(src)?.Redirs)[0]?.Op ?? -1;
  const test = (src: string): number => ((first(src)?.Cmd as RawNode & { X: RawNode & { Op: number } }).X).Op;
  const arg = items(items((first("echo ${x@P}")?.Cmd as RawCallExpr).Args)[1]?.Parts)[0] as RawNode & { Exp: { Op: number } };
  ops = {
    and: bin("a && b"),
    or: bin("a || b"),
    pipe: bin("a | b"),
    pipeAll: bin("a |& b"),
    rdrOut: rdr("a > f"),
    appOut: rdr("a >> f"),
    rdrIn: rdr("a < f"),
    rdrInOut: rdr("a <> f"),
    dplIn: rdr("a <& 0"),
    dplOut: rdr("a >& 2"),
    clbOut: rdr("a >| f"),
    hdoc: rdr("a <<E\nx\nE\n"),
    dashHdoc: rdr("a <<-E\nx\nE\n"),
    wordHdoc: rdr("a <<< x"),
    rdrAll: rdr("a &> f"),
    appAll: rdr("a &>> f"),
    paramAt: arg.Exp.Op,
    testArith: new Set(["-eq", "-ne", "-lt", "-le", "-gt", "-ge"].map((op) => test(`[[ a ${op} b ]]`))),
    testNamed: new Set([test("[[ -v a ]]")]),
  };
  return ops;
}
