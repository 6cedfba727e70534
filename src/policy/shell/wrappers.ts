import { codeInEnvironment, commandInEnvironment } from "./expansions.ts";
import type { Word } from "./types.ts";

/** What a wrapper command runs. */
export type Unwrapped =
  /** Runs `rest` as a command (sudo, env, timeout, xargs, …). */
  | { kind: "command"; rest: Word[]; privileged: boolean; sensitiveEnv: boolean; unknownOption: boolean; codeEnv?: string; envCommands?: string[] }
  /** Runs a shell script given as a string (`bash -c`, `su -c`, `watch`, `env -S`). */
  | { kind: "script"; script: Word; privileged: boolean }
  /** Reads a program from its standard input (`… | sh`, `bash <<< …`, bare `python`). */
  | { kind: "stdin" }
  /** Runs code given inline in another language (`python3 -c …`, `node -e …`). */
  | { kind: "code"; flag: string }
  /** Runs the script in a file (`bash script.sh`, `sh x`). */
  | { kind: "file"; path: string }
  /** Runs nothing else (`sudo -v`, `command -v git`). */
  | { kind: "none" };

interface OptionSpec {
  /** Short options taking a value (`-u root`, `-uroot`). */
  shortArg?: string;
  shortFlags?: string;
  longArg?: readonly string[];
  longFlags?: readonly string[];
  /** Positional words before the command (timeout's duration, chroot's directory). */
  positionals?: number;
  /** `NAME=value` words before the command (env, sudo). */
  assignments?: boolean;
  privileged?: boolean;
  /** Options after which nothing runs (`command -v`, `sudo -l`). */
  noCommand?: string;
  /** Numeric options like nice's `-10`. */
  numericFlags?: boolean;
}

const SPECS: Record<string, OptionSpec> = {
  sudo: {
    shortArg: "ughpCDrtUTR",
    shortFlags: "AbEHiKklnPSsvVe",
    longArg: ["user", "group", "host", "prompt", "close-from", "chdir", "role", "type", "other-user", "command-timeout", "chroot"],
    longFlags: ["askpass", "background", "preserve-env", "login", "remove-timestamp", "reset-timestamp", "non-interactive", "preserve-groups", "stdin", "shell", "set-home", "list"],
    assignments: true,
    privileged: true,
    noCommand: "eKklvV",
  },
  doas: { shortArg: "uC", shortFlags: "ns", privileged: true },
  pkexec: { longArg: ["user"], longFlags: ["disable-internal-agent", "keep-cwd"], privileged: true },
  runuser: { shortArg: "ugGs", shortFlags: "lmpfw", longArg: ["user", "group", "supp-group", "shell"], longFlags: ["login", "preserve-environment", "fast"], privileged: true },
  env: { shortArg: "uC", shortFlags: "i0v", longArg: ["unset", "chdir"], longFlags: ["ignore-environment", "null", "debug"], assignments: true },
  nohup: {},
  time: { shortArg: "fo", shortFlags: "pavq", longArg: ["format", "output"], longFlags: ["append", "verbose", "portability", "quiet"] },
  nice: { shortArg: "n", longArg: ["adjustment"], numericFlags: true },
  timeout: { shortArg: "sk", shortFlags: "v", longArg: ["signal", "kill-after"], longFlags: ["foreground", "preserve-status", "verbose"], positionals: 1 },
  stdbuf: { shortArg: "ioe", longArg: ["input", "output", "error"] },
  setsid: { shortFlags: "cfw", longFlags: ["ctty", "fork", "wait"] },
  ionice: { shortArg: "cnpPu", shortFlags: "t", longArg: ["class", "classdata", "pid", "pgid", "uid"], longFlags: ["ignore"] },
  taskset: { shortFlags: "acp", longFlags: ["all-tasks", "cpu-list", "pid"], positionals: 1 },
  chroot: { longArg: ["userspec", "groups"], longFlags: ["skip-chdir"], positionals: 1, privileged: true },
  command: { shortFlags: "pvV", noCommand: "vV" },
  builtin: {},
  exec: { shortArg: "a", shortFlags: "cl" },
  unbuffer: { shortFlags: "p" },
  busybox: {},
  xargs: {
    shortArg: "adEILnPs",
    shortFlags: "0rtpxo",
    longArg: ["arg-file", "delimiter", "eof", "replace", "max-lines", "max-args", "max-procs", "max-chars", "process-slot-var"],
    longFlags: ["null", "interactive", "no-run-if-empty", "verbose", "exit", "open-tty"],
  },
};

