import { posix } from "node:path";

/** How self-protection judges one command line of a CLI: deny, ask, or leave it to the rules. */
export type CliVerdict = { decision: "deny" | "ask"; what: string } | null;

const isDynamic = (w: string): boolean => w.includes("$") || w.includes("`");
/** posix.basename, without its work for the usual bare program name. */
const base = (w: string): string => (w.includes("/") ? posix.basename(w) : w);

/** Package runners that run a package's bin: `npx clawgate …`, `pnpm dlx clawgate …`. */
const RUNNERS: Record<string, { subcommands?: readonly string[]; valueOptions: readonly string[] }> = {
  npx: { valueOptions: ["-p", "--package", "-c", "--call", "--cache", "--prefix", "--registry", "--userconfig", "-w", "--workspace"] },
  pnpx: { valueOptions: ["-p", "--package"] },
  bunx: { valueOptions: ["-p", "--package"] },
  npm: { subcommands: ["exec", "x"], valueOptions: ["-p", "--package", "-c", "--call", "--prefix", "-C", "--registry", "-w", "--workspace"] },
  pnpm: { subcommands: ["exec", "dlx", "x"], valueOptions: ["-C", "--dir", "--filter", "-F"] },
  yarn: { subcommands: ["exec", "dlx", "run"], valueOptions: ["--cwd", "-p", "--package"] },
  bun: { subcommands: ["x", "run"], valueOptions: ["--cwd"] },
};

/** Script runners: `node bin/clawgate.js`, `tsx src/cli/main.ts`. */
const SCRIPT_RUNNERS = new Set(["node", "nodejs", "tsx", "ts-node", "bun", "deno"]);
const NODE_VALUE_OPTIONS = new Set(["-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions", "--env-file", "--input-type", "--tsconfig"]);

/** clawgate's entry points in a checkout or package: the TypeScript source, the build, the CLI bundle. */
const CLAWGATE_ENTRY = /(^|\/)(src\/cli\/main\.[cm]?[jt]s|dist\/(src\/)?cli\/main\.[cm]?js)$/;

/** Skips options (and their values) from `i`; returns the index of the first positional word. */
function skipOptions(argv: readonly string[], i: number, valueOptions: ReadonlySet<string> | readonly string[]): number {
  const takes = (o: string): boolean => (valueOptions instanceof Set ? valueOptions.has(o) : (valueOptions as readonly string[]).includes(o));
  while (i < argv.length) {
    const a = argv[i] as string;
    if (a === "--") return i + 1;
    if (!a.startsWith("-") || a === "-") return i;
    i += !a.includes("=") && takes(a) ? 2 : 1;
  }
  return i;
}

const SCRIPT_SUFFIX = /^\.[cm]?[jt]s$/;

function namesProgram(word: string, name: string): boolean {
  if (!word.toLowerCase().includes(name)) return false;
  // `npm:clawgate` (deno, bun): a package specifier names the package's bin.
  const b = base(word).toLowerCase().replace(/^(npm|jsr):/, "");
  // clawgate, clawgate.js, clawgate@1.2.0, @scope/clawgate
  return b === name || b.startsWith(`${name}@`) || (b.startsWith(name) && SCRIPT_SUFFIX.test(b.slice(name.length))) || (name === "openclaw" && b === "openclaw.mjs");
}

/** The arguments a CLI named `name` gets from this argv, through runners and wrappers; null when it does not run it. */
function cliArgs(argv: readonly string[], name: string): string[] | null {
  const head = argv[0];
  if (head === undefined) return null;
  if (namesProgram(head, name)) return argv.slice(1);
  const h = base(head);
  const runner = Object.hasOwn(RUNNERS, h) ? RUNNERS[h] : undefined;
  if (runner) {
    let i = 1;
    if (runner.subcommands) {
      i = skipOptions(argv, i, runner.valueOptions);
      if (!runner.subcommands.includes(argv[i] ?? "") && h !== "yarn" && h !== "bun") return null;
      if (runner.subcommands.includes(argv[i] ?? "")) i++;
    }
    // `npx -p clawgate clawgate approve`, `npx --package=clawgate -- clawgate approve`
    i = skipOptions(argv, i, runner.valueOptions);
    const word = argv[i];
    return word !== undefined && namesProgram(word, name) ? argv.slice(i + 1) : null;
  }
  if (SCRIPT_RUNNERS.has(h)) {
    let i = skipOptions(argv, 1, NODE_VALUE_OPTIONS);
    if (h === "deno" && argv[i] === "run") i = skipOptions(argv, i + 1, NODE_VALUE_OPTIONS);
    const script = argv[i];
    if (script === undefined) return null;
    const norm = posix.normalize(script);
    const isCli = namesProgram(norm, name) || (name === "clawgate" && CLAWGATE_ENTRY.test(norm)) || norm.includes(`/${name}/bin/`) || norm.startsWith(`${name}/bin/`);
    return isCli ? argv.slice(i + 1) : null;
  }
  return null;
}

