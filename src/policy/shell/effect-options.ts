/** What the side-effect detectors (side-effects.ts, script-effects.ts) share: what they report and how they read options. */

export interface SideEffect {
  type: "write" | "exec" | "delete";
  /** The tool whose option it is (`find`): only an allow rule written for that tool is held to it. */
  tool: string;
  /** What the option does, e.g. `find -fprint writes a file`. */
  why: string;
  /** The option an allow rule may name to cover it (`-fprint`); null: only an exact rule does. */
  option: string | null;
  /**
   * Whether an allow rule for the tool must cover it. False when what it runs is judged on
   * its own anyway (`find -exec rm {} ;` judges `rm {}`): the risk still rises.
   */
  asks: boolean;
}

export interface Effects {
  effects: SideEffect[];
  /** Commands the options run, as shell scripts. */
  scripts: string[];
  /** Files the options write. */
  writes: string[];
}

/** `tool` is filled in by sideEffectsOf. */
export const effect = (type: SideEffect["type"], why: string, option: string | null, asks = true): SideEffect => ({ type, tool: "", why, option, asks });

/** The value of the option at `args[i]`: after its `=`, else the next word. */
export function valueOf(args: readonly string[], i: number): string | undefined {
  const a = args[i] as string;
  const eq = a.indexOf("=");
  return eq > 0 ? a.slice(eq + 1) : args[i + 1];
}

/**
 * The long option of `names` that `arg` spells, with or without `=value`. `abbrev`: the tool
 * parses with getopt_long (GNU tools, git), which takes any unambiguous prefix (`--to-com`);
 * a prefix of one of `names` counts even if ambiguous (the tool would then refuse to run).
 */
export function longOption(arg: string, names: ReadonlySet<string>, abbrev = false): string | undefined {
  if (arg.charCodeAt(0) !== 0x2d || arg.charCodeAt(1) !== 0x2d || arg.length < 3) return undefined;
  const eq = arg.indexOf("=");
  const name = eq < 0 ? arg : arg.slice(0, eq);
  if (names.has(name)) return name;
  if (abbrev) for (const n of names) if (n.startsWith(name)) return n;
  return undefined;
}

export const set = (...names: string[]): ReadonlySet<string> => new Set(names);
