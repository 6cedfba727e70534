/** What the shell lexer (lexer.ts) returns; analyse.ts judges it as it judges the full parser's tree. */

/** One piece of a word; `text` is what the analysis shows for it. */
export interface LexPart {
  text: string;
  dynamic: boolean;
  glob: boolean;
  /** Commands inside a `$(…)`, backticks or `<(…)`, judged on their own. */
  subst?: LexList;
}

export interface LexWord {
  parts: LexPart[];
  /** Set when an unquoted `{a,b}` expands the word into several. */
  braces?: string[];
}

export interface LexRedirect {
  /** As the full parser renders it: operator and target with no space between. */
  op: string;
  target: LexWord;
  /** `>` `>>` `>|`, or `>&` to something that is not a descriptor. */
  writes: boolean;
  /** A here-document's body: its lines, each ending in a newline. */
  body?: string;
}

export interface LexAssign {
  name: string;
  append: boolean;
  /** The value's parts (none for `X=`). */
  value: LexPart[];
}

interface LexSimple {
  kind: "simple";
  assigns: LexAssign[];
  words: LexWord[];
  redirects: LexRedirect[];
}

/** `export A=1 B`: the full parser's DeclClause. */
export interface LexDecl {
  kind: "decl";
  variant: string;
  args: ({ assign: LexAssign } | { word: LexWord })[];
  redirects: LexRedirect[];
}

/** `( … )` or `{ …; }`. */
interface LexGroup {
  kind: "group";
  open: "(" | "{";
  body: LexList;
  redirects: LexRedirect[];
}

/** Something judged piece by piece but shown as written: `if`, `for`, `while`, `case`, functions. */
export interface LexCompound {
  kind: "compound";
  text: string;
  /** A function definition. */
  func?: true;
  /** In the order the full parser's visitor judges them. */
  steps: ({ list: LexList } | { word: LexWord } | { command: LexCommand })[];
  redirects: LexRedirect[];
}

export type LexCommand = LexSimple | LexDecl | LexGroup | LexCompound;

/** Stages of one pipeline. */
export type LexPipeline = LexCommand[];

export interface LexAndOr {
  first: LexPipeline;
  rest: { op: "&&" | "||"; pipeline: LexPipeline }[];
  /** Ends in `&`. */
  background: boolean;
}

export type LexList = LexAndOr[];
