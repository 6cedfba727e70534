import { goString, isNil, items, kindOf } from "./mvdan.ts";
import type { GoSlice, RawNode, RawWord } from "./mvdan.ts";
import type { Word } from "./types.ts";

/**
 * Expansions that run code hidden in a value. Bash evaluates a variable read in arithmetic
 * (`$((x))`, `((x))`, `let`, `[[ x -eq 1 ]]`, array subscripts, `${s:x}`) as an expression of
 * its own, and an array subscript in that expression expands `$(…)`: with
 * `x='a[$(id)]'`, `echo $((x))` runs `id`. The same happens to names given to `declare`,
 * `printf -v`, `read`, `unset`, `test -v` and `${!x}`, and `${x@P}` expands a value as a
 * prompt, command substitutions included. The value can come from anywhere (a file, the
 * environment, the line itself in single quotes), so such expansions need approval.
 * Numbers, `$#`, `$?`, `$$`, `$!`, `${#name}` and assignment targets (`((i=0))`) are safe.
 */

const SAFE_SPECIAL = /^\$[#?$!]|^\$\{#[A-Za-z_][A-Za-z0-9_]*(\[[@*]\])?\}/;
const NUMBER = /^(0[xX][0-9a-fA-F]+|[0-9]+#[0-9A-Za-z@_]+|[0-9]+)/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const ARITH_OPERATOR = /^[-+*/%<>=!&|^~?:,() \t\n]/;

/** Whether arithmetic `text` could evaluate a value (a variable, an expansion) as an expression. */
export function arithmeticReadsValues(text: string): boolean {
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const special = SAFE_SPECIAL.exec(rest) ?? NUMBER.exec(rest);
    if (special) {
      i += special[0].length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      // Assigning (`i=0`, not `i==0` or `i+=1`) does not read the old value.
      let j = i + name[0].length;
      while (text[j] === " " || text[j] === "\t") j++;
      if (text[j] !== "=" || text[j + 1] === "=") return true;
      i = j + 1;
      continue;
    }
    if (!ARITH_OPERATOR.test(rest)) return true;
    i++;
  }
  return false;
}

/** A name a builtin may assign to: plain, or with a literal integer subscript. */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\[([0-9]+|[@*])\])?$/;

const ARRAY_ARITH = "evaluates an array subscript as arithmetic, which can run code hidden in a value (a[$(…)])";
const VALUE_ARITH = "evaluates a value as arithmetic, which can run code hidden in it (a[$(…)])";
const NAME_ARITH = "is given a variable name only known at run time or with a subscript, which can run code (a[$(…)])";

/** Operator codes the checks need, learnt from the parser (see shellOps in mvdan.ts). */
export interface ExpansionOps {
  paramAt: number;
  testArith: ReadonlySet<number>;
  testNamed: ReadonlySet<number>;
}

interface Expansion extends RawNode {
  Op: number;
}
interface ParamExp extends RawNode {
  Excl: boolean;
  Short: boolean;
  Length: boolean;
  Names: number;
  Param: RawNode & { Value: string };
  Index: RawNode;
  Slice: RawNode & { Offset: RawNode; Length: RawNode };
  Exp: Expansion;
}
interface Test extends RawNode {
  Op: number;
  X: RawNode;
  Y: RawNode;
}

/** The literal text of a one-literal word, else null. */
function literal(node: RawNode): string | null {
  if (isNil(node) || kindOf(node) !== "Word") return null;
  const parts = items((node as RawWord).Parts);
  const only = parts[0];
  return parts.length === 1 && only !== undefined && kindOf(only) === "Lit" ? goString((only as RawNode & { Value: string }).Value) : null;
}

/** Whether an array subscript is a literal number, `@` or `*`. */
function plainIndex(index: RawNode): boolean {
  const text = literal(index);
  return text !== null && /^([0-9]+|[@*])$/.test(text);
}

/**
 * Why an expansion node of the full parser's tree can run code hidden in a value, or null.
 * `slice` gives a node's source text.
 */
