/**
 * Options that make a read tool write files or run programs: `find -fprint`, `rg --pre`,
 * `sed -i` or its `w`/`e` commands, awk's `system()`, `tar --to-command`, `git -c
 * core.pager=…`, `ssh -o ProxyCommand=…`. They raise the risk, and an allow rule written for
 * the tool (`exec(find *)`) passes them only if it names the option or is exact (see
 * judge.ts): such a rule was written for reading. A command given to one of these options is
 * also analysed as a script, so deny rules see it.
 */

export interface SideEffect {
  type: "write" | "exec" | "delete";
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

const effect = (type: SideEffect["type"], why: string, option: string | null, asks = true): SideEffect => ({ type, why, option, asks });

/** The value of the option at `args[i]`: after its `=`, else the next word. */
function valueOf(args: readonly string[], i: number): string | undefined {
  const a = args[i] as string;
  const eq = a.indexOf("=");
  return eq > 0 ? a.slice(eq + 1) : args[i + 1];
}

/**
 * The long option of `names` that `arg` spells, with or without `=value`. `abbrev`: the tool
 * parses with getopt_long (GNU tools, git), which takes any unambiguous prefix (`--to-com`);
 * a prefix of one of `names` counts even if ambiguous (the tool would then refuse to run).
 */
function longOption(arg: string, names: ReadonlySet<string>, abbrev = false): string | undefined {
  if (arg.charCodeAt(0) !== 0x2d || arg.charCodeAt(1) !== 0x2d || arg.length < 3) return undefined;
  const eq = arg.indexOf("=");
  const name = eq < 0 ? arg : arg.slice(0, eq);
  if (names.has(name)) return name;
  if (abbrev) for (const n of names) if (n.startsWith(name)) return n;
  return undefined;
}

const set = (...names: string[]): ReadonlySet<string> => new Set(names);
const RG_RUNS = set("--pre", "--hostname-bin");
const TAR_RUNS = set("--to-command", "--use-compress-program", "--checkpoint-action", "--info-script", "--new-volume-script", "--rsh-command", "--rmt-command");
const GIT_RUNS = set("--upload-pack", "--receive-pack", "--exec", "--ext-diff", "--open-files-in-pager", "--extcmd");
const MAN_RUNS = set("--pager", "--html");
const LESS_WRITES = set("--log-file", "--LOG-FILE");
const RSYNC_RUNS = set("--rsh", "--rsync-path");
const ZIP_RUNS = set("--unzip-command");
const SORT_RUNS = set("--compress-program");
const SORT_WRITES = set("--output");
const AG_RUNS = set("--pager");
const SED_EXPRESSION = set("--expression");
const SED_FILE = set("--file");
const SED_IN_PLACE = set("--in-place");

const FIND_WRITES = new Set(["-fprint", "-fprint0", "-fprintf", "-fls"]);
const FIND_RUNS = new Set(["-exec", "-execdir", "-ok", "-okdir"]);

function find(args: readonly string[], out: Effects): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (FIND_WRITES.has(a)) {
      out.effects.push(effect("write", `find ${a} writes a file`, a));
      const file = args[i + 1];
      if (file !== undefined) out.writes.push(file);
      i++;
    } else if (a === "-delete") out.effects.push(effect("delete", "find -delete deletes what it finds", a));
    else if (FIND_RUNS.has(a)) {
      // The program is judged as a command of its own; its words are not find's.
      out.effects.push(effect("exec", `find ${a} runs a program`, a, false));
      while (i + 1 < args.length && args[i + 1] !== ";" && args[i + 1] !== "+") i++;
      i++;
    }
  }
}

function ripgrep(args: readonly string[], out: Effects): void {
  for (const a of args) {
    if (a === "--") break;
    const long = longOption(a, RG_RUNS);
    if (long) out.effects.push(effect("exec", `rg ${long} runs a program on every file`, long));
  }
}

/** A sed script's `w`/`W` commands and `w`/`e` flags of `s`, and its `e` command. */
/** A sed address: a line (`3`, `0~3`), `$`, `/re/` or `\cREc` with flags. */
const SED_ADDRESS = String.raw`(?:\d+(?:~\d+)?|\$|\/(?:[^\/\\\n]|\\.)*\/[IM]*|\\(?<d>[^\\\n])(?:(?!\k<d>)[^\\\n]|\\.)*\k<d>[IM]*)`;
/** A `w`, `W` or `e` command: at the start, or after `;`, a newline or a brace, behind an optional address or range. */
const SED_COMMAND = new RegExp(String.raw`(?:^|[;\n{}])\s*(?:${SED_ADDRESS}(?:\s*,\s*(?:${SED_ADDRESS.replace("?<d>", "?<d2>").replace(/\\k<d>/g, "\\k<d2>")}|[+~]\d+))?\s*!?\s*)?(?<cmd>[wWe])(?:\s|$|;)`);

