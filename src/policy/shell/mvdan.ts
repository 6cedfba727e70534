import { createRequire } from "node:module";

/**
 * Typed view of the parts of mvdan-sh (GopherJS build of mvdan.cc/sh/v3/syntax) we use.
 * The package ships no types; node fields mirror the Go structs. Loaded lazily with
 * createRequire so importing the policy module (e.g. for `parseRule` in the CLI) does not pay
 * the ~250 ms it takes to evaluate the 1.5 MB bundle.
 */
export interface ShPos {
  Offset(): number;
}
export interface ShNode {
  Pos(): ShPos;
  End(): ShPos;
}
export interface ShFile extends ShNode {
  Stmts: ShStmt[];
}
export interface ShStmt extends ShNode {
  Cmd: ShNode | null;
  Redirs: ShRedirect[];
  Negated: boolean;
  Background: boolean;
}
export interface ShRedirect extends ShNode {
  Op: number;
  N: ShLit | null;
  Word: ShWord | null;
  Hdoc: ShWord | null;
}
export interface ShLit extends ShNode {
  Value: string;
}
export interface ShWord extends ShNode {
  Parts: ShNode[];
}
export interface ShSglQuoted extends ShNode {
  Value: string;
  Dollar: boolean;
}
export interface ShDblQuoted extends ShNode {
  Parts: ShNode[];
}
export interface ShBraceExp extends ShNode {
  Sequence: boolean;
  Elems: ShWord[];
}
export interface ShAssign extends ShNode {
  Name: ShLit | null;
  Value: ShWord | null;
  Naked: boolean;
}
export interface ShCallExpr extends ShNode {
  Assigns: ShAssign[];
  Args: ShWord[];
}
export interface ShBinaryCmd extends ShNode {
  Op: number;
  X: ShStmt;
  Y: ShStmt;
}
export interface ShStmtList extends ShNode {
  Stmts: ShStmt[];
}
export interface ShIfClause extends ShNode {
  Cond: ShStmt[];
  Then: ShStmt[];
  Else: ShIfClause | null;
}
export interface ShWhileClause extends ShNode {
  Cond: ShStmt[];
  Do: ShStmt[];
}
export interface ShForClause extends ShNode {
  Loop: ShNode;
  Do: ShStmt[];
}
export interface ShCaseClause extends ShNode {
  Word: ShWord;
  Items: { Patterns: ShWord[]; Stmts: ShStmt[] }[];
}
export interface ShDeclClause extends ShNode {
  Variant: ShLit;
  Args: ShAssign[];
}
export interface ShWrappedStmt extends ShNode {
  Stmt: ShStmt | null;
}

interface ShParser {
  Parse(src: string, name: string): ShFile;
}
interface ShSyntax {
  NewParser(): ShParser;
  NodeType(node: ShNode): string;
  Walk(node: ShNode, visit: (node: ShNode | null) => boolean): void;
  SplitBraces(word: ShWord): ShWord;
}

let syntax: ShSyntax | undefined;
let parser: ShParser | undefined;

function load(): ShSyntax {
  if (!syntax) {
    const require = createRequire(import.meta.url);
    syntax = (require("mvdan-sh") as { syntax: ShSyntax }).syntax;
  }
  return syntax;
}

export function nodeType(node: ShNode): string {
  return load().NodeType(node);
}

export function walk(node: ShNode, visit: (node: ShNode) => boolean): void {
  load().Walk(node, (n) => (n === null ? false : visit(n)));
}

export function splitBraces(word: ShWord): ShWord {
  return load().SplitBraces(word);
}

/** Parse failures carry a Go error; surface its message (e.g. `1:6: reached EOF without closing quote "`). */
export class ShellSyntaxError extends Error {}

export function parseShell(src: string): ShFile {
  const sx = load();
  parser ??= sx.NewParser();
  try {
    return parser.Parse(src, "");
  } catch (err) {
    // A stack overflow inside GopherJS may leave the parser half-updated: start over next time.
    parser = undefined;
    if (err instanceof RangeError) throw new ShellSyntaxError("nested too deeply to analyse");
    const goErr = err as { Error?: () => string };
    throw new ShellSyntaxError(typeof goErr?.Error === "function" ? goErr.Error() : String(err));
  }
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
}

let ops: ShOps | undefined;

export function shellOps(): ShOps {
  if (ops) return ops;
  const bin = (src: string): number => (parseShell(src).Stmts[0]?.Cmd as ShBinaryCmd).Op;
  const rdr = (src: string): number => parseShell(src).Stmts[0]?.Redirs[0]?.Op ?? -1;
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
  };
  return ops;
}
