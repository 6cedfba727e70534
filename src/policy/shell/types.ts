import type { SideEffect } from "./effect-options.ts";

/** One argv word after quote removal. */
export interface Word {
  text: string;
  /** Contains a parameter expansion, command substitution or arithmetic: its runtime value is unknown. */
  dynamic: boolean;
  /** Contains unquoted glob characters (`*`, `?`, `[`) or an extended glob. */
  glob: boolean;
}

/**
 * One command the shell would run, seen through its wrappers.
 * `levels` holds the canonical text at each wrapper level, outermost first:
 * `sudo -u root /bin/rm -rf /` → ["sudo -u root rm -rf /", "rm -rf /"].
 */
export interface ShellCommand {
  levels: string[];
  /** Extra texts only deny/ask/dangerous rules look at (basename of ./bin/rm, argv tails after an unknown wrapper option). */
  denyOnly: string[];
  /**
   * Allow rules may match levels[0..allowDepth]. Levels below a privilege change (sudo, doas,
   * su) or a PATH/LD_PRELOAD-style assignment sit deeper: `exec(ls)` must not allow `sudo ls`.
   */
  allowDepth: number;
  /** Innermost argv, canonical, for risk classification. */
  argv: string[];
  /** Runs under sudo/doas/su. */
  privileged: boolean;
  /**
   * Only carries other commands (`bash -c '…'`): judged by deny/ask rules, but its own allowance
   * is that of the commands it runs, so `bash -c 'ls'` is as allowed as `ls`.
   */
  carrier: boolean;
  /** Why the command cannot be judged; it then needs approval at least. */
  unparsed?: string;
  /**
   * Runs code clawgate cannot read (`python3 -c …`, `bash x.sh`, `source x`): it needs approval
   * unless a rule names it (unlike `unparsed`, an allow rule may pass it).
   */
  opaque?: string;
  /** Options that make it write files or run programs (`find -fprint`, `rg --pre`): see side-effects.ts. */
  effects?: SideEffect[];
}

/** Text judged only by deny/ask/dangerous rules: whole pipelines and the whole line. */
export interface ShellComposite {
  text: string;
  kind: "pipeline" | "line";
}

export interface ShellAnalysis {
  commands: ShellCommand[];
  composites: ShellComposite[];
  /** Canonical text of the whole line: what an exact allow-always rule holds. */
  whole: string;
  /** Files written through output redirections (`> path`), judged against write rules. */
  writes: string[];
}
