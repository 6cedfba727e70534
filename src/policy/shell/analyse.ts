import { Doorkeeper } from "../base/doorkeeper.ts";
import { Lru } from "../base/lru.ts";
import { collapseSpaces } from "../base/text-pattern.ts";
import { buildCommand } from "./command.ts";
import { continuationReadings } from "./continuations.ts";
import { riskyExpansion } from "./expansions.ts";
import type { Assignment, Spawner } from "./command.ts";
import { lexShell } from "./lexer.ts";
import type { LexAssign, LexCommand, LexList, LexPart, LexPipeline, LexWord } from "./lexer-types.ts";
import { goString, isNil, items, kindOf, parseShell, shellOps, ShellSyntaxError, walk } from "./mvdan.ts";
import type {
  GoSlice,
  RawAssign,
  RawBinaryCmd,
  RawCallExpr,
  RawCaseClause,
  RawDeclClause,
  RawForClause,
  RawFuncDecl,
  RawIfClause,
  RawNode,
  RawRedirect,
  RawStmt,
  RawStmtList,
  RawWhileClause,
  RawWord,
  RawWrappedStmt,
  ShOps,
} from "./mvdan.ts";
import { isSensitiveAssignment } from "./wrappers.ts";
import type { ShellAnalysis, ShellCommand, ShellComposite, Word } from "./types.ts";
import { BraceOverflowError, expandWord, mayBraceExpand, Source } from "./words.ts";

/** Longer lines are not parsed (mvdan-sh needs ~80 ms for 60 KB): they need approval. */
export const MAX_COMMAND_LENGTH = 64 * 1024;
/** `bash -c "sh -c '…'"` nesting beyond this needs approval. */
const MAX_SCRIPT_DEPTH = 4;
/** Substitution nesting beyond this needs approval; also bounds our own recursion. */
const MAX_NESTING = 64;
const CACHE_ENTRIES = 1000;
/** Huge lines are rare and would pin memory: they are re-analysed each time. */
const CACHE_MAX_KEY_LENGTH = 8 * 1024;

interface Sink {
  commands: ShellCommand[];
  composites: ShellComposite[];
  writes: string[];
  /** One per script depth, made on first use. */
  spawners?: Spawner[];
}

function opaqueCommand(text: string, why: string): ShellCommand {
  return { levels: [text], denyOnly: [], allowDepth: 0, argv: text.split(" ").filter(Boolean), privileged: false, carrier: false, unparsed: why };
}

/** Writing to these is not writing a file. */
const HARMLESS_TARGETS = /^\/dev\/(null|stdout|stderr|tty|fd\/\d+)$/;

class Visitor {
  calls = 0;
  unparsed = false;
  private nesting = 0;
  private readonly ops: ShOps = shellOps();

  constructor(
    private readonly src: Source,
    private readonly depth: number,
    private readonly out: Sink,
  ) {}

  stmts(list: GoSlice<RawStmt>): string {
    return items(list)
      .map((s) => this.stmt(s))
      .join("; ");
  }

  stmt(s: RawStmt): string {
    const redirs = items(s.Redirs).map((r) => this.redirect(r));
    const body = isNil(s.Cmd) ? "" : this.command(s.Cmd, this.stdinOf(s));
    return [s.Negated ? "!" : "", body, ...redirs, s.Background ? "&" : ""].filter((t) => t.length > 0).join(" ");
  }

  /** Text a here-document or here-string feeds the statement, if any. */
  private stdinOf(s: RawStmt): Word | undefined {
    let fed: Word | undefined;
    for (const r of items(s.Redirs)) {
      if (r.Op === this.ops.wordHdoc && !isNil(r.Word)) fed = expandWord(r.Word, this.src)[0];
      else if ((r.Op === this.ops.hdoc || r.Op === this.ops.dashHdoc) && !isNil(r.Hdoc)) fed = expandWord(r.Hdoc, this.src)[0];
    }
    return fed;
  }

