import { posix } from "node:path";
import { codeInEnvironment, commandInEnvironment, riskyBuiltin } from "./expansions.ts";
import { GIT_PROGRAM_KEY } from "./script-effects.ts";
import { sideEffectsOf } from "./side-effects.ts";
import type { SideEffect } from "./effect-options.ts";
import { isSensitiveAssignment, SHELLS, unwrap } from "./wrappers.ts";
import type { Unwrapped } from "./wrappers.ts";
import type { ShellCommand, Word } from "./types.ts";

/** Where a command runs a nested program from, for the caller to analyse. */
export interface Spawner {
  /** A shell script string (`bash -c '…'`, `eval …`). */
  script(script: Word): void;
  /** A separate argv (`find … -exec rm {} ;`). */
  argv(words: Word[]): void;
  /** A file the command writes through one of its options (`find -fprint out`). */
  write(path: string): void;
}

export interface Assignment {
  name: string;
  text: string;
}

/**
 * Directories whose programs are root-owned system tools: `/usr/bin/git` is `git`. Elsewhere
 * (`./rm`, `/tmp/x/ls`) the path is kept for allow rules and only deny/ask rules also see
 * the bare name, so a planted `./ls` is not allowed by `exec(ls)`.
 */
const SYSTEM_DIRS = new Set(["/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin", "/opt/local/bin", "/run/current-system/sw/bin"]);

function canonicalName(name: string): { name: string; base: string } {
  if (!name.includes("/")) return { name, base: name };
  const norm = posix.normalize(name);
  const base = posix.basename(norm);
  return SYSTEM_DIRS.has(posix.dirname(norm)) ? { name: base, base } : { name, base };
}

/** Builtins whose effect depends on code we cannot see. */
const OPAQUE: Record<string, string> = {
  eval: "eval runs a string as shell code",
  alias: "alias changes what a command name runs",
  trap: "trap runs code when a signal arrives",
  fc: "fc re-runs commands from history",
  bind: "bind can run code on a key press",
  enable: "enable can load builtins from a library",
};

const DECLARATIONS = new Set(["export", "declare", "typeset", "local", "readonly"]);

/** Builtins that run the commands in a file: judged like `bash file`. */
const SOURCING = new Set(["source", "."]);
/** A program with this suffix is a shell script: as unreadable to us as `bash x.sh`. */
const SCRIPT_SUFFIX = /\.(sh|bash|zsh|ksh|dash)$/;

/** git options that come before the subcommand and take the next word as their value. */
const GIT_VALUE_OPTIONS = new Set(["-C", "-c", "--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env", "--attr-source", "--list-cmds"]);
const GIT_FLAGS = new Set([
  "-p", "--paginate", "-P", "--no-pager", "--no-replace-objects", "--no-lazy-fetch", "--no-optional-locks", "--no-advice", "--bare",
  "--literal-pathspecs", "--glob-pathspecs", "--noglob-pathspecs", "--icase-pathspecs", "--html-path", "--man-path", "--info-path", "--exec-path",
]);
/** These change which program git runs (`-c core.sshCommand=…`, `-c alias.x=!sh`, `--exec-path=/tmp`). */
const GIT_SENSITIVE = new Set(["-c", "--config-env", "--exec-path"]);

interface GitGlobals {
  rest: Word[];
  sensitive: boolean;
  /** An option we do not know: where the subcommand starts is a guess. */
  unknown: boolean;
}

/**
 * `git -C dir -c k=v --no-pager push …` is `git push …` to a rule: the global options are
 * stripped (null when there are none), so `exec(git push *)` holds whatever precedes `push`.
 */
function gitGlobals(args: Word[]): GitGlobals | null {
  let i = 0;
  let sensitive = false;
  let unknown = false;
  while (i < args.length) {
    const a = (args[i] as Word).text;
    if (!a.startsWith("-") || a === "-") break;
    if (a === "--") {
      i++;
      break;
    }
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (GIT_SENSITIVE.has(name) && (name !== "--exec-path" || eq > 0)) sensitive = true;
    if (GIT_VALUE_OPTIONS.has(name)) i += eq > 0 ? 1 : 2;
    else if (GIT_FLAGS.has(name)) i++;
    else if (/^-c./.test(a) || /^-C./.test(a)) {
      sensitive ||= a.startsWith("-c");
      i++;
    } else {
      unknown = true;
      break;
    }
  }
  if (i === 0 && !unknown) return null;
  return { rest: args.slice(Math.min(i, args.length)), sensitive, unknown };
}

/**
 * `git -c core.pager=… log`, `git -c alias.x='!cmd' x`, `--config-env`, `--exec-path=dir`:
 * global options that make git run a program. The command is judged as a script of its own.
 */