function sedScript(script: string): SideEffect[] {
  const found: SideEffect[] = [];
  if (!/[wWe]/.test(script)) return found;
  const m = SED_COMMAND.exec(script);
  if (m) found.push(effect(m.groups?.["cmd"] === "e" ? "exec" : "write", "its sed script writes a file or runs a command (w, e)", null));
  // `s/a/b/w file`, `s/a/b/e`: flags after the third delimiter.
  for (const m of script.matchAll(/(?:^|[;\n{}\s])s(.)(?:(?!\1)[^\\]|\\.)*\1(?:(?!\1)[^\\]|\\.)*\1([a-zA-Z0-9]*)/g)) {
    const flags = m[2] ?? "";
    if (flags.includes("w")) found.push(effect("write", "its sed s///w command writes a file", null));
    if (flags.includes("e")) found.push(effect("exec", "its sed s///e command runs the pattern space as a command", null));
  }
  return found;
}

function sed(args: readonly string[], out: Effects): void {
  let sandbox = false;
  let scriptGiven = false;
  let inPlace = false;
  const scripts: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--sandbox") sandbox = true;
    else if (a === "-e" || longOption(a, SED_EXPRESSION, true)) {
      scriptGiven = true;
      scripts.push((a === "-e" ? args[++i] : a.includes("=") ? valueOf(args, i) : args[++i]) ?? "");
    } else if (a === "-f" || longOption(a, SED_FILE, true)) {
      scriptGiven = true;
      out.effects.push(effect("exec", "sed runs a script from a file, which may write files or run commands", "-f"));
      if (!a.includes("=")) i++;
    } else if (longOption(a, SED_IN_PLACE, true)) inPlace = true;
    else if (a.startsWith("--")) continue;
    else if (/^-[a-zA-Z]+/.test(a)) {
      // A cluster: `-i` may end it with a suffix (`-i.bak`), `-e`/`-f`/`-l` take a value.
      for (let k = 1; k < a.length; k++) {
        const c = a[k];
        if (c === "i") {
          inPlace = true;
          break;
        }
        if (c === "e" || c === "f" || c === "l") {
          const value = k < a.length - 1 ? a.slice(k + 1) : (args[++i] ?? "");
          if (c === "e") scripts.push(value);
          if (c !== "l") scriptGiven = true;
          if (c === "f") out.effects.push(effect("exec", "sed runs a script from a file, which may write files or run commands", "-f"));
          break;
        }
      }
    } else operands.push(a);
  }
  if (!scriptGiven && operands.length > 0) scripts.push(operands.shift() as string);
  if (inPlace) {
    out.effects.push(effect("write", "sed -i rewrites the files it reads", "-i"));
    out.writes.push(...operands);
  }
  if (!sandbox) for (const s of scripts) out.effects.push(...sedScript(s));
}

/** gawk/awk options that read the program from a file, load code, or write a file. */
const AWK_REQUIRED = ["-f", "-E", "-i", "-l"];
const AWK_OPTIONAL = ["-o", "-p", "-d"];
const AWK_LONG = set("--file", "--exec", "--include", "--load", "--pretty-print", "--profile", "--dump-variables");
const AWK_OPTIONAL_LONG = set("--pretty-print", "--profile", "--dump-variables");

/** Whether an awk program runs commands (system(), pipes, @load) or writes files (print >). */
function awkProgram(program: string, out: Effects): void {
  if (!/[|>@]|system/.test(program)) return;
  // `@f()` is gawk's indirect call: `f = "system"; @f("id")`.
  if (/\bsystem\s*\(/.test(program) || program.replace(/\|\|/g, "").includes("|") || /@[A-Za-z_]/.test(program)) {
    out.effects.push(effect("exec", "its awk program runs commands (system(), |)", null));
  } else if (/\bprintf?\b[^;{}\n]*>/.test(program)) out.effects.push(effect("write", "its awk program writes to a file (print >)", null));
}

function awk(args: readonly string[], out: Effects): void {
  let fromFile = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--" || !a.startsWith("-") || a === "-") {
      const program = a === "--" ? args[i + 1] : a;
      if (!fromFile && program !== undefined) awkProgram(program, out);
      return;
    }
    const long = longOption(a, AWK_LONG, true);
    const short = a.slice(0, 2);
    if (long || AWK_REQUIRED.includes(short) || AWK_OPTIONAL.includes(short)) {
      const option = long ?? short;
      out.effects.push(effect("exec", `awk ${option} runs a program from a file, loads code or writes a file`, option));
      if (option === "-f" || option === "-E" || option === "--file" || option === "--exec") fromFile = true;
      if ((AWK_REQUIRED.includes(a) || (long && !a.includes("=") && !AWK_OPTIONAL_LONG.has(long))) && i + 1 < args.length) i++;
      continue;
    }
    if (a === "-e" || a.startsWith("--source")) {
      // gawk: program text given as an option.
      const text = a === "-e" ? args[++i] : valueOf(args, i);
      if (text !== undefined) awkProgram(text, out);
      if (a === "--source") i++;
      fromFile = true;
      continue;
    }
    if (a === "-v" || a === "-F" || a === "-W") i++;
  }
}