  private push(cmd: ShellCommand): void {
    if (cmd.unparsed) this.unparsed = true;
    this.out.commands.push(cmd);
  }

  private opaque(node: RawNode, why: string): string {
    const text = this.src.slice(node);
    this.push(opaqueCommand(text, why));
    return text;
  }

  private command(cmd: RawNode, stdin: Word | undefined): string {
    const type = kindOf(cmd);
    switch (type) {
      case "CallExpr":
        return this.call(cmd as RawCallExpr, stdin);
      case "BinaryCmd":
        return this.binary(cmd as RawBinaryCmd);
      case "Subshell":
        return `( ${this.stmts((cmd as RawStmtList).Stmts)} )`;
      case "Block":
        return `{ ${this.stmts((cmd as RawStmtList).Stmts)}; }`;
      case "IfClause":
        this.ifClause(cmd as RawIfClause);
        return this.src.slice(cmd);
      case "WhileClause": {
        const w = cmd as RawWhileClause;
        this.stmts(w.Cond);
        this.stmts(w.Do);
        return this.src.slice(cmd);
      }
      case "ForClause": {
        const f = cmd as RawForClause;
        this.substitutions(f.Loop);
        this.stmts(f.Do);
        return this.src.slice(cmd);
      }
      case "CaseClause": {
        const c = cmd as RawCaseClause;
        this.substitutions(c.Word);
        for (const item of items(c.Items)) {
          for (const p of items(item.Patterns)) this.substitutions(p);
          this.stmts(item.Stmts);
        }
        return this.src.slice(cmd);
      }
      case "TimeClause":
      case "CoprocClause": {
        const inner = (cmd as RawWrappedStmt).Stmt;
        const keyword = type === "TimeClause" ? "time" : "coproc";
        return isNil(inner) ? keyword : `${keyword} ${this.stmt(inner)}`;
      }
      case "DeclClause":
        return this.decl(cmd as RawDeclClause);
      case "ArithmCmd":
      case "TestClause":
      case "LetClause":
        // Evaluations only; what they can run hides in substitutions.
        this.substitutions(cmd);
        return this.src.slice(cmd);
      case "FuncDecl": {
        // Judged by its body, where it is defined: calling the function runs nothing else.
        const body = (cmd as RawFuncDecl).Body;
        if (!isNil(body)) this.stmt(body);
        return this.src.slice(cmd);
      }
      default:
        return this.opaque(cmd, `uses a shell construct (${type}) clawgate does not analyse`);
    }
  }

  private ifClause(c: RawIfClause): void {
    this.stmts(c.Cond);
    this.stmts(c.Then);
    if (!isNil(c.Else)) this.ifClause(c.Else);
  }

  private isPipe(op: number): boolean {
    return op === this.ops.pipe || op === this.ops.pipeAll;
  }

  private binary(b: RawBinaryCmd): string {
    if (this.isPipe(b.Op)) {
      const stages: RawStmt[] = [];
      const flatten = (s: RawStmt): void => {
        const inner = s.Cmd;
        if (!isNil(inner) && s.Redirs.$length === 0 && !s.Negated && kindOf(inner) === "BinaryCmd" && this.isPipe((inner as RawBinaryCmd).Op)) {
          flatten((inner as RawBinaryCmd).X);
          flatten((inner as RawBinaryCmd).Y);
          return;
        }
        stages.push(s);
      };
      flatten(b.X);
      flatten(b.Y);
      const text = stages.map((s) => this.stmt(s)).join(" | ");
      this.out.composites.push({ kind: "pipeline", text });
      return text;
    }
    const op = b.Op === this.ops.and ? "&&" : b.Op === this.ops.or ? "||" : "?";
    return `${this.stmt(b.X)} ${op} ${this.stmt(b.Y)}`;
  }

  private expand(word: RawWord): Word[] {
    this.substitutions(word);
    return expandWord(word, this.src);
  }

