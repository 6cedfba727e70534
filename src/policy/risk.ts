import { optionsOf, subcommandOf } from "./options.ts";
import { patchDeletes } from "./paths.ts";
import type { SideEffect } from "./shell/effect-options.ts";
import type { Subjects } from "./call/subjects.ts";
import type { ActionType, Risk } from "./types.ts";
import { parseUrl } from "./url.ts";

/**
 * Heuristic risk of a call, for routing and `riskAtLeast` conditions — never for the
 * allow/ask/deny decision itself. Table-driven: the highest-scoring matching row wins.
 */
interface Row {
  /** Program names (argv[0]); "*" for any. */
  names: readonly string[];
  /** First non-option argument, when the row is about a subcommand (`git push`). */
  sub?: readonly string[];
  when?: (argv: readonly string[], text: string) => boolean;
  type: ActionType;
  score: number;
  reversible?: boolean;
  systems?: readonly string[];
}

const has = (...flags: string[]) => (argv: readonly string[]) => argv.some((a) => flags.includes(a));
/** The command has this option, however it is spelt (`-rf`, `-r -f`, `--recursive`; see options.ts). */
const parsedOptions = new WeakMap<readonly string[], ReadonlySet<string>>();
const opt = (...ids: string[]) => (argv: readonly string[]) => {
  let found = parsedOptions.get(argv);
  if (found === undefined) parsedOptions.set(argv, (found = optionsOf(argv)));
  return ids.some((id) => (found as ReadonlySet<string>).has(id));
};
const anyArg = (re: RegExp) => (argv: readonly string[]) => argv.slice(1).some((a) => re.test(a));
const text = (re: RegExp) => (_argv: readonly string[], t: string) => re.test(t);

// Read tools; the options that make some of them write or run programs are found by
// shell/side-effects.ts (`find -fprint`, `rg --pre`, `sed -i`, awk's `system()`).
const READ_ONLY = ["ls", "cat", "head", "tail", "less", "more", "grep", "egrep", "rg", "ag", "pwd", "echo", "printf", "wc", "which", "whereis", "type", "stat", "file", "du", "df", "ps", "whoami", "id", "date", "uname", "hostname", "printenv", "tree", "diff", "cmp", "sort", "uniq", "cut", "tr", "jq", "yq", "basename", "dirname", "realpath", "readlink", "true", "false", "test", "[", "sleep", "cd", "man", "column", "nl", "od", "xxd", "md5sum", "sha256sum", "shasum", "find", "fd", "awk", "sed", "tsc"];
const WRITES = ["mv", "cp", "mkdir", "touch", "ln", "tee", "install", "patch", "unzip", "tar", "gzip", "gunzip", "chmod", "chown", "chgrp"];
const CLOUD = ["aws", "gcloud", "az", "doctl", "oci"];
const DB = ["psql", "mysql", "mariadb", "sqlite3", "mongo", "mongosh", "redis-cli", "cqlsh", "clickhouse-client"];
const DANGEROUS_RM_TARGET = /^(\/|\/\*|~|~\/|~\/\*|\$HOME\/?|\*|\.|\.\.|\.\/\*|\/[a-z]+\/?)$/;