export function riskyExpansion(n: RawNode, ops: ExpansionOps, slice: (node: RawNode) => string): string | null {
  switch (kindOf(n)) {
    case "ParamExp": {
      const p = n as ParamExp;
      if (!isNil(p.Exp) && p.Exp.Op === ops.paramAt) {
        const op = literal((p.Exp as Expansion & { Word: RawNode }).Word) ?? "";
        return op === "P"
          ? "expands a value as a prompt (${…@P}), which runs the command substitutions in it"
          : `transforms a value with \${…@${op}}, which clawgate does not follow (@P runs code; @E, @A and @Q rewrite what a value holds)`;
      }
      const keys = !isNil(p.Index) && /^[@*]$/.test(literal(p.Index) ?? "");
      if (p.Excl && p.Names === 0 && !keys) return "is an indirect expansion (${!name}), which can run code through a subscript in the name";
      if (!isNil(p.Index) && !plainIndex(p.Index)) return ARRAY_ARITH;
      if (!isNil(p.Slice)) {
        for (const part of [p.Slice.Offset, p.Slice.Length]) if (!isNil(part) && arithmeticReadsValues(slice(part))) return VALUE_ARITH;
      }
      return null;
    }
    case "ArithmExp":
    case "ArithmCmd": {
      const x = (n as RawNode & { X: RawNode }).X;
      return !isNil(x) && arithmeticReadsValues(slice(x)) ? VALUE_ARITH : null;
    }
    case "LetClause":
      for (const e of items((n as RawNode & { Exprs: GoSlice<RawNode> }).Exprs)) if (arithmeticReadsValues(slice(e))) return VALUE_ARITH;
      return null;
    case "CStyleLoop": {
      const loop = n as RawNode & { Init: RawNode; Cond: RawNode; Post: RawNode };
      for (const e of [loop.Init, loop.Cond, loop.Post]) if (!isNil(e) && arithmeticReadsValues(slice(e))) return VALUE_ARITH;
      return null;
    }
    case "BinaryTest": {
      const t = n as Test;
      if (!ops.testArith.has(t.Op)) return null;
      return arithmeticReadsValues(slice(t.X)) || arithmeticReadsValues(slice(t.Y)) ? VALUE_ARITH : null;
    }
    case "UnaryTest": {
      const t = n as Test;
      return ops.testNamed.has(t.Op) && !PLAIN_NAME.test(literal(t.X) ?? "") ? `-v ${NAME_ARITH}` : null;
    }
    case "Assign":
    case "ArrayElem": {
      // (The caller shows an ArrayElem from its subscript on: `[x]=1`.)
      const index = (n as RawNode & { Index: RawNode }).Index;
      return !isNil(index) && !plainIndex(index) ? ARRAY_ARITH : null;
    }
    default:
      return null;
  }
}

/**
 * Why setting `name` to `value` in a command's environment (`PS4='$(id)' bash -x …`,
 * `env BASH_FUNC_ls%%='() { id; }' bash -c ls`) makes a shell it starts run code, or null.
 */