  private call(c: RawCallExpr, stdin: Word | undefined): string {
    this.calls++;
    const assigns = items(c.Assigns).map((a) => this.assign(a));
    const words: Word[] = [];
    let problem: string | undefined;
    items(c.Args).forEach((arg, i) => {
      if (i === 0 && mayBraceExpand(arg)) problem = "command name uses brace expansion";
      try {
        words.push(...this.expand(arg));
      } catch (err) {
        if (!(err instanceof BraceOverflowError)) throw err;
        problem = "a brace expansion produces too many words";
        words.push({ text: this.src.slice(arg), dynamic: true, glob: false });
      }
    });
    const raw = [...assigns.map((a) => a.text), ...words.map((w) => w.text)].join(" ");
    if (words.length === 0) {
      const sensitive = assigns.find((a) => isSensitiveAssignment(a.name));
      if (sensitive) this.push(opaqueCommand(raw, `sets ${sensitive.name}, which changes what later commands run`));
      return raw;
    }
    const cmd = buildCommand(assigns, words, spawnerFor(this.depth, this.out), stdin);
    if (!problem && isPlainTest(cmd)) return cmd.levels[0] ?? raw;
    this.push(problem ? { ...cmd, unparsed: problem } : cmd);
    return cmd.levels[0] ?? raw;
  }

  private assign(a: RawAssign): Assignment {
    this.substitutions(a);
    const name = isNil(a.Name) ? "" : goString(a.Name.Value);
    const value = !isNil(a.Value) ? (expandWord(a.Value, this.src)[0]?.text ?? "") : !isNil(a.Array) ? this.src.slice(a.Array) : "";
    return { name, text: a.Naked ? name : `${name}${a.Append ? "+=" : "="}${value}` };
  }

  private decl(d: RawDeclClause): string {
    this.calls++;
    const words: Word[] = [{ text: goString(d.Variant.Value), dynamic: false, glob: false }];
    for (const arg of items(d.Args)) {
      // assign() judges the substitutions inside; do it here only for the other words.
      let text: string;
      if (!arg.Naked) text = this.assign(arg).text;
      else if (!isNil(arg.Value)) text = this.expand(arg.Value)[0]?.text ?? "";
      else text = isNil(arg.Name) ? "" : goString(arg.Name.Value);
      words.push({ text, dynamic: false, glob: false });
    }
    const cmd = buildCommand([], words, spawnerFor(this.depth, this.out));
    this.push(cmd);
    return cmd.levels[0] ?? "";
  }

  private redirect(r: RawRedirect): string {
    const hasWord = !isNil(r.Word);
    const hasHdoc = !isNil(r.Hdoc);
    if (hasWord) this.substitutions(r.Word);
    if (hasHdoc) this.substitutions(r.Hdoc);
    const ops = this.ops;
    const target = hasWord ? (expandWord(r.Word, this.src)[0]?.text ?? "") : "";
    const op = hasWord ? this.src.slice(r).slice(0, Math.max(0, r.Word.Pos().Offset() - r.Pos().Offset())).trim() : "";
    const writes = r.Op === ops.rdrOut || r.Op === ops.appOut || r.Op === ops.clbOut || r.Op === ops.rdrAll || r.Op === ops.appAll || r.Op === ops.rdrInOut;
    const dupToFile = r.Op === ops.dplOut && !/^(\d+-?|-)$/.test(target);
    if ((writes || dupToFile) && !HARMLESS_TARGETS.test(target)) this.out.writes.push(target);
    // Keep a heredoc's body in the canonical text: an exact rule must not cover other bodies.
    const body = hasHdoc ? `\n${this.src.slice(r.Hdoc)}` : "";
    return `${op}${target}${body}`;
  }