function tar(args: readonly string[], out: Effects): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const runs = longOption(a, TAR_RUNS, true);
    if (runs) {
      const value = valueOf(args, i) ?? "";
      if (runs === "--checkpoint-action" && !value.startsWith("exec=")) continue;
      out.effects.push(effect("exec", `tar ${runs} runs a program`, runs));
      if (runs !== "--info-script" && runs !== "--new-volume-script") out.scripts.push(runs === "--checkpoint-action" ? value.slice("exec=".length) : value);
    } else if ((/^-[A-Za-z]*[IF]/.test(a) && !a.startsWith("--")) || (i === 0 && /^[A-Za-z]*[IF]/.test(a))) {
      // `-I prog`, `-xIf prog`, or the old style's first word (`tar xIf prog a.tar`).
      out.effects.push(effect("exec", "tar -I/-F runs a program", a.includes("I") ? "-I" : "-F"));
      if (a === "-I" && args[i + 1] !== undefined) out.scripts.push(args[i + 1] as string);
    }
  }
}

/** git config keys whose value is a program (or a shell command) git runs. */
export const GIT_PROGRAM_KEY = new RegExp(
  "^(core\\.(pager|sshcommand|editor|fsmonitor|hookspath|askpass|gitproxy)|alias\\..+|diff\\.external|diff\\..+\\.(command|textconv)|merge\\..+\\.driver|filter\\..+\\.(clean|smudge|process)" +
    "|credential(\\..+)?\\.helper|gpg(\\..+)?\\.program|sequence\\.editor|pager\\..+|uploadpack\\.packobjectshook|sendemail\\.(smtpserver|tocmd|cccmd)|web\\.browser|browser\\..+\\.cmd" +
    "|(diff|merge)tool\\..+\\.(cmd|path)|guitool\\..+\\.cmd|man\\..+\\.cmd|instaweb\\.httpd|include\\.path|includeif\\..+\\.path|init\\.templatedir|interactive\\.difffilter" +
    "|submodule\\..+\\.update|remote\\..+\\.(uploadpack|receivepack)|tar\\..+\\.command|trailer\\..+\\.(command|cmd)|url\\..+\\.(push)?insteadof|protocol(\\..+)?\\.allow)$",
  "i",
);

/** Subcommands that run a shell command given to them, judged as a command of its own. */
function gitScripts(sub: string, args: readonly string[], out: Effects): void {
  const at = args.indexOf(sub);
  const rest = args.slice(at + 1);
  if (sub === "submodule" && rest[0] === "foreach") {
    const cmd = rest.slice(1).filter((a) => !a.startsWith("--"));
    if (cmd.length > 0) out.scripts.push(cmd.join(" "));
  } else if (sub === "bisect" && rest[0] === "run" && rest.length > 1) out.scripts.push(rest.slice(1).join(" "));
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    const filter = sub === "filter-branch" ? /^--(env|tree|index|parent|msg|commit|tag-name)-filter$/.test(a) : sub === "rebase" && (a === "-x" || a === "--exec");
    if (filter && rest[i + 1] !== undefined) out.scripts.push(rest[++i] as string);
    else if (sub === "rebase" && a.startsWith("--exec=")) out.scripts.push(a.slice("--exec=".length));
  }
  if (out.scripts.length > 0) out.effects.push(effect("exec", `git ${sub} runs a shell command`, null, false));
}

const GIT_SCRIPT_SUBS = set("submodule", "bisect", "filter-branch", "rebase");

