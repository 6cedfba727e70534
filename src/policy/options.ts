import { abbreviated, dashes, isSignal, resolve, signalName, toolFor } from "./option-spec.ts";
import type { Node, Tool } from "./option-spec.ts";
import { collapseSpaces, compileTextPattern } from "./base/text-pattern.ts";

/**
 * Option-aware matching for deny, ask and dangerous rules: `exec(rm -rf *)` also matches
 * `rm -fr`, `rm -r -f`, `rm --recursive --force`, `rm -Rf`, `rm /x -f -r`, `rm -rfv`. A rule's
 * options must all be present in the command, spelt any way the tool accepts (clustered,
 * separated, in any order, after operands, repeated, long or short, `--opt=v` or `--opt v`);
 * other options may be there too; the rest of the rule (its words without the options) is
 * matched against the command's operands as rules match text. Long↔short equivalences, which
 * options take a value and subcommand aliases come from option-table.ts; other tools follow
 * the POSIX conventions. Words after `--` are operands.
 */

/** An option whose value a rule gives as a pattern (`of=/dev/sd*`). */
interface ValuePattern {
  prefix: string;
  re: RegExp;
}

interface Parsed {
  ids: Set<string>;
  /** The command, its canonical subcommand path and its operands (made on first use). */
  operandText?: string;
  patterns: ValuePattern[];
  node: Node;
  operands: string[];
  /** Parsed as a rule: a word this matcher cannot read (a `*` inside an option). */
  bad: boolean;
  /** Indices of the words that named the subcommand path. */
  pathAt: number[];
  /** Options that turned the subcommand into another (`-destroy`): not options of the result. */
  became: string[];
}

interface ParseOptions {
  /** Parse under this node, without looking for subcommands (a rule, for a command's node). */
  forced?: Node;
  /** Long options the rule gave a value with `=`: they take one in the command too. */
  learned?: ReadonlySet<string>;
  /** Words to leave out (the rule's own subcommand words). */
  skip?: readonly number[];
  /** Words are a rule's: `*` stands for any operands, or any value of an option. */
  rule?: boolean;
}