  /** Judges every `$(…)`, backtick and `<(…)` inside `node` as commands of their own. */
  substitutions(node: RawNode): void {
    if (isNil(node) || isPlainWord(node)) return;
    walk(node, (n) => {
      const t = kindOf(n);
      if (t !== "CmdSubst" && t !== "ProcSubst") {
        if (EXPANSION_KINDS.has(t)) {
          const why = riskyExpansion(n, this.ops, (x) => this.src.slice(x));
          if (why) this.push(opaqueCommand(t === "ArrayElem" ? `[${this.src.slice(n).replace(/^\[/, "")}` : this.src.slice(n), why));
        }
        return true;
      }
      if (++this.nesting > MAX_NESTING) this.push(opaqueCommand(this.src.slice(n), "substitutions are nested too deeply"));
      else this.stmts((n as RawStmtList).Stmts);
      this.nesting--;
      return false;
    });
  }
}

/** Nodes that may evaluate a value as code (see expansions.ts). */
const EXPANSION_KINDS = new Set(["ParamExp", "ArithmExp", "ArithmCmd", "LetClause", "CStyleLoop", "BinaryTest", "UnaryTest", "Assign", "ArrayElem"]);

/** Words made only of literals and quotes hold no substitution: skip the walk. */
function isPlainWord(node: RawNode): boolean {
  if (kindOf(node) !== "Word") return false;
  for (const part of items((node as RawWord).Parts)) {
    const t = kindOf(part);
    if (t === "Lit" || t === "SglQuoted") continue;
    if (t !== "DblQuoted") return false;
    for (const inner of items((part as RawWord).Parts)) if (kindOf(inner) !== "Lit") return false;
  }
  return true;
}

function countCommands(node: RawNode): number {
  let n = 0;
  walk(node, (x) => {
    const t = kindOf(x);
    if (t === "CallExpr" || t === "DeclClause") n++;
    return true;
  });
  return n;
}

const CONTINUATION = /\\\r?\n/;

/** Analyses `line` into `out`; returns its canonical text. */
function analyseInto(line: string, depth: number, out: Sink): string {
  if (line.includes("\\") && CONTINUATION.test(line)) return analyseReadings(line, depth, out);
  return analyseReading(line, depth, out, false) as string;
}

/**
 * A line with `\<newline>` continuations is judged as bash reads it (joined) and, where a
 * quote or comment may have been misjudged, in its other readings too: every command of
 * every reading is judged (see continuations.ts). A reading that is not valid shell cannot
 * be the one bash runs and is left out.
 */
function analyseReadings(line: string, depth: number, out: Sink): string {
  const [first, ...others] = continuationReadings(line);
  const whole = analyseReading(first as string, depth, out, false) as string;
  for (const reading of others) {
    const extra: Sink = { commands: [], composites: [], writes: [] };
    const text = analyseReading(reading, depth, extra, true);
    if (text === null) continue;
    const known = new Set(out.commands.map(commandKey));
    for (const c of extra.commands) if (!known.has(commandKey(c))) out.commands.push(c);
    out.composites.push(...extra.composites);
    if (text.trim().length > 0 && text !== whole) out.composites.push({ kind: "line", text });
    out.writes.push(...extra.writes);
  }
  return whole;
}

function commandKey(c: ShellCommand): string {
  return `${c.levels.join("\0")}\u0001${c.denyOnly.join("\0")}\u0001${c.unparsed ?? ""}\u0001${c.opaque ?? ""}`;
}

