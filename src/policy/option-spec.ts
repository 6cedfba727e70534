import { OPTION_TABLE } from "./option-table.ts";
import type { OptionNode, ToolOptions } from "./option-table.ts";

/** option-table.ts compiled for reading commands (options.ts): per tool, per subcommand, each spelling's meaning. */

type Arity = "none" | "value" | "optional" | "variadic";

export interface Spelling {
  id: string;
  arity: Arity;
  /** Options this spelling also stands for (`git branch -D` is `-d -f`). */
  also?: readonly string[];
}

export interface Node {
  path: readonly string[];
  lookup: ReadonlyMap<string, Spelling>;
  subs: Map<string, Node | string[]>;
  becomes: ReadonlyMap<string, string[]>;
  operandFlags: ReadonlyMap<string, string>;
}

export interface Tool {
  style: NonNullable<ToolOptions["style"]>;
  signals: boolean;
  assignments: boolean;
  /** Options may be spelt without a leading `-` (dd's `of=`, git push's `+main`). */
  loose: boolean;
  root: Node;
  /** Canonical subcommand paths another spelling leads to: a rule naming one is option-aware without options. */
  aliased: ReadonlySet<string>;
}

export const dashes = (name: string, style: Tool["style"]): string => (style === "single-dash" && name.startsWith("--") ? name.slice(1) : name);

function spellings(options: string | undefined, style: Tool["style"], into: Map<string, Spelling>): void {
  if (!options) return;
  for (const group of options.split(" ")) {
    if (group.length === 0) continue;
    const combined = /^([^:]+):(.+)$/.exec(group);
    if (combined) {
      const [first, ...also] = (combined[2] as string).split(",");
      into.set(dashes(combined[1] as string, style), { id: first as string, arity: "none", also });
      continue;
    }
    let id: string | null = null;
    for (const raw of group.split("|")) {
      const arity: Arity = raw.endsWith("...") ? "variadic" : raw.endsWith("=") ? "value" : raw.endsWith("?") ? "optional" : "none";
      const name = dashes(raw.replace(/(\.\.\.|=|\?)$/, ""), style);
      id ??= name;
      into.set(name, { id, arity });
    }
  }
}

function compileNode(def: OptionNode, path: string[], parent: ReadonlyMap<string, Spelling>, style: Tool["style"], aliased: Set<string>): Node {
  const lookup = new Map(parent);
  spellings(def.options, style, lookup);
  const node: Node = { path, lookup, subs: new Map(), becomes: new Map(), operandFlags: new Map(Object.entries(def.operandFlags ?? {})) };
  for (const [option, target] of Object.entries(def.becomes ?? {})) {
    (node.becomes as Map<string, string[]>).set(dashes(option, style), target.split(" "));
    aliased.add(target);
  }
  for (const [name, sub] of Object.entries(def.subs ?? {})) {
    if (typeof sub === "string") {
      node.subs.set(name, sub.split(" "));
      aliased.add(sub);
    } else node.subs.set(name, compileNode(sub, [...path, name], lookup, style, aliased));
  }
  return node;
}

const tools = new Map<string, Tool>();
const GENERIC: Tool = { style: "posix", signals: false, assignments: false, loose: false, root: { path: [], lookup: new Map(), subs: new Map(), becomes: new Map(), operandFlags: new Map() }, aliased: new Set() };

export function toolFor(name: string): Tool {
  let tool = tools.get(name);
  if (tool) return tool;
  const def = Object.hasOwn(OPTION_TABLE, name) ? OPTION_TABLE[name] : undefined;
  if (!def) return GENERIC;
  const style = def.style ?? "posix";
  const aliased = new Set<string>();
  const loose = def.assignments === true || JSON.stringify(def).includes('"operandFlags"');
  tool = { style, signals: def.signals === true, assignments: def.assignments === true, loose, root: compileNode(def, [], new Map(), style, aliased), aliased };
  tools.set(name, tool);
  return tool;
}

/** The node an alias path leads to from the tool's root. */
export function resolve(tool: Tool, path: readonly string[]): Node | null {
  let node: Node | null = tool.root;
  for (const word of path) {
    const next: Node | string[] | undefined = node?.subs.get(word);
    node = next === undefined ? null : Array.isArray(next) ? resolve(tool, next) : next;
  }
  return node;
}

const abbreviations = new WeakMap<Node, Map<string, Spelling | undefined>>();

/** getopt_long (GNU tools, git) takes any unambiguous prefix of a long option: `--rec` is `--recursive`. */
export function abbreviated(node: Node, prefix: string): Spelling | undefined {
  let known = abbreviations.get(node);
  if (known === undefined) abbreviations.set(node, (known = new Map()));
  if (known.has(prefix)) return known.get(prefix);
  const found = findAbbreviated(node, prefix);
  // Option words come from agents: keep the memo small.
  if (known.size < 256) known.set(prefix, found);
  return found;
}

function findAbbreviated(node: Node, prefix: string): Spelling | undefined {
  let found: Spelling | undefined;
  for (const [name, s] of node.lookup) {
    if (!name.startsWith(prefix) || !name.startsWith("--")) continue;
    if (found && found.id !== s.id) return undefined;
    found = s;
  }
  return found;
}

const SIGNAL_NUMBERS: Record<string, string> = { "1": "HUP", "2": "INT", "3": "QUIT", "6": "ABRT", "9": "KILL", "10": "USR1", "12": "USR2", "14": "ALRM", "15": "TERM", "18": "CONT", "19": "STOP", "20": "TSTP" };

const SIGNAL_NAMES = new Set(["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "POLL", "PWR", "SYS"]);

/** `9`, `KILL`, `SIGKILL`, `kill` (bash's kill takes any case), `RTMIN+1`. */
export function isSignal(word: string): boolean {
  if (/^[0-9]+$/.test(word)) return true;
  const name = word.toUpperCase().replace(/^SIG/, "");
  return SIGNAL_NAMES.has(name) || /^RT(MIN|MAX)([+-][0-9]+)?$/.test(name);
}

export function signalName(value: string): string {
  const v = value.toUpperCase().replace(/^SIG/, "");
  return SIGNAL_NUMBERS[v] ?? v;
}
