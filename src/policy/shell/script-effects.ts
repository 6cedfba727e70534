import { effect, longOption, set, valueOf } from "./effect-options.ts";
import type { Effects, SideEffect } from "./effect-options.ts";

/**
 * Side effects hidden in what a tool reads as a program or as configuration: a sed script's
 * `w`/`e` commands, an awk program's `system()`, pipes and `>`, git's program-running options,
 * subcommands and config keys. The detectors of side-effects.ts.
 */

const SED_EXPRESSION = set("--expression");
const SED_FILE = set("--file");
const SED_IN_PLACE = set("--in-place");
const GIT_RUNS = set("--upload-pack", "--receive-pack", "--exec", "--ext-diff", "--open-files-in-pager", "--extcmd");

/** A sed address: a line (`3`, `0~3`), `$`, `/re/` or `\cREc` with flags. */
const SED_ADDRESS = String.raw`(?:\d+(?:~\d+)?|\$|\/(?:[^\/\\\n]|\\.)*\/[IM]*|\\(?<d>[^\\\n])(?:(?!\k<d>)[^\\\n]|\\.)*\k<d>[IM]*)`;
/** A `w`, `W` or `e` command: at the start, or after `;`, a newline or a brace, behind an optional address or range. */
const SED_COMMAND = new RegExp(String.raw`(?:^|[;\n{}])\s*(?:${SED_ADDRESS}(?:\s*,\s*(?:${SED_ADDRESS.replace("?<d>", "?<d2>").replace(/\\k<d>/g, "\\k<d2>")}|[+~]\d+))?\s*!?\s*)?(?<cmd>[wWe])(?:\s|$|;)`);

/** A sed script's `w`/`W`/`e` commands and the `w`/`e` flags of its `s` commands. */
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

export function sed(args: readonly string[], out: Effects): void {
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

export function awk(args: readonly string[], out: Effects): void {
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

export function git(args: readonly string[], out: Effects): void {
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

/** Most git commands have no long option and no subcommand that runs anything: skip them cheaply. */
export function plainGit(argv: readonly string[]): boolean {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.charCodeAt(0) === 0x2d ? longOption(a, GIT_RUNS, true) !== undefined || a === "-u" || a === "-x" || a.startsWith("-O") : a.startsWith("ext::")) return false;
  }
  const sub = argv[1] ?? "";
  return !GIT_SCRIPT_SUBS.has(sub) && sub !== "config";
}