/** One reading of a line; null when `alternative` and it is not valid shell. */
function analyseReading(line: string, depth: number, out: Sink, alternative: boolean): string | null {
  const trimmed = line.trim();
  if (depth > MAX_SCRIPT_DEPTH) {
    out.commands.push(opaqueCommand(trimmed, "shells are nested too deeply"));
    return trimmed;
  }
  const lexed = useFastPaths ? lexShell(line) : null;
  if (lexed) return lexedList(lexed, depth, out, 0);
  let parsed;
  try {
    parsed = parseShell(line);
  } catch (err) {
    if (!(err instanceof ShellSyntaxError)) throw err;
    if (alternative) return null;
    out.commands.push(opaqueCommand(trimmed, `shell syntax error: ${err.message}`));
    return trimmed;
  }
  // Counted before visiting: brace expansion rewrites words in place.
  const expected = countCommands(parsed.file);
  const visitor = new Visitor(new Source(line, parsed), depth, out);
  let rendered: string;
  try {
    rendered = visitor.stmts(parsed.file.Stmts);
  } catch (err) {
    out.commands.push(opaqueCommand(trimmed, `analysis failed: ${err instanceof Error ? err.message : String(err)}`));
    return trimmed;
  }
  // Defence in depth: every command node the parser saw must have been judged.
  if (!visitor.unparsed && expected !== visitor.calls) {
    out.commands.push(opaqueCommand(trimmed, "contains a construct clawgate does not analyse"));
  }
  return rendered;
}

/*
 * The lexer's structures, judged exactly as Visitor judges the full parser's tree (same
 * order of commands, composites and writes, same canonical text): the differential test
 * holds the two to that.
 */
function lexedList(list: LexList, depth: number, out: Sink, nesting: number): string {
  return list
    .map((andOr) => {
      let text = lexedPipeline(andOr.first, depth, out, nesting);
      for (const next of andOr.rest) text = `${text} ${next.op} ${lexedPipeline(next.pipeline, depth, out, nesting)}`;
      return andOr.background ? `${text} &` : text;
    })
    .join("; ");
}

function lexedPipeline(stages: LexPipeline, depth: number, out: Sink, nesting: number): string {
  if (stages.length === 1) return lexedCommand(stages[0] as LexCommand, depth, out, nesting);
  const text = stages.map((c) => lexedCommand(c, depth, out, nesting)).join(" | ");
  out.composites.push({ kind: "pipeline", text });
  return text;
}

function lexedSubstitutions(parts: readonly LexPart[], depth: number, out: Sink, nesting: number): void {
  for (const part of parts) {
    if (!part.subst) continue;
    if (nesting + 1 > MAX_NESTING) out.commands.push(opaqueCommand(part.text, "substitutions are nested too deeply"));
    else lexedList(part.subst, depth, out, nesting + 1);
  }
}

function lexedText(parts: readonly LexPart[]): Word {
  let text = "";
  let dynamic = false;
  let glob = false;
  for (const p of parts) {
    text += p.text;
    dynamic ||= p.dynamic;
    glob ||= p.glob;
  }
  return { text, dynamic, glob };
}

/** The word's substitutions judged, then the word (or its brace expansions) as argv. */
function lexedWords(word: LexWord, depth: number, out: Sink, nesting: number, into: Word[] = []): Word[] {
  lexedSubstitutions(word.parts, depth, out, nesting);
  if (word.braces) for (const text of word.braces) into.push({ text, dynamic: false, glob: false });
  else into.push(lexedText(word.parts));
  return into;
}

function lexedAssign(a: LexAssign, depth: number, out: Sink, nesting: number): Assignment {
  lexedSubstitutions(a.value, depth, out, nesting);
  return { name: a.name, text: `${a.name}${a.append ? "+=" : "="}${lexedText(a.value).text}` };
}

function rawText(assigns: readonly Assignment[], words: readonly Word[]): string {
  return [...assigns.map((a) => a.text), ...words.map((w) => w.text)].join(" ");
}

/** As Visitor.stmt: redirections first (their writes), then the command, shown command first. */
function lexedCommand(cmd: LexCommand, depth: number, out: Sink, nesting: number): string {
  let stdin: Word | undefined;
  const redirs = cmd.redirects.map((r) => {
    const target = lexedText(r.target.parts).text;
    if (r.writes && !HARMLESS_TARGETS.test(target)) out.writes.push(target);
    if (r.body === undefined) return `${r.op}${target}`;
    // As Visitor.redirect: the body stays in the text, so an exact rule covers only this one.
    stdin = { text: r.body, dynamic: false, glob: false };
    return `${r.op}${target}\n${r.body}${target}`;
  });
  const body = lexedBody(cmd, depth, out, nesting, stdin);
  return [body, ...redirs].filter((t) => t.length > 0).join(" ");
}