function gitConfigPrograms(args: Word[], spawn: Spawner): SideEffect[] | null {
  let effects: SideEffect[] | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = (args[i] as Word).text;
    if (!a.startsWith("-")) break;
    if (a !== "-c" && GIT_VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    const setting = a === "-c" ? args[++i]?.text : a.startsWith("-c") ? a.slice(2) : a.startsWith("--config-env=") ? a.slice("--config-env=".length) : undefined;
    if (a.startsWith("--exec-path=")) (effects ??= []).push({ type: "exec", tool: "git", why: "git --exec-path runs git's programs from another directory", option: "--exec-path", asks: true });
    if (setting === undefined) continue;
    const eq = setting.indexOf("=");
    const key = eq < 0 ? setting : setting.slice(0, eq);
    if (!GIT_PROGRAM_KEY.test(key)) continue;
    const option = a.startsWith("--") ? "--config-env" : "-c";
    (effects ??= []).push({ type: "exec", tool: "git", why: `git ${option} ${key} makes git run a program`, option, asks: true });
    if (option !== "-c" || eq < 0) continue;
    const value = setting.slice(eq + 1);
    // An alias without `!` is more git: `alias.p='push -f'` runs `git push -f`.
    const runs = /^alias\./i.test(key) && !value.startsWith("!") ? `git ${value}` : value.replace(/^!/, "");
    spawn.script({ text: runs, dynamic: false, glob: false });
  }
  return effects;
}

/** Bounds the wrapper chain (`sudo env nice timeout …`) so hostile input cannot spin. */
const MAX_LEVELS = 12;
const MAX_TAILS = 16;

const text = (words: Word[]): string => words.map((w) => w.text).join(" ");

function nameProblem(word: Word): string | null {
  if (word.dynamic) {
    return word.text.includes("$(") || word.text.includes("`") ? "command name is computed by a command substitution" : "command name is a variable";
  }
  // `[` (the test builtin, `/usr/bin/[`): a bracket with nothing to close it is no pattern.
  if (word.glob && (/[*?(]/.test(word.text) || /\[.*\]/.test(word.text))) return "command name is a glob pattern";
  return null;
}

/**
 * Turns one simple command into a ShellCommand, peeling wrappers (sudo, env, timeout,
 * xargs, nohup, command, exec, …) into levels, and hands nested programs to `spawn`.
 */
export function buildCommand(assigns: Assignment[], words: Word[], spawn: Spawner, stdin?: Word): ShellCommand {
  const levels: string[] = [];
  const denyOnly: string[] = [];
  let allowDepth = -1;
  let privileged = false;
  let carrier = false;
  let unparsed: string | undefined;
  let opaque: string | undefined;
  let argv: string[] = [];
  let effects: SideEffect[] | null = null;

  if (assigns.length > 0) {
    levels.push([...assigns.map((a) => a.text), ...words.map((w) => w.text)].join(" "));
    if (assigns.some((a) => isSensitiveAssignment(a.name))) allowDepth = 0;
    unparsed = environment(assigns, spawn);
  }

  let cur = words;
  for (let step = 0; step < MAX_LEVELS && cur.length > 0; step++) {
    const head = cur[0] as Word;
    const args = cur.slice(1);
    const problem = nameProblem(head);
    const canon = canonicalName(head.text);
    argv = [canon.name];
    let argsText = "";
    for (const w of args) {
      argv.push(w.text);
      argsText += ` ${w.text}`;
    }
    levels.push(canon.name + argsText);
    if (canon.name !== canon.base) denyOnly.push(canon.base + argsText);
    if (problem) {
      unparsed = problem;
      break;
    }
    const hidden = Object.hasOwn(OPAQUE, canon.base) ? OPAQUE[canon.base] : undefined;
    if (hidden) {
      unparsed = hidden;
      // Still read what eval/trap would run, so a deny rule can match inside it.
      const body = canon.base === "trap" ? args.slice(0, 1) : args;
      if ((canon.base === "eval" || canon.base === "trap") && body.length > 0 && !body.some((w) => w.dynamic)) {
        spawn.script({ text: text(body), dynamic: false, glob: false });
      }
      break;
    }
    const risky = riskyBuiltin(canon.base, args);
    if (risky) {
      unparsed = risky;
      break;
    }
    if (DECLARATIONS.has(canon.base)) {
      const sensitive = args.map((w) => /^([A-Za-z_][A-Za-z0-9_]*)\+?=/.exec(w.text)?.[1]).find((n) => n !== undefined && isSensitiveAssignment(n));
      if (sensitive) unparsed = `sets ${sensitive}, which changes what later commands run`;
      // `export MANPAGER=id`, `export LESS='+!id'`: what later commands will run.
      for (const w of args) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)\+?=/.exec(w.text);
        if (!m) continue;
        const value = w.text.slice(m[0].length);
        unparsed ??= codeInEnvironment(m[1] as string, value) ?? undefined;
        const command = commandInEnvironment(m[1] as string, value);
        if (command !== null) spawn.script({ text: command, dynamic: false, glob: false });
      }
      break;
    }
    if (canon.base === "find") {
      spawnFindExec(args, spawn);
      break;
    }
    if (SOURCING.has(canon.base)) {
      opaque = `${canon.base === "." ? "\".\"" : canon.base} runs the commands in ${args[0] ? `"${args[0].text}"` : "a file"}, which clawgate does not read`;
      break;
    }
    if (SCRIPT_SUFFIX.test(canon.base)) {
      opaque = `runs the shell script "${head.text}", which clawgate does not read`;
      break;
    }
    if (canon.base === "git") {
      const programs = gitConfigPrograms(args, spawn);
      if (programs !== null) effects = [...(effects ?? []), ...programs];
      const g = gitGlobals(args);
      // An option we do not know: let deny and ask rules see `git <every tail>`.
      if (g?.unknown) for (let k = 1; k < args.length && k < MAX_TAILS; k++) denyOnly.push(text([head, ...args.slice(k)]));
      if (g && g.rest.length > 0 && g.rest.length < args.length) {
        if (g.sensitive && allowDepth < 0) allowDepth = levels.length - 1;
        cur = [head, ...g.rest];
        if (step === MAX_LEVELS - 1) unparsed = "wrappers are nested too deeply";
        continue;
      }
    }
    const u = unwrap(canon.base, args);
    if (!u || u.kind === "none") break;
    if (u.kind === "code") {
      opaque = `${canon.base} runs inline code (${u.flag}), which clawgate does not analyse`;
      break;
    }
    if (u.kind === "file") {
      opaque = `${canon.base} runs the script "${u.path}", which clawgate does not read`;
      break;
    }
    if (u.kind === "stdin") {
      unparsed = `${canon.base} runs a program read from its input`;
      // `sh <<EOF … EOF`, `bash <<< '…'`: we can at least let deny rules see the script.
      if (stdin && !stdin.dynamic && SHELLS.has(canon.base)) spawn.script(stdin);
      break;
    }
    if (u.kind === "script") {
      if (u.privileged) privileged = true;
      if (privileged && allowDepth < 0) allowDepth = levels.length - 1;
      carrier = !privileged;
      if (u.script.dynamic) unparsed = `${canon.base} runs a script that is only known at run time`;
      else spawn.script(u.script);
      break;
    }
    if (u.privileged) privileged = true;
    if ((u.privileged || u.sensitiveEnv) && allowDepth < 0) allowDepth = levels.length - 1;
    if (u.codeEnv !== undefined || u.envCommands !== undefined) unparsed ??= wrapperEnvironment(u, spawn);
    if (u.unknownOption) {
      // We may have mis-read where the wrapped command starts: let deny rules see every tail.
      for (let k = 0; k < args.length && k < MAX_TAILS; k++) denyOnly.push(text(args.slice(k)));
    }
    cur = u.rest;
    if (step === MAX_LEVELS - 1) unparsed = "wrappers are nested too deeply";
  }

  effects = withSideEffects(argv, effects, spawn);
  const cmd: ShellCommand = { levels, denyOnly, allowDepth: allowDepth < 0 ? Math.max(levels.length - 1, 0) : allowDepth, argv, privileged, carrier };
  if (unparsed !== undefined) cmd.unparsed = unparsed;
  else if (opaque !== undefined) cmd.opaque = opaque;
  if (effects !== null) cmd.effects = effects;
  return cmd;
}