export function codeInEnvironment(name: string, value: string): string | null {
  if (name.startsWith("BASH_FUNC_")) return `${name} defines a shell function for the shells it starts, which clawgate does not analyse`;
  if (name === "BASH_ENV" || name === "ENV") return `${name} makes a shell it starts run the commands in "${value}", which clawgate does not read`;
  if (name === "PROMPT_COMMAND") return "PROMPT_COMMAND runs its value as a command";
  if (/^PS[0124]$/.test(name) && /[$`]/.test(value)) return `${name} is expanded as a prompt, which runs the command substitutions in it`;
  // Options and configuration a tool reads from its environment: `--pre`, `core.pager`, `-P` unseen on the line.
  if (OPTIONS_ENV.test(name)) return `${name} gives the command options or configuration (which can run programs) that clawgate does not see`;
  if (name === "LESS" && /[!|]/.test(value)) return "LESS gives less a command that runs a program";
  return null;
}

const OPTIONS_ENV = /^(GIT_CONFIG_PARAMETERS|GIT_CONFIG_COUNT|GIT_CONFIG_KEY_\d+|GIT_CONFIG_VALUE_\d+|GIT_CONFIG|GIT_CONFIG_GLOBAL|GIT_CONFIG_SYSTEM|GIT_EXEC_PATH|GIT_TEMPLATE_DIR|RIPGREP_CONFIG_PATH|TAR_OPTIONS|MANOPT)$/;

/** Variables whose value is a command a program runs (git's pager, less's preprocessor, …). */
const PROGRAM_ENV = /^(PAGER|MANPAGER|GIT_PAGER|GIT_EDITOR|GIT_SEQUENCE_EDITOR|EDITOR|VISUAL|FCEDIT|SYSTEMD_PAGER|SYSTEMD_EDITOR|GIT_SSH_COMMAND|GIT_SSH|GIT_PROXY_COMMAND|GIT_EXTERNAL_DIFF|GIT_ASKPASS|SSH_ASKPASS|SUDO_ASKPASS|RSYNC_RSH|RSYNC_CONNECT_PROG|LESSOPEN|LESSCLOSE|BROWSER)$/;

/** The command `NAME=value` hands a program to run, to be judged as a script; null for other variables. */
export function commandInEnvironment(name: string, value: string): string | null {
  if (!PROGRAM_ENV.test(name)) return null;
  const command = name.startsWith("LESS") ? value.replace(/^\|\|?/, "").replace(/%s/g, "file") : value;
  return command.trim().length > 0 ? command : null;
}

/** Options of `read` and `mapfile` that take a value (the name operands come after). */
const READ_VALUES = new Set(["d", "i", "n", "N", "p", "t", "u"]);
const MAPFILE_VALUES = new Set(["d", "n", "O", "s", "u", "c"]);

/** The operands of `args` after `-x`-style options, skipping the values of `valued` options. */
function operands(args: readonly Word[], valued: ReadonlySet<string>, into: string[], named?: ReadonlySet<string>): string[] {
  for (let i = 0; i < args.length; i++) {
    const a = (args[i] as Word).text;
    if (a === "--") {
      for (const w of args.slice(i + 1)) into.push(w.text);
      break;
    }
    if (!a.startsWith("-") || a.length < 2) {
      into.push(a);
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const c = a[k] as string;
      if (!valued.has(c) && !named?.has(c)) continue;
      // The value is the rest of the word or the next word; a named value is itself a name.
      const value = k < a.length - 1 ? a.slice(k + 1) : (args[++i]?.text ?? "");
      if (named?.has(c)) into.push(value);
      break;
    }
  }
  return into;
}

const DECLARERS = new Set(["declare", "typeset", "local"]);
const RISKY_BUILTINS = new Set(["declare", "typeset", "local", "export", "readonly", "printf", "read", "unset", "getopts", "mapfile", "readarray", "let", "test", "[", "compgen", "complete"]);

/**
 * Why a builtin given these (expanded) words can run code hidden in a value or a name, or
 * null. Used for both parsers' commands, after wrappers are peeled.
 */
export function riskyBuiltin(name: string, args: readonly Word[]): string | null {
  if (!RISKY_BUILTINS.has(name)) return null;
  switch (name) {
    case "declare":
    case "typeset":
    case "local":
    case "export":
    case "readonly": {
      for (const w of args) {
        const a = w.text;
        if (/^[-+][A-Za-z]+$/.test(a)) {
          if (DECLARERS.has(name) && /[in]/.test(a)) return a.includes("n") ? `${name} ${a} makes a name reference, which can run code through a subscript in its value` : `${name} ${a} evaluates every value given to the variable as arithmetic, which can run code hidden in it`;
          continue;
        }
        const eq = a.indexOf("=");
        const target = eq < 0 ? a : a.slice(0, eq);
        if (!PLAIN_NAME.test(target) && (eq >= 0 || DECLARERS.has(name))) return `${name} ${NAME_ARITH}`;
      }
      return null;
    }
    case "printf":
      for (let i = 0; i < args.length; i++) {
        const a = (args[i] as Word).text;
        if (a === "--" || !a.startsWith("-")) return null;
        if (a === "-v") return PLAIN_NAME.test(args[i + 1]?.text ?? "") ? null : `printf -v ${NAME_ARITH}`;
        if (a.startsWith("-v")) return PLAIN_NAME.test(a.slice(2)) ? null : `printf -v ${NAME_ARITH}`;
      }
      return null;
    case "read":
    case "unset":
    case "getopts": {
      const names = name === "read" ? operands(args, READ_VALUES, [], new Set(["a"])) : name === "getopts" ? operands(args, new Set(), []).slice(1, 2) : operands(args, new Set(), []);
      return names.every((n) => PLAIN_NAME.test(n)) ? null : `${name} ${NAME_ARITH}`;
    }
    case "mapfile":
    case "readarray":
      if (args.some((w) => /^-[A-Za-z]*C/.test(w.text))) return `${name} -C runs a callback, which clawgate does not analyse`;
      return operands(args, MAPFILE_VALUES, []).every((n) => PLAIN_NAME.test(n)) ? null : `${name} ${NAME_ARITH}`;
    case "let":
      return args.some((w) => arithmeticReadsValues(w.text)) ? `let ${VALUE_ARITH}` : null;
    case "test":
    case "[":
      for (let i = 0; i < args.length - 1; i++) {
        if ((args[i] as Word).text === "-v" && !PLAIN_NAME.test((args[i + 1] as Word).text)) return `test -v ${NAME_ARITH}`;
      }
      return null;
    case "compgen":
    case "complete":
      return args.some((w) => /^-[A-Za-z]*[CFW]/.test(w.text)) ? `${name} -C/-F/-W runs or expands code, which clawgate does not analyse` : null;
    default:
      return null;
  }
}