function lexedBody(cmd: LexCommand, depth: number, out: Sink, nesting: number, stdin?: Word): string {
  switch (cmd.kind) {
    case "group": {
      const inner = lexedList(cmd.body, depth, out, nesting);
      return cmd.open === "(" ? `( ${inner} )` : `{ ${inner}; }`;
    }
    case "compound":
      for (const step of cmd.steps) {
        if ("list" in step) lexedList(step.list, depth, out, nesting);
        else if ("word" in step) lexedSubstitutions(step.word.parts, depth, out, nesting);
        else lexedCommand(step.command, depth, out, nesting);
      }
      return cmd.text;
    case "decl": {
      const words: Word[] = [{ text: cmd.variant, dynamic: false, glob: false }];
      for (const arg of cmd.args) {
        const text = "assign" in arg ? lexedAssign(arg.assign, depth, out, nesting).text : (lexedWords(arg.word, depth, out, nesting)[0]?.text ?? "");
        words.push({ text, dynamic: false, glob: false });
      }
      const built = buildCommand([], words, spawnerFor(depth, out));
      out.commands.push(built);
      return built.levels[0] ?? "";
    }
    case "simple": {
      const assigns = cmd.assigns.length === 0 ? [] : cmd.assigns.map((a) => lexedAssign(a, depth, out, nesting));
      const words: Word[] = [];
      for (const w of cmd.words) lexedWords(w, depth, out, nesting, words);
      if (words.length === 0) {
        const raw = rawText(assigns, words);
        const sensitive = assigns.find((a) => isSensitiveAssignment(a.name));
        if (sensitive) out.commands.push(opaqueCommand(raw, `sets ${sensitive.name}, which changes what later commands run`));
        return raw;
      }
      const built = buildCommand(assigns, words, spawnerFor(depth, out), stdin);
      if (!isPlainTest(built)) out.commands.push(built);
      return built.levels[0] ?? rawText(assigns, words);
    }
  }
}

/** Where nested scripts and argvs of commands at `depth` are analysed (a class: no closures per analysis). */
class SinkSpawner implements Spawner {
  constructor(
    private readonly depth: number,
    private readonly out: Sink,
  ) {}

  script(script: Word): void {
    const whole = analyseInto(script.text, this.depth + 1, this.out);
    if (whole.length > 0) this.out.composites.push({ kind: "line", text: whole });
  }

  argv(words: Word[]): void {
    this.out.commands.push(buildCommand([], words, this));
  }

  write(path: string): void {
    if (!HARMLESS_TARGETS.test(path)) this.out.writes.push(path);
  }
}

function spawnerFor(depth: number, out: Sink): Spawner {
  const spawners = (out.spawners ??= []);
  return (spawners[depth] ??= new SinkSpawner(depth, out));
}

/**
 * `[ … ]` and `test …` run as themselves (no wrapper, no assignment before them): the test
 * builtin, which only looks at strings and files. Like `[[ … ]]`, it is no command to judge:
 * its substitutions were judged already, its redirections are in the writes, the line's text
 * still goes to deny rules, and a line of nothing else is judged as itself. A test that can
 * run code (`-v 'a[$(…)]'`) carries `unparsed` and stays.
 */
function isPlainTest(c: ShellCommand): boolean {
  const name = c.argv[0];
  if (name !== "[" && name !== "test") return false;
  if (name === "[" && c.argv[c.argv.length - 1] !== "]") return false;
  return c.levels.length === 1 && c.denyOnly.length === 0 && !c.privileged && !c.carrier && c.unparsed === undefined && c.opaque === undefined && c.effects === undefined;
}