/** Reads `words` (from index 1) as the options and operands of the command `words[0]`. */
function parseWords(words: readonly string[], tool: Tool, opts: ParseOptions): Parsed {
  let node = opts.forced ?? tool.root;
  const ids = new Set<string>();
  const patterns: ValuePattern[] = [];
  const operands: string[] = [];
  const pathAt: number[] = [];
  let bad = false;
  let ended = false;
  let sawOperand = opts.forced !== undefined;
  const add = (id: string, value?: string): void => {
    if (value === undefined) {
      ids.add(id);
      return;
    }
    if (opts.rule && value.includes("*")) {
      // `-n *`: the option with any value; `of=/dev/sd*`: with a value that pattern matches.
      ids.add(id);
      if (value !== "*") patterns.push({ prefix: `${id}=`, re: compileTextPattern(value).re });
      return;
    }
    const v = tool.signals && id === "-s" ? signalName(value) : value;
    ids.add(id);
    ids.add(`${id}=${v}`);
  };
  for (let i = 1; i < words.length; i++) {
    if (opts.skip?.includes(i)) continue;
    const w = words[i] as string;
    if (ended || w.length < 2 || w[0] !== "-") {
      const sub = sawOperand || (opts.rule && w.includes("\\")) ? undefined : node.subs.get(w);
      if (sub !== undefined) {
        const next = Array.isArray(sub) ? resolve(tool, sub) : sub;
        if (next) {
          node = next;
          pathAt.push(i);
          continue;
        }
      }
      const eq = tool.assignments ? w.indexOf("=") : -1;
      if (eq > 0) {
        // dd's `if=x of=y`: options in all but name, in any order.
        add(w.slice(0, eq), w.slice(eq + 1));
        continue;
      }
      sawOperand = true;
      const flag = node.operandFlags.get(w[0] ?? "");
      if (flag !== undefined && w.length > 1) ids.add(flag);
      operands.push(w);
      continue;
    }
    if (w === "--") {
      ended = true;
      continue;
    }
    if (opts.rule && (w.includes("*") || w.includes("\\"))) {
      bad = true;
      continue;
    }
    const eq = w.indexOf("=");
    const name = dashes(eq > 0 ? w.slice(0, eq) : w, tool.style);
    const known = node.lookup.get(name) ?? (tool.style === "posix" && name.startsWith("--") ? abbreviated(node, name) : undefined);
    if (known) {
      if (known.arity === "variadic") {
        if (opts.rule) bad = true;
        while (i + 1 < words.length && words[i + 1] !== ";" && words[i + 1] !== "+") i++;
        i++;
        add(known.id);
      } else if (known.arity === "value") add(known.id, eq > 0 ? w.slice(eq + 1) : (words[++i] ?? ""));
      else if (known.arity === "optional" && eq > 0) add(known.id, w.slice(eq + 1));
      // Go's flag package: `-auto-approve=false` turns the flag off.
      else if (!(tool.style === "single-dash" && eq > 0 && /^(false|f|0)$/i.test(w.slice(eq + 1)))) {
        add(known.id);
        for (const id of known.also ?? []) add(id);
      }
      continue;
    }
    if (w.startsWith("--") || tool.style === "single-dash") {
      if (eq > 0) add(name, w.slice(eq + 1));
      else if (opts.learned?.has(name)) add(name, words[++i] ?? "");
      else add(name);
      continue;
    }
    if (tool.signals && isSignal(w.slice(1))) {
      add("-s", w.slice(1));
      continue;
    }
    // A cluster: `-rf`, `-n5`, `-nprod`; a letter taking a value ends it.
    for (let k = 1; k < w.length; k++) {
      const letter = `-${w[k]}`;
      const s = node.lookup.get(letter);
      if (s?.arity === "value" || s?.arity === "optional") {
        let rest = w.slice(k + 1);
        if (tool.style === "pflag" && rest.startsWith("=")) rest = rest.slice(1);
        if (rest.length > 0) add(s.id, rest);
        else if (s.arity === "value") add(s.id, words[++i] ?? "");
        else add(s.id);
        break;
      }
      add(s ? s.id : letter);
      for (const id of s?.also ?? []) add(id);
    }
  }
  const became: string[] = [];
  for (const [option, path] of node.becomes) {
    const next = ids.has(option) ? resolve(tool, path) : null;
    if (next) {
      ids.delete(option);
      became.push(option);
      node = next;
    }
  }
  return { ids, patterns, node, operands, bad, pathAt, became };
}