export const SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh"]);

interface InterpreterSpec {
  /** Single-dash option letters that take the program text (`python -c`, `perl -ne`). */
  codeLetters: string;
  /** Long options that take the program text. */
  codeLong?: readonly string[];
  /** Options whose value is the next word (`python -W ignore`, `node --import x`). */
  valueFlags?: readonly string[];
  /** Single-dash letters whose value follows, attached or as the next word (`python -Wignore`). */
  valueLetters?: string;
  /** A subcommand that takes the program text (`deno eval …`). */
  codeSubcommand?: string;
}

/**
 * Interpreters: given inline code they run something clawgate cannot judge; given no script
 * at all they read a program from stdin.
 */
const INTERPRETERS: Record<string, InterpreterSpec> = {
  python: { codeLetters: "c", valueLetters: "WX" },
  python2: { codeLetters: "c", valueLetters: "WX" },
  python3: { codeLetters: "c", valueLetters: "WX" },
  pypy: { codeLetters: "c", valueLetters: "WX" },
  pypy3: { codeLetters: "c", valueLetters: "WX" },
  node: { codeLetters: "ep", codeLong: ["--eval", "--print"], valueLetters: "rC", valueFlags: ["--require", "--import", "--loader", "--experimental-loader", "--conditions", "--input-type"] },
  nodejs: { codeLetters: "ep", codeLong: ["--eval", "--print"], valueLetters: "rC", valueFlags: ["--require", "--import", "--loader", "--experimental-loader", "--conditions", "--input-type"] },
  bun: { codeLetters: "ep", codeLong: ["--eval", "--print"] },
  deno: { codeLetters: "", codeSubcommand: "eval" },
  perl: { codeLetters: "eE" },
  ruby: { codeLetters: "e", valueLetters: "rI" },
  php: { codeLetters: "r" },
  lua: { codeLetters: "e", valueLetters: "l" },
  luajit: { codeLetters: "e", valueLetters: "l" },
  rscript: { codeLetters: "e" },
  Rscript: { codeLetters: "e" },
  osascript: { codeLetters: "e" },
  pwsh: { codeLetters: "", codeLong: ["-c", "-command", "-Command", "--command", "-e", "-ec", "-EncodedCommand", "-encodedcommand"] },
  powershell: { codeLetters: "", codeLong: ["-c", "-command", "-Command", "--command", "-e", "-ec", "-EncodedCommand", "-encodedcommand"] },
  tclsh: { codeLetters: "" },
  irb: { codeLetters: "" },
};

function isWrapper(name: string): boolean {
  return Object.hasOwn(SPECS, name) || SHELLS.has(name) || Object.hasOwn(INTERPRETERS, name) || name === "su" || name === "watch";
}

/** `env` and `sudo` take any `NAME=value` word as an assignment, `BASH_FUNC_f%%=…` included. */
const ASSIGNMENT = /^[^=-][^=]*=/;

/**
 * Variables that change which program runs or inject code into it. An assignment of one of
 * these sits like `sudo`: `exec(ls)` allows `ls`, not `LD_PRELOAD=/tmp/x.so ls`.
 */
const SENSITIVE_ENV = /^(PATH|LD_[A-Z_]+|DYLD_[A-Z_]+|BASH_ENV|ENV|IFS|SHELLOPTS|BASHOPTS|PS4|PROMPT_COMMAND|CDPATH|GLOBIGNORE|NODE_OPTIONS|NODE_PATH|PYTHON[A-Z_]*|PERL5?[A-Z_]*|RUBY[A-Z_]*|GIT_[A-Z_]+|EDITOR|VISUAL|PAGER|GIT_PAGER|SSH_ASKPASS|SUDO_ASKPASS|HOME|ZDOTDIR)$/;

export function isSensitiveAssignment(name: string): boolean {
  return SENSITIVE_ENV.test(name);
}

function assignmentName(text: string): string | null {
  return ASSIGNMENT.test(text) ? text.slice(0, text.indexOf("=")) : null;
}

interface SkipResult {
  index: number;
  flags: Set<string>;
  unknownOption: boolean;
}