/** Collapses double spaces in place: the commands and composites in `out` are this analysis's own. */
function finalise(out: Sink, rawWhole: string): ShellAnalysis {
  const whole = collapseSpaces(rawWhole.trim());
  const commands = out.commands;
  for (const c of commands) {
    if (c.levels.some(hasDoubleSpace)) c.levels = c.levels.map(collapseSpaces);
    if (c.denyOnly.some(hasDoubleSpace)) c.denyOnly = c.denyOnly.map(collapseSpaces);
  }
  if (commands.length === 0 && whole.length > 0) {
    // Only assignments or tests (`X=1`, `[[ -f x ]]`): judge the line itself.
    commands.push({ levels: [whole], denyOnly: [], allowDepth: 0, argv: whole.split(" "), privileged: false, carrier: false });
  }
  const composites: ShellComposite[] = [];
  for (const c of out.composites) addComposite(composites, c.kind, collapseSpaces(c.text));
  if (whole.length > 0 && (commands.length > 1 || commands[0]?.levels[0] !== whole)) addComposite(composites, "line", whole);
  return { commands, composites, whole, writes: out.writes.length < 2 ? out.writes : [...new Set(out.writes)] };
}

function addComposite(composites: ShellComposite[], kind: ShellComposite["kind"], text: string): void {
  for (const c of composites) if (c.kind === kind && c.text === text) return;
  composites.push({ kind, text });
}

function hasDoubleSpace(text: string): boolean {
  return text.includes("  ");
}

function analyseUncached(line: string): ShellAnalysis {
  const out: Sink = { commands: [], composites: [], writes: [] };
  if (line.length > MAX_COMMAND_LENGTH) {
    const head = `${line.slice(0, 80)}…`;
    return { commands: [opaqueCommand(head, `longer than ${MAX_COMMAND_LENGTH / 1024} KiB`)], composites: [], whole: head, writes: [] };
  }
  return finalise(out, analyseInto(line, 0, out));
}

/**
 * A command given as an argv array (no shell involved): words are taken literally, but
 * wrappers are still peeled (`["bash", "-c", "rm -rf /"]` runs `rm -rf /`).
 */
export function analyseArgv(argv: readonly string[]): ShellAnalysis {
  const out: Sink = { commands: [], composites: [], writes: [] };
  const words = argv.map((text) => ({ text, dynamic: false, glob: false }));
  if (words.length > 0) out.commands.push(buildCommand([], words, spawnerFor(0, out)));
  return finalise(out, argv.join(" "));
}

const cache = new Lru<string, ShellAnalysis>(CACHE_ENTRIES);
/** Lines are cached from their second sighting: most are never seen again (see Doorkeeper). */
const seen = new Doorkeeper();

/**
 * Every command a shell line would run, normalised, with wrappers peeled off. Pure and
 * config-independent, so results are shared through one bounded LRU cache.
 */
export function analyseShell(line: string): ShellAnalysis {
  const cacheable = line.length <= CACHE_MAX_KEY_LENGTH;
  // A first sighting cannot be cached yet: skip the lookup.
  const admitted = cacheable && seen.admit(line);
  const hit = admitted ? cache.get(line) : undefined;
  if (hit) return hit;
  const result = analyseUncached(line);
  if (admitted) cache.set(line, result);
  return result;
}

let useFastPaths = true;

/** The analysis through the full parser alone (no lexer, no cache): the differential test's reference. */
export function analyseShellFullParser(line: string): ShellAnalysis {
  useFastPaths = false;
  try {
    return analyseUncached(line);
  } finally {
    useFastPaths = true;
  }
}

/** Uncached, through the lexer where it can (what a never-seen line costs). */
export function analyseShellUncached(line: string): ShellAnalysis {
  return analyseUncached(line);
}

/** For tests and benchmarks that need a cold cache. */
export function clearShellCache(): void {
  cache.clear();
  seen.clear();
}