const ROWS: readonly Row[] = [
  { names: READ_ONLY, type: "read", score: 5, systems: ["filesystem"] },
  { names: ["sed", "perl"], when: anyArg(/^-i/), type: "write", score: 25, systems: ["filesystem"] },
  // tsc writes its output unless told not to.
  { names: ["tsc"], when: (a) => !a.includes("--noEmit"), type: "write", score: 25, systems: ["filesystem"] },
  { names: ["yq"], when: (a) => a.some((x) => x === "-i" || x === "--inplace"), type: "write", score: 25, systems: ["filesystem"] },
  { names: ["tree"], when: has("-o"), type: "write", score: 25, systems: ["filesystem"] },
  { names: ["date"], when: (a) => a.some((x) => x === "-s" || x.startsWith("--set")), type: "exec", score: 45, systems: ["system"] },
  { names: ["find"], when: opt("-delete"), type: "delete", score: 60, reversible: false, systems: ["filesystem"] },
  { names: WRITES, type: "write", score: 25, systems: ["filesystem"] },
  { names: ["chmod", "chown"], when: (a) => opt("-R")(a) && a.some((x) => /^(0?777|a\+rwx)$/.test(x)), type: "write", score: 60, systems: ["filesystem"] },
  { names: ["rm", "rmdir", "unlink"], type: "delete", score: 40, reversible: false, systems: ["filesystem"] },
  { names: ["rm"], when: opt("-r"), type: "delete", score: 65, reversible: false, systems: ["filesystem"] },
  { names: ["rm"], when: (a) => opt("-r")(a) && a.slice(1).some((x) => DANGEROUS_RM_TARGET.test(x)), type: "delete", score: 95, reversible: false, systems: ["filesystem"] },
  { names: ["shred", "wipe", "srm"], type: "delete", score: 85, reversible: false, systems: ["filesystem"] },
  { names: ["truncate"], type: "delete", score: 50, reversible: false, systems: ["filesystem"] },
  { names: ["dd"], type: "write", score: 80, reversible: false, systems: ["filesystem"] },
  { names: ["dd"], when: anyArg(/^of=\/dev\//), type: "delete", score: 95, reversible: false, systems: ["disk"] },
  { names: ["mkfs", "mkfs.ext4", "mkfs.xfs", "mkfs.vfat", "mke2fs", "fdisk", "sfdisk", "parted", "wipefs", "diskutil"], type: "delete", score: 95, reversible: false, systems: ["disk"] },
  { names: ["kill", "pkill", "killall"], type: "exec", score: 40, systems: ["process"] },
  { names: ["shutdown", "reboot", "halt", "poweroff"], type: "exec", score: 90, reversible: false, systems: ["system"] },
  { names: ["systemctl", "service"], when: anyArg(/^(stop|disable|mask|restart|kill)$/), type: "exec", score: 60, systems: ["system"] },
  { names: ["crontab"], when: opt("-r"), type: "delete", score: 70, reversible: false, systems: ["system"] },

  { names: ["git"], sub: ["status", "diff", "log", "show", "branch", "rev-parse", "ls-files", "blame", "describe", "grep", "shortlog", "reflog", "remote", "config"], type: "read", score: 5, systems: ["git"] },
  { names: ["git"], sub: ["add", "commit", "checkout", "switch", "restore", "merge", "rebase", "cherry-pick", "stash", "init", "mv", "tag", "am", "apply"], type: "write", score: 25, systems: ["git"] },
  { names: ["git"], sub: ["fetch", "pull", "clone"], type: "network", score: 30, systems: ["git", "network"] },
  { names: ["git"], sub: ["rm"], type: "delete", score: 40, systems: ["git"] },
  { names: ["git"], sub: ["reset"], when: opt("--hard"), type: "delete", score: 60, reversible: false, systems: ["git"] },
  { names: ["git"], sub: ["clean"], when: opt("-f"), type: "delete", score: 60, reversible: false, systems: ["git"] },
  { names: ["git"], sub: ["branch"], when: (a) => opt("-d")(a) && opt("-f")(a), type: "delete", score: 50, systems: ["git"] },
  { names: ["git"], sub: ["push"], type: "network", score: 45, systems: ["git", "network"] },
  { names: ["git"], sub: ["push"], when: opt("-f", "--force-with-lease", "--mirror", "-d"), type: "deploy", score: 80, reversible: false, systems: ["git", "network"] },

  { names: ["npm", "pnpm", "yarn", "bun"], sub: ["install", "i", "add", "ci", "update", "upgrade"], type: "write", score: 30, systems: ["package-registry"] },
  { names: ["npm", "pnpm", "yarn", "bun"], sub: ["run", "test", "build", "exec", "start", "lint", "x"], type: "exec", score: 15 },
  { names: ["npm", "pnpm", "yarn"], sub: ["publish", "unpublish", "deprecate"], type: "deploy", score: 75, reversible: false, systems: ["package-registry"] },
  { names: ["pip", "pip3", "pipx", "uv", "poetry", "gem", "cargo", "go", "brew"], sub: ["install", "add", "get"], type: "write", score: 35, systems: ["package-registry"] },
  { names: ["cargo", "go", "make", "pytest", "jest", "vitest", "mvn", "gradle", "dotnet"], type: "exec", score: 15 },
  { names: ["cargo", "twine"], sub: ["publish", "upload"], type: "deploy", score: 75, reversible: false, systems: ["package-registry"] },
  { names: ["apt", "apt-get", "yum", "dnf", "apk", "pacman", "zypper"], type: "write", score: 45, systems: ["system"] },
  { names: ["apt", "apt-get", "yum", "dnf"], sub: ["remove", "purge", "autoremove", "erase"], type: "delete", score: 60, systems: ["system"] },

  { names: ["curl", "wget", "http", "https", "xh", "httpie", "aria2c"], type: "network", score: 35, systems: ["network"] },
  { names: ["curl", "http", "xh"], when: (a) => a.some((x) => /^(-X|--request)$/.test(x) || /^-X(POST|PUT|DELETE|PATCH)$/.test(x) || /^(-d|--data.*|-F|--form|-T|--upload-file|POST|PUT|DELETE|PATCH)$/.test(x)), type: "network", score: 50, systems: ["network"] },
  { names: ["ssh", "scp", "sftp", "rsync", "mosh"], type: "network", score: 50, systems: ["network"] },
  { names: ["nc", "ncat", "netcat", "socat", "telnet"], type: "network", score: 55, systems: ["network"] },

  { names: ["docker", "podman"], sub: ["ps", "images", "logs", "inspect", "version", "info"], type: "read", score: 10, systems: ["docker"] },
  { names: ["docker", "podman"], sub: ["run", "exec", "build", "compose", "start", "pull"], type: "exec", score: 40, systems: ["docker"] },
  { names: ["docker", "podman"], sub: ["rm", "rmi", "kill", "stop"], type: "delete", score: 50, systems: ["docker"] },
  { names: ["docker", "podman"], sub: ["system", "volume", "image", "container", "network"], when: anyArg(/^(prune|rm)$/), type: "delete", score: 70, reversible: false, systems: ["docker"] },
  { names: ["docker", "podman"], sub: ["push"], type: "deploy", score: 60, systems: ["docker", "network"] },

  { names: ["kubectl", "oc"], sub: ["get", "describe", "logs", "top", "explain", "version", "config", "api-resources"], type: "read", score: 10, systems: ["kubernetes"] },
  { names: ["kubectl", "oc"], sub: ["apply", "create", "patch", "scale", "rollout", "set", "edit", "label", "annotate", "replace", "autoscale"], type: "deploy", score: 60, systems: ["kubernetes"] },
  { names: ["kubectl", "oc"], sub: ["exec", "cp", "port-forward", "run", "debug"], type: "exec", score: 50, systems: ["kubernetes"] },
  { names: ["kubectl", "oc"], sub: ["delete", "drain", "cordon", "taint"], type: "delete", score: 80, reversible: false, systems: ["kubernetes"] },
  { names: ["helm"], sub: ["install", "upgrade", "rollback"], type: "deploy", score: 65, systems: ["kubernetes"] },
  { names: ["helm"], sub: ["uninstall", "delete"], type: "delete", score: 80, reversible: false, systems: ["kubernetes"] },
  { names: ["terraform", "tofu", "terragrunt"], type: "read", score: 20, systems: ["terraform"] },
  { names: ["terraform", "tofu", "terragrunt"], sub: ["apply", "import", "taint", "state"], type: "deploy", score: 80, reversible: false, systems: ["terraform"] },
  { names: ["terraform", "tofu", "terragrunt"], sub: ["destroy"], type: "delete", score: 95, reversible: false, systems: ["terraform"] },
  { names: ["pulumi", "cdk", "sst"], sub: ["up", "deploy"], type: "deploy", score: 80, reversible: false, systems: ["cloud"] },
  { names: ["pulumi", "cdk", "sst"], sub: ["destroy", "remove"], type: "delete", score: 95, reversible: false, systems: ["cloud"] },
  { names: CLOUD, type: "read", score: 20, systems: ["cloud"] },
  { names: CLOUD, when: anyArg(/(^|-)(create|put|update|deploy|run|start|stop|modify|attach|set|invoke|copy|cp|sync|mv)(-|$)/), type: "deploy", score: 60, systems: ["cloud"] },
  { names: CLOUD, when: anyArg(/(^|-)(delete|terminate|remove|rm|rb|destroy|purge|deregister)(-|$)/), type: "delete", score: 85, reversible: false, systems: ["cloud"] },
  { names: ["vercel", "netlify", "fly", "flyctl", "heroku", "serverless", "sls", "firebase", "eb", "railway", "wrangler", "ansible-playbook", "cap"], type: "deploy", score: 65, reversible: false, systems: ["deploy"] },
  { names: ["vercel", "netlify"], when: has("--prod", "--production"), type: "deploy", score: 80, reversible: false, systems: ["deploy"] },
  { names: ["gh"], sub: ["release", "pr", "repo", "workflow"], when: anyArg(/^(create|merge|delete|run|close)$/), type: "deploy", score: 55, systems: ["github"] },

  { names: DB, type: "exec", score: 40, systems: ["database"] },
  { names: ["*"], when: text(/\b(drop\s+(table|database|schema|index|collection)|truncate\s+table)\b|\bflushall\b|\bflushdb\b|\.drop\(\)|dropDatabase\(/i), type: "delete", score: 90, reversible: false, systems: ["database"] },
  { names: ["*"], when: text(/\bdelete\s+from\s+[\w."`]+\s*(;|$|["'])/i), type: "delete", score: 80, reversible: false, systems: ["database"] },
  { names: ["*"], when: text(/\bupdate\s+[\w."`]+\s+set\b(?![\s\S]*\bwhere\b)/i), type: "write", score: 70, systems: ["database"] },
];

function classOf(score: number): Risk["class"] {
  if (score < 25) return "low";
  if (score < 50) return "medium";
  if (score < 75) return "high";
  return "critical";
}

function subcommand(argv: readonly string[]): string | undefined {
  // After global options with values (`kubectl -n prod delete`), under its canonical name (`helm del`).
  const known = subcommandOf(argv);
  if (known !== undefined) return known;
  for (let i = 1; i < argv.length; i++) if (!(argv[i] as string).startsWith("-")) return argv[i];
  return undefined;
}

interface Finding {
  type: ActionType;
  score: number;
  reversible: boolean;
  systems: string[];
}

const REMOTE_SHELLS = new Set(["ssh", "scp", "sftp", "rsync", "mosh"]);
const URL_START = /^[a-z][a-z0-9+.-]*:\/\//i;

function hostsOf(argv: readonly string[]): string[] {
  const hosts: string[] = [];
  const prog = argv[0] ?? "";
  const remote = REMOTE_SHELLS.has(prog);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.includes("://") && URL_START.test(a)) {
      const u = parseUrl(a);
      if (u) hosts.push(u.host);
    } else if (remote) {
      const m = /^(?:[^@\s/]+@)?([A-Za-z0-9.-]+\.[A-Za-z]{2,}|[A-Za-z0-9-]+)(?::|$)/.exec(a);
      if (m?.[1] && !a.startsWith("-") && (a.includes("@") || a.includes(":") || prog === "ssh")) hosts.push(m[1].toLowerCase());
    }
  }
  return hosts;
}

/** The rows that may apply to each program name, in table order; "*" rows are in every list. */
const STAR_ROWS: readonly Row[] = ROWS.filter((r) => r.names.includes("*"));
const ROWS_BY_NAME = new Map<string, readonly Row[]>();
for (const name of new Set(ROWS.flatMap((r) => r.names))) {
  if (name !== "*") ROWS_BY_NAME.set(name, ROWS.filter((r) => r.names.includes(name) || r.names.includes("*")));
}

/** Every "*" row looks for one of these words: text without any skips them all. */
const STAR_WORDS = /drop|truncate|flush|delete|update/i;
const STAR_ROW_SET = new Set(STAR_ROWS);

/** `text` is what text conditions read: given lazily, most rows never need it. */
function commandFinding(argv: readonly string[], text: string | (() => string)): Finding {
  const name = argv[0] ?? "";
  const sub = subcommand(argv);
  let best: Row | null = null;
  let line: string | null = null;
  let starWords: boolean | null = null;
  for (const row of ROWS_BY_NAME.get(name) ?? STAR_ROWS) {
    if (row.sub && (sub === undefined || !row.sub.includes(sub))) continue;
    if (best !== null && row.score <= best.score) continue;
    if (row.when) {
      line ??= typeof text === "string" ? text : text();
      if (STAR_ROW_SET.has(row) && !(starWords ??= STAR_WORDS.test(line))) continue;
      if (!row.when(argv, line)) continue;
    }
    best = row;
  }
  const found: Finding = best ? { type: best.type, score: best.score, reversible: best.reversible ?? true, systems: [...(best.systems ?? [])] } : { type: "exec", score: 20, reversible: true, systems: [] };
  const hosts = hostsOf(argv);
  if (hosts.length > 0) found.systems = [...found.systems.filter((s) => s !== "network"), ...hosts.map((h) => `network:${h}`)];
  return found;
}

const SENSITIVE_PATH = /(^|\/)(\.env[^/]*|\.ssh\/.*|id_(rsa|dsa|ecdsa|ed25519)[^/]*|\.aws\/credentials|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.kube\/config|\.docker\/config\.json|[^/]*\.(pem|key|p12|pfx)|secrets?(\.[a-z]+)?|credentials(\.[a-z]+)?)$/i;
const SYSTEM_PATH = /^(\/etc\/|\/usr\/|\/bin\/|\/sbin\/|\/boot\/|\/sys\/|\/proc\/|\/lib|\/var\/lib\/)|(^|\/)\.(bashrc|zshrc|profile|bash_profile|zprofile)$|(^|\/)\.git\/hooks\/|(^|\/)\.github\/workflows\//;

function pathFinding(tool: string, path: string, deletes: boolean): Finding {
  if (tool === "read") return SENSITIVE_PATH.test(path) ? { type: "read", score: 45, reversible: true, systems: ["filesystem", "secrets"] } : { type: "read", score: 5, reversible: true, systems: ["filesystem"] };
  if (deletes) return { type: "delete", score: 45, reversible: false, systems: ["filesystem"] };
  if (SYSTEM_PATH.test(path)) return { type: "write", score: 60, reversible: true, systems: ["filesystem", "system"] };
  if (SENSITIVE_PATH.test(path)) return { type: "write", score: 55, reversible: true, systems: ["filesystem", "secrets"] };
  return { type: "write", score: 25, reversible: true, systems: ["filesystem"] };
}

const TOOL_NAME_ROWS: readonly [RegExp, Finding][] = [
  [/deploy|release|publish|rollout|promote/, { type: "deploy", score: 65, reversible: false, systems: [] }],
  [/delete|remove|drop|destroy|purge|wipe|terminate/, { type: "delete", score: 65, reversible: false, systems: [] }],
  [/send|message|email|mail|slack|discord|telegram|post|notify|tweet|sms|reply/, { type: "message", score: 35, reversible: false, systems: ["messaging"] }],
  [/write|update|create|edit|set|put|upload/, { type: "write", score: 35, reversible: true, systems: [] }],
  [/read|get|list|search|find|query|fetch|view|show|status/, { type: "read", score: 10, reversible: true, systems: [] }],
];

function toolFinding(tool: string, content: string | null): Finding {
  const row = TOOL_NAME_ROWS.find(([re]) => re.test(tool));
  const base: Finding = row ? { ...row[1], systems: [...row[1].systems] } : { type: "unknown", score: 25, reversible: true, systems: [] };
  if (content && /\b(prod|production)\b/i.test(content) && (base.type === "deploy" || base.type === "delete")) return { ...base, score: Math.min(100, base.score + 15) };
  return base;
}

/** "network" says less than "network:example.com": drop it when a host is known. */
function withoutVagueNetwork(systems: string[]): string[] {
  return systems.some((s) => s.startsWith("network:")) ? systems.filter((s) => s !== "network") : systems;
}

function combine(findings: Finding[]): Risk {
  let top = findings[0] as Finding;
  let reversible = true;
  const systems: string[] = [];
  for (const f of findings) {
    if (f.score > top.score) top = f;
    reversible &&= f.reversible;
    for (const s of f.systems) if (!systems.includes(s)) systems.push(s);
  }
  const score = Math.max(0, Math.min(100, Math.round(top.score)));
  return { actionType: top.type, score, class: classOf(score), reversible, systems: withoutVagueNetwork(systems) };
}

/** Scores of options that make a read tool write or run programs (see shell/side-effects.ts). */
const EFFECT_SCORE: Record<SideEffect["type"], number> = { write: 35, exec: 55, delete: 60 };

function withEffects(f: Finding, effects: readonly SideEffect[] | undefined): Finding {
  if (effects === undefined) return f;
  let out = f;
  for (const e of effects) {
    // A program judged on its own (`find -exec grep …`) carries its own risk.
    const score = e.asks ? EFFECT_SCORE[e.type] : 20;
    if (score > out.score) out = { type: e.type, score, reversible: e.type !== "delete" && out.reversible, systems: out.systems.includes("filesystem") ? out.systems : [...out.systems, "filesystem"] };
  }
  return out;
}

function shellRisk(subjects: Subjects): Risk {
  const a = subjects.shell;
  if (!a) return combine([{ type: "exec", score: 20, reversible: true, systems: [] }]);
  const findings: Finding[] = a.commands.map((c) => {
    if (c.unparsed && /read from its input/.test(c.unparsed)) {
      // `curl … | sh`: runs a program nobody has read (the fetch shows up as its own part).
      return { type: "exec", score: 90, reversible: false, systems: [] };
    }
    const f = withEffects(commandFinding(c.argv, () => c.levels.join("\n")), c.effects);
    const unparsedFloor = c.unparsed ? Math.max(f.score, 50) : f.score;
    // Root can do anything the command can, everywhere.
    const score = c.privileged ? Math.min(100, unparsedFloor + 20) : unparsedFloor;
    return { ...f, score, systems: c.privileged ? [...f.systems, "root"] : f.systems };
  });
  if (a.writes.length > 0) findings.push(...a.writes.map((w) => pathFinding("write", w, false)));
  return combine(findings.length > 0 ? findings : [{ type: "exec", score: 20, reversible: true, systems: [] }]);
}

export function classifyRisk(tool: string, subjects: Subjects, params: unknown): Risk {
  switch (subjects.kind) {
    case "shell":
      return shellRisk(subjects);
    case "path": {
      const patch = typeof params === "object" && params !== null ? (params as Record<string, unknown>)["input"] ?? (params as Record<string, unknown>)["patch"] : undefined;
      const deletes = tool === "apply_patch" && typeof patch === "string" && patchDeletes(patch);
      const paths = subjects.parts.filter((p) => !p.noContent).map((p) => p.levels[0] ?? "");
      if (paths.length === 0) return combine([pathFinding(tool, "", deletes)]);
      return combine(paths.map((p) => pathFinding(tool, p, deletes)));
    }
    case "url": {
      const host = subjects.parts[0]?.host;
      return combine([{ type: "network", score: tool === "browser" ? 35 : 30, reversible: true, systems: host ? [`network:${host}`] : ["network"] }]);
    }
    default: {
      const content = subjects.whole;
      const findings = [toolFinding(tool, content)];
      if (content) {
        const sql = commandFinding(["*"], content);
        if (sql.score > 20) findings.push(sql);
      }
      return combine(findings);
    }
  }
}