function skipOptions(args: Word[], spec: OptionSpec): SkipResult {
  const flags = new Set<string>();
  let unknownOption = false;
  let i = 0;
  while (i < args.length) {
    const a = args[i]?.text ?? "";
    if (a === "--") {
      i++;
      break;
    }
    if (a.startsWith("--") && a.length > 2) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq < 0 ? undefined : eq);
      flags.add(name);
      if (spec.longArg?.includes(name)) i += eq < 0 ? 2 : 1;
      else {
        if (!spec.longFlags?.includes(name)) unknownOption = true;
        i++;
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      if (spec.numericFlags && /^-\d+$/.test(a)) {
        i++;
        continue;
      }
      let consumed = 1;
      for (let k = 1; k < a.length; k++) {
        const c = a[k] ?? "";
        flags.add(c);
        if (spec.shortArg?.includes(c)) {
          if (k === a.length - 1) consumed = 2;
          break;
        }
        if (!spec.shortFlags?.includes(c)) unknownOption = true;
      }
      i += consumed;
      continue;
    }
    break;
  }
  return { index: Math.min(i, args.length), flags, unknownOption };
}

function unwrapGeneric(name: string, args: Word[], spec: OptionSpec): Unwrapped {
  const { index, flags, unknownOption } = skipOptions(args, spec);
  if (spec.noCommand && [...flags].some((f) => f.length === 1 && spec.noCommand?.includes(f))) return { kind: "none" };
  if (name === "env" && (flags.has("S") || flags.has("split-string"))) {
    // `env -S "a b c"` splits its value into words: close enough to running it as a script.
    const at = args.findIndex((w) => w.text === "-S" || w.text.startsWith("--split-string") || /^-[^-]*S/.test(w.text));
    const inline = args[at]?.text ?? "";
    const eq = inline.indexOf("=");
    if (inline.startsWith("--split-string=")) return { kind: "script", script: { ...(args[at] as Word), text: inline.slice(eq + 1) }, privileged: false };
    const attached = inline.startsWith("-") && !inline.startsWith("--") ? inline.slice(inline.indexOf("S") + 1) : "";
    const script = attached ? { ...(args[at] as Word), text: attached } : args[at + 1];
    return script ? { kind: "script", script, privileged: false } : { kind: "none" };
  }
  let i = index;
  i = Math.min(i + (spec.positionals ?? 0), args.length);
  let sensitiveEnv = false;
  let codeEnv: string | undefined;
  let envCommands: string[] | undefined;
  if (spec.assignments) {
    while (i < args.length) {
      const text = args[i]?.text ?? "";
      const n = assignmentName(text);
      if (n === null) break;
      if (isSensitiveAssignment(n)) sensitiveEnv = true;
      codeEnv ??= codeInEnvironment(n, text.slice(n.length + 1)) ?? undefined;
      const command = commandInEnvironment(n, text.slice(n.length + 1));
      if (command !== null) (envCommands ??= []).push(command);
      i++;
    }
  }
  const rest = args.slice(i);
  if (rest.length === 0) {
    // xargs without a command runs echo; the other wrappers then run nothing.
    if (name === "xargs") return { kind: "command", rest: [{ text: "echo", dynamic: false, glob: false }], privileged: false, sensitiveEnv: false, unknownOption };
    return { kind: "none" };
  }
  const out: Unwrapped = { kind: "command", rest, privileged: spec.privileged === true, sensitiveEnv, unknownOption };
  if (codeEnv !== undefined) out.codeEnv = codeEnv;
  if (envCommands !== undefined && out.kind === "command") out.envCommands = envCommands;
  return out;
}

