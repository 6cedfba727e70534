/**
 * Options that make a read tool write files or run programs: `find -fprint`, `rg --pre`,
 * `sed -i` or its `w`/`e` commands, awk's `system()`, `tar --to-command`, `git -c
 * core.pager=…`, `ssh -o ProxyCommand=…`. They raise the risk, and an allow rule written for
 * the tool (`exec(find *)`) passes them only if it names the option or is exact (see
 * judge.ts): such a rule was written for reading. A command given to one of these options is
 * also analysed as a script, so deny rules see it.
 */

import { effect, longOption, set, valueOf } from "./effect-options.ts";
import type { Effects } from "./effect-options.ts";
import { awk, git, plainGit, sed } from "./script-effects.ts";

const RG_RUNS = set("--pre", "--hostname-bin");
const TAR_RUNS = set("--to-command", "--use-compress-program", "--checkpoint-action", "--info-script", "--new-volume-script", "--rsh-command", "--rmt-command");
const MAN_RUNS = set("--pager", "--html");
const LESS_WRITES = set("--log-file", "--LOG-FILE");
const RSYNC_RUNS = set("--rsh", "--rsync-path");
const ZIP_RUNS = set("--unzip-command");
const SORT_RUNS = set("--compress-program");
const SORT_WRITES = set("--output");
const AG_RUNS = set("--pager");

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
  for (const e of scratch.effects) e.tool = name;
  const out: Effects = { effects: scratch.effects, scripts: scratch.scripts, writes: scratch.writes };
  scratch.effects = [];
  scratch.scripts = [];
  scratch.writes = [];
  return out;
}