/** Verbs of the clawgate CLI that decide approvals or loosen the gate, whatever follows them. */
const CLAWGATE_DENY: Record<string, string> = {
  approve: "runs `clawgate approve`, which decides approvals",
  deny: "runs `clawgate deny`, which decides approvals",
  token: "runs `clawgate token`, which manages the API tokens that decide approvals",
  keys: "runs `clawgate keys`, which manages the keys that sign decisions",
  login: "runs `clawgate login`, which stores a credential that decides approvals",
  logout: "runs `clawgate logout`, which changes the stored credential",
  serve: "runs `clawgate serve`, whose API decides approvals with a config of the caller's choosing",
  breakglass: "runs `clawgate breakglass`, which issues passes around the gate",
  init: "runs `clawgate init`, which writes a clawgate config",
};
const CLAWGATE_DENY_SUB: Record<string, Record<string, string>> = {
  policy: {
    set: "runs `clawgate policy set`, which changes the policy of every gateway",
    unset: "runs `clawgate policy unset`, which changes the policy of every gateway",
  },
  oncall: { override: "runs `clawgate oncall override`, which changes who is asked to approve" },
  audit: { repair: "runs `clawgate audit repair`, which moves the audit log's head" },
};
/** Verbs that only read; any other literal verb needs approval. */
const CLAWGATE_READ = new Set(["list", "show", "request", "doctor", "help", "completion", "version"]);
const CLAWGATE_READ_SUB: Record<string, ReadonlySet<string>> = {
  policy: new Set(["test", "list", "help"]),
  audit: new Set(["verify", "tail", "head", "help"]),
  oncall: new Set(["who", "help"]),
};
/** `oncall override list` only reads; its other subcommands change who is asked. */
const ONCALL_OVERRIDE_READ = new Set(["list", "help"]);
const CLAWGATE_GLOBAL_VALUES = ["-c", "--config", "--token", "--url"];
const CLAWGATE_INFO = new Set(["-V", "--version", "-h", "--help"]);

/**
 * A word whose value is only known when the command runs: a parameter or command
 * substitution, or a placeholder xargs, parallel and find fill in (`{}`, `{1}`, `{.}`).
 */
export const isComputed = (w: string): boolean => w.includes("$") || w.includes("`") || /\{[^}\s]*\}/.test(w);

const denied = (what: string): CliVerdict => ({ decision: "deny", what });

/**
 * What self-protection makes of the arguments the clawgate CLI gets. `fed`: more arguments
 * arrive at run time (xargs, parallel), so a verb or subcommand that is missing here is not.
 */
function clawgateArgsVerdict(args: readonly string[], fed: boolean): CliVerdict {
  const i = skipOptions(args, 0, CLAWGATE_GLOBAL_VALUES);
  const verb = args[i];
  if (verb === undefined) {
    if (!fed && args.slice(0, i).some((a) => CLAWGATE_INFO.has(a))) return null;
    return denied(fed ? "runs the clawgate CLI with its command read from its input" : "runs the clawgate CLI without a command, so what it does is decided elsewhere");
  }
  if (isComputed(verb)) return denied("runs the clawgate CLI with a command only known at run time");
  const deny = Object.hasOwn(CLAWGATE_DENY, verb) ? CLAWGATE_DENY[verb] : undefined;
  if (deny) return denied(deny);
  if (CLAWGATE_READ.has(verb)) return null;
  const subs = Object.hasOwn(CLAWGATE_READ_SUB, verb) ? CLAWGATE_READ_SUB[verb] : undefined;
  if (subs) {
    const at = skipOptions(args, i + 1, CLAWGATE_GLOBAL_VALUES);
    const sub = args[at];
    if (sub === undefined) return fed ? denied(`runs \`clawgate ${verb}\` with its subcommand read from its input`) : null;
    if (isComputed(sub)) return denied(`runs \`clawgate ${verb}\` with a subcommand only known at run time`);
    if (verb === "oncall" && sub === "override") {
      const action = args[skipOptions(args, at + 1, CLAWGATE_GLOBAL_VALUES)];
      if (action !== undefined && ONCALL_OVERRIDE_READ.has(action)) return null;
      if (action === undefined && !fed) return null;
    }
    const denySub = CLAWGATE_DENY_SUB[verb]?.[sub];
    if (denySub) return denied(denySub);
    if (subs.has(sub)) return null;
  }
  if (fed) return denied(`runs \`clawgate ${verb}\` with more arguments read from its input`);
  return { decision: "ask", what: `runs \`clawgate ${verb}\`, a command self-protection does not know to be read-only` };
}

/** What self-protection makes of a command line that runs the clawgate CLI (null: it does not). */
export function clawgateVerdict(argv: readonly string[], fed = false): CliVerdict {
  const args = cliArgs(argv, "clawgate");
  return args === null ? null : clawgateArgsVerdict(args, fed);
}