function unwrapShell(args: Word[]): Unwrapped {
  let i = 0;
  let cFlag = false;
  let stdin = false;
  while (i < args.length) {
    const a = args[i]?.text ?? "";
    if (a === "--" || a === "-") {
      i++;
      break;
    }
    if (a.startsWith("--")) {
      if (a === "--command" || a.startsWith("--command=")) {
        // fish: --command CMD / --command=CMD
        const inline = a.startsWith("--command=");
        const script = inline ? { ...(args[i] as Word), text: a.slice("--command=".length) } : args[i + 1];
        return script ? { kind: "script", script, privileged: false } : { kind: "none" };
      }
      i += a === "--rcfile" || a === "--init-file" || a === "--init-command" ? 2 : 1;
      continue;
    }
    if ((a.startsWith("-") || a.startsWith("+")) && a.length > 1) {
      let consumed = 1;
      for (const c of a.slice(1)) {
        if (c === "c") cFlag = true;
        else if (c === "s") stdin = true;
        else if (c === "o" || c === "O") consumed = 2;
      }
      i += consumed;
      continue;
    }
    break;
  }
  if (cFlag) {
    const script = args[i];
    return script ? { kind: "script", script, privileged: false } : { kind: "none" };
  }
  // `sh "$X"` may run any file, or read stdin if $X is empty: as opaque as a pipe.
  if (i < args.length && !stdin && !args[i]?.dynamic) return { kind: "file", path: args[i]?.text ?? "" };
  return { kind: "stdin" };
}

function unwrapInterpreter(args: Word[], spec: InterpreterSpec): Unwrapped {
  if (spec.codeSubcommand !== undefined) {
    // deno: `deno eval CODE` runs inline code; `deno run x.ts` a file; `deno` alone a REPL.
    const sub = args.find((w) => !w.text.startsWith("-"));
    if (sub?.text === spec.codeSubcommand) return { kind: "code", flag: spec.codeSubcommand };
    return sub ? { kind: "none" } : { kind: "stdin" };
  }
  for (let i = 0; i < args.length; i++) {
    const a = (args[i] as Word).text;
    if (a === "-") return { kind: "stdin" };
    if (a === "--") return i + 1 < args.length ? { kind: "none" } : { kind: "stdin" };
    if (!a.startsWith("-")) return { kind: "none" };
    const long = spec.codeLong?.find((f) => a === f || a.startsWith(`${f}=`));
    if (long) return { kind: "code", flag: long };
    if (!a.startsWith("--")) {
      // Grouped short options: `perl -lne …`, `python3 -Ic …`; a value letter ends the group.
      for (let k = 1; k < a.length; k++) {
        const c = a[k] as string;
        if (spec.codeLetters.includes(c)) return { kind: "code", flag: `-${c}` };
        if (spec.valueLetters?.includes(c)) {
          if (k === a.length - 1) i++;
          break;
        }
      }
      continue;
    }
    if (spec.valueFlags?.includes(a.split("=")[0] as string) && !a.includes("=")) i++;
  }
  return { kind: "stdin" };
}

function unwrapSu(args: Word[]): Unwrapped {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]?.text ?? "";
    if (a === "-c" || a === "--command") {
      const script = args[i + 1];
      return script ? { kind: "script", script, privileged: true } : { kind: "none" };
    }
    if (a.startsWith("--command=")) return { kind: "script", script: { ...(args[i] as Word), text: a.slice("--command=".length) }, privileged: true };
  }
  return { kind: "none" };
}

function unwrapWatch(args: Word[]): Unwrapped {
  const { index, flags } = skipOptions(args, {
    shortArg: "nq",
    shortFlags: "bcdegprtwx",
    longArg: ["interval", "equexit"],
    longFlags: ["beep", "color", "no-color", "differences", "errexit", "chgexit", "precise", "no-rerun", "no-title", "no-wrap", "exec", "no-linewrap"],
  });
  const rest = args.slice(index);
  if (rest.length === 0) return { kind: "none" };
  if (flags.has("x") || flags.has("exec")) return { kind: "command", rest, privileged: false, sensitiveEnv: false, unknownOption: false };
  // Without -x, watch hands its arguments, joined by spaces, to `sh -c`.
  const first = rest[0] as Word;
  return { kind: "script", script: { text: rest.map((w) => w.text).join(" "), dynamic: rest.some((w) => w.dynamic), glob: first.glob }, privileged: false };
}

/** One unwrapping step for `name args…`; null when `name` is not a wrapper. */
export function unwrap(name: string, args: Word[]): Unwrapped | null {
  if (SHELLS.has(name)) return unwrapShell(args);
  const interpreter = Object.hasOwn(INTERPRETERS, name) ? INTERPRETERS[name] : undefined;
  if (interpreter) return unwrapInterpreter(args, interpreter);
  if (name === "su") return unwrapSu(args);
  if (name === "watch") return unwrapWatch(args);
  const spec = Object.hasOwn(SPECS, name) ? SPECS[name] : undefined;
  return spec ? unwrapGeneric(name, args, spec) : null;
}
