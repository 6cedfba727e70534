import { Lru } from "../lru.ts";
import { collapseSpaces } from "../text-pattern.ts";
import { buildCommand } from "./command.ts";
import type { Assignment, Spawner } from "./command.ts";
import { fastSplit } from "./fast-path.ts";
import { nodeType, parseShell, shellOps, ShellSyntaxError, walk } from "./mvdan.ts";
import type {
  ShAssign,
  ShBinaryCmd,
  ShCaseClause,
  ShDeclClause,
  ShForClause,
  ShIfClause,
  ShNode,
  ShOps,
  ShRedirect,
  ShStmt,
  ShStmtList,
  ShWhileClause,
  ShWord,
  ShWrappedStmt,
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
}

export function opaqueCommand(text: string, why: string): ShellCommand {
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

  stmts(list: ShStmt[]): string {
    return list.map((s) => this.stmt(s)).join("; ");
  }

  stmt(s: ShStmt): string {
    const redirs = s.Redirs.map((r) => this.redirect(r));
    const body = s.Cmd ? this.command(s.Cmd) : "";
    return [s.Negated ? "!" : "", body, ...redirs, s.Background ? "&" : ""].filter((t) => t.length > 0).join(" ");
  }

  private push(cmd: ShellCommand): void {
    if (cmd.unparsed) this.unparsed = true;
    this.out.commands.push(cmd);
  }

  private opaque(node: ShNode, why: string): string {
    const text = this.src.slice(node);
    this.push(opaqueCommand(text, why));
    return text;
  }

  private command(cmd: ShNode): string {
    const type = nodeType(cmd);
    switch (type) {
      case "CallExpr":
        return this.call(cmd as unknown as { Assigns: ShAssign[]; Args: ShWord[] } & ShNode);
      case "BinaryCmd":
        return this.binary(cmd as ShBinaryCmd);
      case "Subshell":
        return `( ${this.stmts((cmd as ShStmtList).Stmts)} )`;
      case "Block":
        return `{ ${this.stmts((cmd as ShStmtList).Stmts)}; }`;
      case "IfClause":
        this.ifClause(cmd as ShIfClause);
        return this.src.slice(cmd);
      case "WhileClause": {
        const w = cmd as ShWhileClause;
        this.stmts(w.Cond);
        this.stmts(w.Do);
        return this.src.slice(cmd);
      }
      case "ForClause": {
        const f = cmd as ShForClause;
        this.substitutions(f.Loop);
        this.stmts(f.Do);
        return this.src.slice(cmd);
      }
      case "CaseClause": {
        const c = cmd as ShCaseClause;
        this.substitutions(c.Word);
        for (const item of c.Items) {
          for (const p of item.Patterns) this.substitutions(p);
          this.stmts(item.Stmts);
        }
        return this.src.slice(cmd);
      }
      case "TimeClause":
      case "CoprocClause": {
        const inner = (cmd as ShWrappedStmt).Stmt;
        const keyword = type === "TimeClause" ? "time" : "coproc";
        return inner ? `${keyword} ${this.stmt(inner)}` : keyword;
      }
      case "DeclClause":
        return this.decl(cmd as ShDeclClause);
      case "ArithmCmd":
      case "TestClause":
      case "LetClause":
        // Evaluations only; what they can run hides in substitutions.
        this.substitutions(cmd);
        return this.src.slice(cmd);
      case "FuncDecl":
        return this.opaque(cmd, "defines a shell function");
      default:
        return this.opaque(cmd, `uses a shell construct (${type}) clawgate does not analyse`);
    }
  }

  private ifClause(c: ShIfClause): void {
    this.stmts(c.Cond);
    this.stmts(c.Then);
    if (c.Else) this.ifClause(c.Else);
  }

  private binary(b: ShBinaryCmd): string {
    if (b.Op === this.ops.pipe || b.Op === this.ops.pipeAll) {
      const stages: ShStmt[] = [];
      const flatten = (s: ShStmt): void => {
        const inner = s.Cmd;
        if (inner && s.Redirs.length === 0 && !s.Negated && nodeType(inner) === "BinaryCmd") {
          const bb = inner as ShBinaryCmd;
          if (bb.Op === this.ops.pipe || bb.Op === this.ops.pipeAll) {
            flatten(bb.X);
            flatten(bb.Y);
            return;
          }
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

  private expand(word: ShWord): Word[] {
    this.substitutions(word);
    return expandWord(word, this.src);
  }

  private call(c: { Assigns: ShAssign[]; Args: ShWord[] } & ShNode): string {
    this.calls++;
    const assigns = c.Assigns.map((a) => this.assign(a));
    const words: Word[] = [];
    let problem: string | undefined;
    c.Args.forEach((arg, i) => {
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
    const cmd = buildCommand(assigns, words, spawnerFor(this.depth, this.out));
    this.push(problem ? { ...cmd, unparsed: problem } : cmd);
    return cmd.levels[0] ?? raw;
  }

  private assign(a: ShAssign): Assignment {
    this.substitutions(a);
    const name = a.Name?.Value ?? "";
    const arr = (a as unknown as { Array: ShNode | null }).Array;
    const value = a.Value ? (expandWord(a.Value, this.src)[0]?.text ?? "") : arr ? this.src.slice(arr) : "";
    const append = (a as unknown as { Append: boolean }).Append;
    return { name, text: a.Naked ? name : `${name}${append ? "+=" : "="}${value}` };
  }

  private decl(d: ShDeclClause): string {
    this.calls++;
    const words: Word[] = [{ text: d.Variant.Value, dynamic: false, glob: false }];
    for (const arg of d.Args) {
      this.substitutions(arg);
      const text = arg.Naked ? (arg.Value ? (expandWord(arg.Value, this.src)[0]?.text ?? "") : (arg.Name?.Value ?? "")) : this.assign(arg).text;
      words.push({ text, dynamic: false, glob: false });
    }
    const cmd = buildCommand([], words, spawnerFor(this.depth, this.out));
    this.push(cmd);
    return cmd.levels[0] ?? "";
  }

  private redirect(r: ShRedirect): string {
    this.substitutions(r.Word);
    this.substitutions(r.Hdoc);
    const ops = this.ops;
    const target = r.Word ? (expandWord(r.Word, this.src)[0]?.text ?? "") : "";
    const op = r.Word ? this.src.slice(r).slice(0, Math.max(0, r.Word.Pos().Offset() - r.Pos().Offset())).trim() : "";
    const writes = r.Op === ops.rdrOut || r.Op === ops.appOut || r.Op === ops.clbOut || r.Op === ops.rdrAll || r.Op === ops.appAll || r.Op === ops.rdrInOut;
    const dupToFile = r.Op === ops.dplOut && !/^(\d+-?|-)$/.test(target);
    if ((writes || dupToFile) && !HARMLESS_TARGETS.test(target)) this.out.writes.push(target);
    // Keep a heredoc's body in the canonical text: an exact rule must not cover other bodies.
    const body = r.Hdoc ? `\n${this.src.slice(r.Hdoc)}` : "";
    return `${op}${target}${body}`;
  }

  /** Judges every `$(…)`, backtick and `<(…)` inside `node` as commands of their own. */
  substitutions(node: ShNode | null): void {
    if (!node || isPlainWord(node)) return;
    walk(node, (n) => {
      const t = nodeType(n);
      if (t !== "CmdSubst" && t !== "ProcSubst") return true;
      if (++this.nesting > MAX_NESTING) this.push(opaqueCommand(this.src.slice(n), "substitutions are nested too deeply"));
      else this.stmts((n as unknown as ShStmtList).Stmts);
      this.nesting--;
      return false;
    });
  }
}

/** Words made only of literals and quotes hold no substitution: skip the (costly) walk. */
function isPlainWord(node: ShNode): boolean {
  const parts = (node as Partial<ShWord>).Parts;
  if (!Array.isArray(parts) || nodeType(node) !== "Word") return false;
  for (const part of parts) {
    const t = nodeType(part);
    if (t === "Lit" || t === "SglQuoted") continue;
    if (t !== "DblQuoted") return false;
    for (const inner of (part as ShWord).Parts) if (nodeType(inner) !== "Lit") return false;
  }
  return true;
}

function countCommands(node: ShNode): number {
  let n = 0;
  walk(node, (x) => {
    const t = nodeType(x);
    if (t === "CallExpr" || t === "DeclClause") n++;
    return true;
  });
  return n;
}

/** Analyses `line` into `out`; returns its canonical text. */
function analyseInto(line: string, depth: number, out: Sink): string {
  const trimmed = line.trim();
  if (depth > MAX_SCRIPT_DEPTH) {
    out.commands.push(opaqueCommand(trimmed, "shells are nested too deeply"));
    return trimmed;
  }
  const fast = fastSplit(line);
  if (fast) {
    if (fast.length === 0) return "";
    out.commands.push(buildCommand([], fast, spawnerFor(depth, out)));
    return fast.map((w) => w.text).join(" ");
  }
  let file;
  try {
    file = parseShell(line);
  } catch (err) {
    if (!(err instanceof ShellSyntaxError)) throw err;
    out.commands.push(opaqueCommand(trimmed, `shell syntax error: ${err.message}`));
    return trimmed;
  }
  // Counted before visiting: brace expansion rewrites words in place.
  const expected = countCommands(file);
  const visitor = new Visitor(new Source(line), depth, out);
  let rendered: string;
  try {
    rendered = visitor.stmts(file.Stmts);
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

function spawnerFor(depth: number, out: Sink): Spawner {
  return {
    script: (script) => {
      const whole = analyseInto(script.text, depth + 1, out);
      if (whole.length > 0) out.composites.push({ kind: "line", text: whole });
    },
    argv: (words) => out.commands.push(buildCommand([], words, spawnerFor(depth, out))),
  };
}

function finalise(out: Sink, rawWhole: string): ShellAnalysis {
  const whole = collapseSpaces(rawWhole.trim());
  const commands = out.commands.map((c) => ({ ...c, levels: c.levels.map(collapseSpaces), denyOnly: c.denyOnly.map(collapseSpaces) }));
  if (commands.length === 0 && whole.length > 0) {
    // Only assignments or tests (`X=1`, `[[ -f x ]]`): judge the line itself.
    commands.push({ levels: [whole], denyOnly: [], allowDepth: 0, argv: whole.split(" "), privileged: false, carrier: false });
  }
  const composites = out.composites.map((c) => ({ ...c, text: collapseSpaces(c.text) }));
  if (whole.length > 0 && (commands.length > 1 || commands[0]?.levels[0] !== whole)) composites.push({ kind: "line", text: whole });
  const seen = new Set<string>();
  return {
    commands,
    composites: composites.filter((c) => {
      const key = `${c.kind}\0${c.text}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
    whole,
    writes: [...new Set(out.writes)],
  };
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

/**
 * Every command a shell line would run, normalised, with wrappers peeled off. Pure and
 * config-independent, so results are shared through one bounded LRU cache.
 */
export function analyseShell(line: string): ShellAnalysis {
  const hit = cache.get(line);
  if (hit) return hit;
  const result = analyseUncached(line);
  if (line.length <= CACHE_MAX_KEY_LENGTH) cache.set(line, result);
  return result;
}

/** For tests and benchmarks that need a cold cache. */
export function clearShellCache(): void {
  cache.clear();
}