/** Variables set for the command: why they make it run code we cannot see, and the commands they name. */
function environment(assigns: readonly Assignment[], spawn: Spawner): string | undefined {
  let why: string | undefined;
  for (const a of assigns) {
    const value = a.text.slice(a.text.indexOf("=") + 1);
    why ??= codeInEnvironment(a.name, value) ?? undefined;
    const command = commandInEnvironment(a.name, value);
    if (command !== null) spawn.script({ text: command, dynamic: false, glob: false });
  }
  return why;
}

function wrapperEnvironment(u: Extract<Unwrapped, { kind: "command" }>, spawn: Spawner): string | undefined {
  for (const command of u.envCommands ?? []) spawn.script({ text: command, dynamic: false, glob: false });
  return u.codeEnv;
}

/** Options that make the command write or run programs; what they run and write goes to `spawn`. */
function withSideEffects(argv: readonly string[], effects: SideEffect[] | null, spawn: Spawner): SideEffect[] | null {
  const found = sideEffectsOf(argv);
  if (!found) return effects;
  for (const script of found.scripts) if (script.trim().length > 0) spawn.script({ text: script, dynamic: false, glob: false });
  for (const path of found.writes) spawn.write(path);
  return effects === null ? found.effects : [...effects, ...found.effects];
}

/** `find … -exec cmd {} ;` (and -execdir/-ok/-okdir) runs cmd once per match. */
function spawnFindExec(args: Word[], spawn: Spawner): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]?.text;
    if (a !== "-exec" && a !== "-execdir" && a !== "-ok" && a !== "-okdir") continue;
    const end = args.findIndex((w, k) => k > i && (w.text === ";" || w.text === "+"));
    const stop = end < 0 ? args.length : end;
    const inner = args.slice(i + 1, stop);
    if (inner.length > 0) spawn.argv(inner);
    i = stop;
  }
}