function git(args: readonly string[], out: Effects): void {
  const sub = args.find((a) => !a.startsWith("-"));
  if (sub !== undefined && GIT_SCRIPT_SUBS.has(sub)) gitScripts(sub, args, out);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith("ext::")) {
      // The ext transport runs its URL as a command.
      out.effects.push(effect("exec", "git's ext:: transport runs a command", null));
      out.scripts.push(a.slice("ext::".length).replace(/%[GSs%]/g, "x"));
      continue;
    }
    if (sub === "rebase") continue;
    const runs = longOption(a, GIT_RUNS, true);
    if (runs) out.effects.push(effect("exec", `git ${sub ?? ""} ${runs} runs a program`.replace("  ", " "), runs));
    else if ((sub === "clone" && a === "-u") || (sub === "grep" && /^-O/.test(a)) || (sub === "difftool" && a === "-x")) out.effects.push(effect("exec", `git ${sub} ${a} runs a program`, a));
  }
  if (sub === "config") {
    const words = args.filter((a) => !a.startsWith("-"));
    const key = words[1];
    if (key !== undefined && GIT_PROGRAM_KEY.test(key) && words.length > 2) {
      out.effects.push(effect("exec", `git config ${key} sets a program git runs later`, null));
      out.scripts.push((words[2] as string).replace(/^!/, ""));
    }
  }
}

function manual(args: readonly string[], out: Effects): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const long = longOption(a, MAN_RUNS, true);
    if (long || a === "-P" || /^-H/.test(a)) {
      out.effects.push(effect("exec", `man ${long ?? a.slice(0, 2)} runs a program`, long ?? a.slice(0, 2)));
      const value = long ? valueOf(args, i) : a === "-P" ? args[i + 1] : undefined;
      if (value) out.scripts.push(value);
    }
  }
}

/** The shell command in an editor or pager command (`:!id`, `+!id`, `:r !id`), if any. */
function bang(command: string, out: Effects): void {
  const at = command.indexOf("!");
  if (at >= 0 && command.length > at + 1) out.scripts.push(command.slice(at + 1));
}

function vim(name: string, args: readonly string[], out: Effects): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const plus = a.startsWith("+") && !/^\+(\d*|\/.*)$/.test(a);
    // `-e`/`-E`/`-es`: ex mode, reading commands from the input; nvim's `-l` runs a Lua script.
    if (a === "-c" || a === "--cmd" || a === "-S" || a === "-s" || a === "-u" || a === "-w" || a === "-W" || /^-[eE]s?$/.test(a) || (name === "nvim" && a === "-l") || plus) {
      out.effects.push(effect("exec", `${name} ${plus ? "+command" : a} runs editor commands, which can run programs and write files`, plus ? "+" : a));
      if (plus) bang(a, out);
      else if (a === "-c" || a === "--cmd") bang(args[++i] ?? "", out);
      else i++;
    }
  }
}

function less(args: readonly string[], out: Effects): void {
  for (const a of args) {
    if (a.startsWith("+") && /[!|]/.test(a)) {
      out.effects.push(effect("exec", "less +command runs a shell command", "+"));
      bang(a, out);
    } else if (/^-[oO]/.test(a) || longOption(a, LESS_WRITES, true)) out.effects.push(effect("write", "less -o writes a log file", a.slice(0, 2)));
  }
}

/** `ssh -o ProxyCommand=…` and friends: options whose value is a local command or library. */
const SSH_PROGRAM = /^\s*(ProxyCommand|LocalCommand|KnownHostsCommand|PKCS11Provider|SecurityKeyProvider)\s*[= ]\s*(.*)$/i;

function ssh(name: string, args: readonly string[], out: Effects): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const value = a === "-o" ? (args[i + 1] ?? "") : a.startsWith("-o") ? a.slice(2) : null;
    const m = value === null ? null : SSH_PROGRAM.exec(value);
    if (m) {
      out.effects.push(effect("exec", `${name} -o ${m[1]} runs a local program`, "-o"));
      if (/command$/i.test(m[1] as string)) out.scripts.push(m[2] as string);
    } else if (a === "-F" || a === "-I" || (name !== "ssh" && (a === "-S" || a === "-D"))) out.effects.push(effect("exec", `${name} ${a} runs a program or loads one from a file`, a));
    if (a === "-o" || a === "-F" || a === "-I" || a === "-S" || a === "-D") i++;
  }
}

function rsync(args: readonly string[], out: Effects): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const long = longOption(a, RSYNC_RUNS, true);
    // `-e ssh`, `-avze ssh`, `-e'ssh -p 2'`: `e` takes the rest of the cluster or the next word.
    const short = !long && /^-[a-zA-Z]*e/.test(a) && !a.startsWith("--") ? a.indexOf("e") : -1;
    if (long || short > 0) {
      out.effects.push(effect("exec", `rsync ${long ?? "-e"} runs a program`, long ?? "-e"));
      const value = long ? valueOf(args, i) : short < a.length - 1 ? a.slice(short + 1) : args[i + 1];
      // --rsync-path runs on the remote host.
      if (value && long !== "--rsync-path") out.scripts.push(value);
    }
  }
}

