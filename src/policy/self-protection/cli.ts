import { posix } from "node:path";

/** How self-protection judges one command line of a CLI: deny, ask, or leave it to the rules. */
export type CliVerdict = { decision: "deny" | "ask"; what: string } | null;

const isDynamic = (w: string): boolean => w.includes("$") || w.includes("`");
const base = (w: string): string => posix.basename(w);

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

function namesProgram(word: string, name: string): boolean {
  const b = base(word).toLowerCase();
  // clawgate, clawgate.js, clawgate@1.2.0, @scope/clawgate
  return b === name || b.startsWith(`${name}@`) || new RegExp(`^${name}\\.(c|m)?(j|t)s$`).test(b) || (name === "openclaw" && b === "openclaw.mjs");
}

/** The arguments a CLI named `name` gets from this argv, through runners and wrappers; null when it does not run it. */
export function cliArgs(argv: readonly string[], name: string): string[] | null {
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
    const isCli = namesProgram(norm, name) || (name === "clawgate" && /(^|\/)src\/cli\/main\.[cm]?[jt]s$/.test(norm)) || norm.includes(`/${name}/bin/`) || norm.startsWith(`${name}/bin/`);
    return isCli ? argv.slice(i + 1) : null;
  }
  return null;
}

/** Verbs of the clawgate CLI that decide approvals or loosen the gate. */
const CLAWGATE_DENY: Record<string, string> = {
  approve: "runs `clawgate approve`, which decides approvals",
  deny: "runs `clawgate deny`, which decides approvals",
  token: "runs `clawgate token`, which manages the API tokens that decide approvals",
  serve: "runs `clawgate serve`, whose API decides approvals with a config of the caller's choosing",
};
const CLAWGATE_DENY_SUB: Record<string, Record<string, string>> = {
  policy: {
    set: "runs `clawgate policy set`, which changes the policy of every gateway",
    unset: "runs `clawgate policy unset`, which changes the policy of every gateway",
  },
};
/** Verbs that only read; everything else (unknown or computed verbs) needs approval. */
const CLAWGATE_READ = new Set(["list", "show", "request", "doctor", "help"]);
const CLAWGATE_READ_SUB: Record<string, ReadonlySet<string>> = {
  policy: new Set(["test", "list", "help"]),
  audit: new Set(["verify", "tail", "help"]),
  oncall: new Set(["who", "help"]),
};
const CLAWGATE_GLOBAL_VALUES = ["-c", "--config"];

/** What self-protection makes of a command line that runs the clawgate CLI. */
export function clawgateVerdict(argv: readonly string[]): CliVerdict {
  const args = cliArgs(argv, "clawgate");
  if (args === null) return null;
  const i = skipOptions(args, 0, CLAWGATE_GLOBAL_VALUES);
  const verb = args[i];
  if (verb === undefined) return null;
  if (isDynamic(verb)) return { decision: "ask", what: "runs the clawgate CLI with a command only known at run time" };
  const deny = Object.hasOwn(CLAWGATE_DENY, verb) ? CLAWGATE_DENY[verb] : undefined;
  if (deny) return { decision: "deny", what: deny };
  if (CLAWGATE_READ.has(verb)) return null;
  const subs = Object.hasOwn(CLAWGATE_READ_SUB, verb) ? CLAWGATE_READ_SUB[verb] : undefined;
  if (subs) {
    const sub = args[skipOptions(args, i + 1, CLAWGATE_GLOBAL_VALUES)] ?? "";
    const denySub = CLAWGATE_DENY_SUB[verb]?.[sub];
    if (denySub) return { decision: "deny", what: denySub };
    if (subs.has(sub) || sub === "") return null;
    if (isDynamic(sub)) return { decision: "ask", what: `runs \`clawgate ${verb}\` with a subcommand only known at run time` };
  }
  if (verb.startsWith("-")) return null;
  return { decision: "ask", what: `runs \`clawgate ${verb}\`, a command self-protection does not know to be read-only` };
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