/** Characters that make a rule more than one simple command: such rules match as text only. */
const SHELL_SYNTAX = /[|;&<>()`$]/;

interface Compiled {
  ids: readonly string[];
  patterns: readonly ValuePattern[];
  skeleton: RegExp;
}

/** A rule's content read for option-aware matching; see the file comment. */
export class OptionRule {
  private readonly memo = new Map<Node, Compiled | null>();

  private constructor(
    private readonly tool: Tool,
    private readonly name: string,
    private readonly words: readonly string[],
    private readonly path: readonly string[],
    private readonly pathAt: readonly number[],
    private readonly learned: ReadonlySet<string>,
    private readonly became: readonly string[],
  ) {
    this.spellings = path.length > 0 ? spellingsOf(tool, path[0] as string) : null;
    this.prefix = [name, ...path].join(" ");
  }

  private readonly prefix: string;

  private readonly spellings: string[] | null;

  /** Null when the rule names no option and no aliased subcommand: it matches as text, as before. */
  static compile(content: string): OptionRule | null {
    const text = collapseSpaces(content.trim());
    if (SHELL_SYNTAX.test(text)) return null;
    const words = text.split(" ");
    const name = words[0] as string;
    if (name.includes("*") || name.includes("\\") || words.length < 2) return null;
    const tool = toolFor(name);
    const parsed = parseWords(words, tool, { rule: true });
    if (parsed.bad) return null;
    const path = parsed.node.path;
    // Without options, a rule naming a subcommand still finds it after global options
    // (`kubectl -n prod delete`) and under its other names (`npm i`); others match as before.
    if (parsed.ids.size === 0 && path.length === 0) return null;
    const learned = new Set<string>();
    for (const w of words) if (w.startsWith("--") && w.includes("=") && !parsed.node.lookup.has(w.slice(0, w.indexOf("=")))) learned.add(w.slice(0, w.indexOf("=")));
    const rule = new OptionRule(tool, name, words, path, parsed.pathAt, learned, parsed.became);
    if (parsed.ids.size === 0 && parsed.became.length === 0) {
      // No options: the rule's text, its subcommand spelt canonically, matched against the
      // command's text the same way — options after the subcommand count as before.
      rule.canonical = compileTextPattern(canonicalText(words, name, path, parsed.pathAt, tool, [])).re;
    }
    return rule;
  }

  /** Set for a rule without options: what it matches against canonicalText of a command. */
  private canonical: RegExp | null = null;

  /** The command every match starts with. */
  get command(): string {
    return this.name;
  }

  /** For a rule naming a subcommand: the first two words of a match without options before the subcommand. */
  get subcommandHeads(): string[] | null {
    return this.spellings === null ? null : this.spellings.map((w) => `${this.name} ${w}`);
  }

  /** The rule read under the options of the command's subcommand. */
  private under(node: Node): Compiled | null {
    let c = this.memo.get(node);
    if (c === undefined) {
      const parsed = parseWords(this.words, this.tool, { forced: node, skip: this.pathAt, learned: this.learned, rule: true });
      for (const id of this.became) parsed.ids.delete(id);
      c = parsed.bad ? null : { ids: [...parsed.ids], patterns: parsed.patterns, skeleton: compileTextPattern([this.name, ...this.path, ...parsed.operands].join(" ")).re };
      this.memo.set(node, c);
    }
    return c;
  }

  /**
   * Whether `text` is another spelling of what the rule names. Called once the rule's own text
   * pattern has not matched `text`, which lets the common cases return early.
   */
  testOtherSpellings(text: string): boolean {
    if (!text.startsWith(this.name) || (text.length > this.name.length && text[this.name.length] !== " ")) return false;
    // The subcommand spelt as the rule spells it, right after the command: nothing to respell.
    if (this.canonical !== null && text.startsWith(this.prefix) && (text.length === this.prefix.length || text[this.prefix.length] === " ")) return false;
    // Options need a word that starts with `-` (or a `+main`, `:main`, `of=…` the table knows).
    if (this.canonical === null && !this.tool.loose && !text.includes(" -")) return false;
    // Cheap before parsing: a command under the rule's subcommand spells one of its names.
    if (this.spellings !== null && !this.spellings.some((w) => text.includes(w))) return false;
    const parsed = this.learned.size > 0 ? parseWords(text.split(" "), this.tool, { learned: this.learned }) : parseCommand(text, this.tool);
    const path = parsed.node.path;
    for (let k = 0; k < this.path.length; k++) if (path[k] !== this.path[k]) return false;
    if (this.canonical !== null) return this.canonical.test(canonicalText(text.split(" "), this.name, path, parsed.pathAt, this.tool, parsed.became));
    const rule = this.under(parsed.node);
    if (rule === null) return false;
    for (const id of rule.ids) if (!parsed.ids.has(id)) return false;
    for (const p of rule.patterns) if (![...parsed.ids].some((id) => id.startsWith(p.prefix) && p.re.test(id.slice(p.prefix.length)))) return false;
    parsed.operandText ??= [this.name, ...path, ...parsed.operands].join(" ");
    return rule.skeleton.test(parsed.operandText);
  }
}

/**
 * `kubectl -n prod delete pod x` → `kubectl delete pod x`, `npm i x` → `npm install x`,
 * `terraform apply -destroy x` → `terraform destroy x`: options before the subcommand and the
 * options that changed it dropped, its name made canonical, the rest as written.
 */
function canonicalText(words: readonly string[], name: string, path: readonly string[], pathAt: readonly number[], tool: Tool, became: readonly string[]): string {
  const last = pathAt.length > 0 ? (pathAt[pathAt.length - 1] as number) : 0;
  let text = [name, ...path].join(" ");
  for (let i = last + 1; i < words.length; i++) {
    const w = words[i] as string;
    if (became.length > 0 && w.startsWith("-")) {
      const eq = w.indexOf("=");
      const id = tool.root.lookup.get(dashes(eq > 0 ? w.slice(0, eq) : w, tool.style))?.id ?? findId(tool, dashes(eq > 0 ? w.slice(0, eq) : w, tool.style));
      if (id !== undefined && became.includes(id)) continue;
    }
    text += ` ${w}`;
  }
  return text;
}

/** The id of an option spelling anywhere in the tool's subcommands (for options that change the subcommand). */
function findId(tool: Tool, name: string): string | undefined {
  const walk = (node: Node, depth: number): string | undefined => {
    const s = node.lookup.get(name);
    if (s) return s.id;
    if (depth > 3) return undefined;
    for (const sub of node.subs.values()) {
      if (Array.isArray(sub)) continue;
      const id = walk(sub, depth + 1);
      if (id !== undefined) return id;
    }
    return undefined;
  };
  return walk(tool.root, 0);
}

/** The options of the command `argv` (its first word the tool), by their names in option-table.ts: `-rf` → `-r`, `-f`. */
export function optionsOf(argv: readonly string[]): ReadonlySet<string> {
  const name = argv[0];
  return name === undefined ? new Set() : parseWords(argv, toolFor(name), {}).ids;
}

/**
 * The subcommand of a tool in the table, found after its global options and by its canonical
 * name (`kubectl -n prod delete` → `delete`, `npm i` → `install`); undefined for other tools.
 */
export function subcommandOf(argv: readonly string[]): string | undefined {
  const name = argv[0];
  const tool = name === undefined ? undefined : toolFor(name);
  if (tool === undefined || tool.root.subs.size === 0) return undefined;
  // Most commands name their subcommand first, as written: no need to parse them.
  const first = argv[1] ?? "";
  const sub = tool.root.subs.get(first);
  if (!first.startsWith("-") && !Array.isArray(sub) && (sub === undefined || (sub.becomes.size === 0 && sub.subs.size === 0))) return sub === undefined ? undefined : first;
  const parsed = parseWords(argv, tool, {});
  return parsed.node.path[0] ?? parsed.operands[0];
}

/** A list checks one command against all its rules for that tool in a row: the last few parses are kept. */
const recent: { text: string; parsed: Parsed }[] = [];

function parseCommand(text: string, tool: Tool): Parsed {
  for (const r of recent) if (r.text === text) return r.parsed;
  const parsed = parseWords(text.split(" "), tool, {});
  if (recent.length >= 4) recent.pop();
  recent.unshift({ text, parsed });
  return parsed;
}

/** The names under which a command reaches `target` (a subcommand of the tool's root): itself, aliases, `becomes`. */
function spellingsOf(tool: Tool, target: string): string[] {
  const out: string[] = [];
  const reaches = (node: Node | string[] | undefined, depth: number): boolean => {
    if (node === undefined || depth > 4) return false;
    if (Array.isArray(node)) return node[0] === target;
    if (node.path[0] === target) return true;
    for (const path of node.becomes.values()) if (path[0] === target) return true;
    for (const sub of node.subs.values()) if (reaches(sub, depth + 1)) return true;
    return false;
  };
  for (const [name, sub] of tool.root.subs) if (reaches(sub, 0)) out.push(name);
  return out;
}