function zip(args: readonly string[], out: Effects): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const long = longOption(a, ZIP_RUNS);
    if (long || a === "-TT") {
      out.effects.push(effect("exec", `zip ${long ?? "-TT"} runs a program`, long ?? "-TT"));
      const value = long ? valueOf(args, i) : args[i + 1];
      if (value) out.scripts.push(value.replace(/\{\}/g, "x.zip"));
    }
  }
}

function sort(args: readonly string[], out: Effects): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (longOption(a, SORT_RUNS, true)) out.effects.push(effect("exec", "sort --compress-program runs a program", "--compress-program"));
    const output = longOption(a, SORT_WRITES, true) ? valueOf(args, i) : a === "-o" ? args[i + 1] : /^-o./.test(a) ? a.slice(2) : undefined;
    if (output !== undefined) {
      out.effects.push(effect("write", "sort -o writes a file", a.startsWith("--") ? "--output" : "-o"));
      out.writes.push(output);
    }
  }
}

/** `fd … -x cmd args` / `-X`: the rest of the line (up to `;`) is a program fd runs, judged on its own. */
function fd(args: readonly string[], out: Effects): void {
  const at = args.findIndex((a) => a === "-x" || a === "-X" || a === "--exec" || a === "--exec-batch");
  if (at < 0) return;
  out.effects.push(effect("exec", `fd ${args[at]} runs a program`, args[at] as string, false));
  const end = args.indexOf(";", at);
  const cmd = args.slice(at + 1, end < 0 ? undefined : end);
  if (cmd.length > 0) out.scripts.push(cmd.join(" "));
}

function silverSearcher(args: readonly string[], out: Effects): void {
  for (const a of args) if (longOption(a, AG_RUNS)) out.effects.push(effect("exec", "ag --pager runs a program", "--pager"));
}

const DETECTORS: Record<string, (args: readonly string[], out: Effects, name: string) => void> = {
  fd,
  fdfind: fd,
  ag: silverSearcher,
  find,
  rg: ripgrep,
  sed,
  gsed: sed,
  awk,
  gawk: awk,
  mawk: awk,
  nawk: awk,
  tar,
  gtar: tar,
  git,
  man: manual,
  less,
  more: less,
  ssh: (args, out) => ssh("ssh", args, out),
  scp: (args, out) => ssh("scp", args, out),
  sftp: (args, out) => ssh("sftp", args, out),
  rsync,
  zip,
  sort,
  vim: (args, out, name) => vim(name, args, out),
};
for (const editor of ["vi", "nvim", "ex", "view", "vimdiff", "gvim", "rvim", "rview"]) DETECTORS[editor] = DETECTORS["vim"] as (typeof DETECTORS)[string];

const DETECTOR_MAP: ReadonlyMap<string, (args: readonly string[], out: Effects, name: string) => void> = new Map(Object.entries(DETECTORS));

/** Most git commands have no long option and no subcommand that runs anything: skip them cheaply. */
function plainGit(argv: readonly string[]): boolean {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.charCodeAt(0) === 0x2d ? longOption(a, GIT_RUNS, true) !== undefined || a === "-u" || a === "-x" || a.startsWith("-O") : a.startsWith("ext::")) return false;
  }
  const sub = argv[1] ?? "";
  return !GIT_SCRIPT_SUBS.has(sub) && sub !== "config";
}

/** Reused while detecting: most commands have no side effect, so nothing is allocated for them. */
const scratch: Effects = { effects: [], scripts: [], writes: [] };

/** What the options of the command `argv` write or run beyond what the tool is for; null when nothing. */
export function sideEffectsOf(argv: readonly string[]): Effects | null {
  const name = argv[0] ?? "";
  const detect = DETECTOR_MAP.get(name);
  if (!detect || (name === "git" && plainGit(argv))) return null;
  detect(argv.slice(1), scratch, name);
  if (scratch.effects.length === 0) {
    if (scratch.scripts.length > 0) scratch.scripts = [];
    if (scratch.writes.length > 0) scratch.writes = [];
    return null;
  }
  const out: Effects = { effects: scratch.effects, scripts: scratch.scripts, writes: scratch.writes };
  scratch.effects = [];
  scratch.scripts = [];
  scratch.writes = [];
  return out;
}