const OPENCLAW_CONFIG_WRITES = new Set(["set", "unset", "patch", "apply", "edit", "import", "reset", "restore", "replace"]);
const OPENCLAW_PLUGIN_WRITES = new Set(["disable", "uninstall", "remove", "rm", "update", "reload", "install", "enable", "link"]);

/**
 * The OpenClaw CLI can switch the clawgate plugin off (`openclaw plugins disable clawgate`,
 * `openclaw config set plugins.entries.clawgate.enabled false`) or read its configuration.
 */
export function openclawVerdict(argv: readonly string[]): CliVerdict {
  const args = cliArgs(argv, "openclaw");
  if (args === null) return null;
  const words = args.filter((a) => !a.startsWith("-"));
  const [group, action, target] = words;
  if (group === "plugins" && action !== undefined && OPENCLAW_PLUGIN_WRITES.has(action)) {
    if (action === "install" || action === "enable" || action === "link") {
      return { decision: "ask", what: `runs \`openclaw plugins ${action}\`: a plugin runs inside the gateway and could undo the gate` };
    }
    if (target === undefined || /clawgate/i.test(target) || isDynamic(target) || args.includes("--all")) {
      return { decision: "deny", what: `runs \`openclaw plugins ${action}\` on the clawgate plugin` };
    }
    return null;
  }
  if (group === "config" && action !== undefined) {
    const path = target ?? "";
    const touchesPlugins = path === "" || /^plugins\b/i.test(path) || /clawgate/i.test(path) || isDynamic(path);
    if (OPENCLAW_CONFIG_WRITES.has(action) && (touchesPlugins || (action !== "set" && action !== "unset"))) {
      return { decision: "deny", what: `runs \`openclaw config ${action}\`, which can switch the clawgate plugin off` };
    }
    if (action === "get" && touchesPlugins) return { decision: "deny", what: "reads OpenClaw's plugin configuration with `openclaw config get`" };
  }
  return null;
}

/** A word of free text that names the clawgate program: `clawgate`, `/usr/bin/clawgate`, `clawgate@1`, `bin/clawgate.js`, `dist/cli/main.js`. */
export function namesClawgate(word: string): boolean {
  // `/clawgate/` is a pattern (awk, sed), not a program.
  if (word.endsWith("/")) return false;
  return namesProgram(word, "clawgate") || CLAWGATE_ENTRY.test(word);
}

/** Words of code and prose: quotes, brackets, operators and `=` separate them; `$`, `{}`, `-` and paths stay whole. */
const TEXT_WORD = /[^\s'"`(){}[\],;|&<>!\\=+]+|\{[^}\s]*\}/g;
const CLAWGATE_TEXT = /clawgate|cli\/main/i;
/** `approve ap_…` / `deny ap_…`: a decision on one of clawgate's approval ids, whatever program is named. */
const DECISION_ON_ID = /(?:^|[^A-Za-z0-9_-])(?:approve|deny)(?:[\s'"`,;:=()[\]]+(?:-{1,2}[A-Za-z-]+(?:[= ][^\s'"`]+)?[\s'"`,]+)*)ap_[0-9a-z]{12}(?![0-9a-z])/;

/**
 * The clawgate CLI named in free text — inline code (`system("clawgate approve x")`), a git
 * alias, another program's arguments, a line typed into a shell — followed by a deciding verb.
 * `strict` (the text is code that runs): any continuation but a literal read-only verb counts,
 * since the rest is computed (`"clawgate " + v`, `clawgate "$@"`).
 */
export function clawgateInText(text: string, strict: boolean): CliVerdict {
  if (DECISION_ON_ID.test(text)) return denied("decides one of clawgate's approvals");
  if (!CLAWGATE_TEXT.test(text)) return null;
  const words = text.match(TEXT_WORD);
  if (words === null) return null;
  for (let i = 0; i < words.length; i++) {
    if (!namesClawgate(words[i] as string)) continue;
    // What follows, up to the next word that names clawgate again.
    const rest: string[] = [];
    for (let k = i + 1; k < words.length && rest.length < 6 && !namesClawgate(words[k] as string); k++) rest.push(words[k] as string);
    if (strict) {
      const v = clawgateArgsVerdict(rest, false);
      if (v !== null) return v.decision === "deny" ? v : denied("runs code that starts the clawgate CLI with a command clawgate cannot read");
      continue;
    }
    // Prose mentions clawgate freely: only a deciding verb within the next few words counts.
    for (let k = 0; k < rest.length && k < 4; k++) {
      const v = clawgateArgsVerdict(rest.slice(k), false);
      if (v?.decision === "deny" && !isComputed(rest[k] as string) && (Object.hasOwn(CLAWGATE_DENY, rest[k] as string) || Object.hasOwn(CLAWGATE_DENY_SUB, rest[k] as string))) return v;
    }
  }
  return null;
}

/** Some word of `text` names the clawgate CLI. */
export function namesClawgateIn(text: string): boolean {
  if (!CLAWGATE_TEXT.test(text)) return false;
  return (text.match(TEXT_WORD) ?? []).some(namesClawgate);
}
