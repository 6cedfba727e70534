import { posix } from "node:path";
import type { LocalHosts } from "./address.ts";
import type { CliVerdict } from "./cli.ts";

/*
 * Programs that start a shell (or a command runner) whose later input reaches it some other
 * way than a tool call clawgate judges: a terminal multiplexer's panes take keys from any
 * later `tmux send-keys`, `at` and `crontab` run what they read later, `ssh localhost` is a
 * new login on this host, `socat … EXEC:bash` serves a shell to whoever connects. Each needs
 * approval (never a silent allow, never a plain deny: a person may want one).
 *
 * Text typed with OpenClaw's own `process` tool is judged like a command line, so a plain
 * interactive shell (`bash`, `sudo -i`) started through exec is not in this list: the shell
 * parser already asks before it, and what is typed into it is judged line by line.
 */

const ask = (what: string): CliVerdict => ({ decision: "ask", what });
const INFO = new Set(["-V", "--version", "-h", "--help", "-v"]);

/** tmux subcommands (and aliases) that only look or stop things. */
const TMUX_READ = new Set([
  "ls", "list-sessions", "list-windows", "lsw", "list-panes", "lsp", "list-clients", "lsc", "list-buffers", "lsb", "list-keys", "lsk", "list-commands", "lscm",
  "has-session", "has", "show-options", "show", "show-window-options", "showw", "show-buffer", "showb", "capture-pane", "capturep", "display-message", "display",
  "kill-server", "kill-session", "kill-window", "killw", "kill-pane", "killp", "info", "start-server", "start",
]);
const TMUX_VALUES = new Set(["-L", "-S", "-f", "-T"]);
const MULTIPLEXERS = new Set(["tmate", "byobu", "zellij", "dtach", "abduco", "reptyr", "byobu-tmux", "byobu-screen"]);
const SERVERS = new Set(["telnetd", "sshd", "dropbear", "in.telnetd", "utelnetd"]);
const SSH_VALUES = "BbcDEeFIiJLlmOoPpQRSWw";
const SSH_LIKE = new Set(["ssh", "slogin", "autossh", "mosh", "rsh", "rlogin", "sshpass"]);

/** Every program this module has a verdict on: anything else is skipped at once. */
const LAUNCHERS = new Set([
  "tmux", "screen", "script", "at", "batch", "crontab", "systemd-run", "systemd-run0", "run0", "expect", "unbuffer-expect", "socat", "nc", "ncat", "netcat",
  "nc.traditional", "nc.openbsd", "telnet", "systemctl", "launchctl", "fcrontab", "incrontab", ...MULTIPLEXERS, ...SERVERS, ...SSH_LIKE,
]);

function firstPositional(args: readonly string[], valueLetters: string, extraValues: ReadonlySet<string> = new Set()): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") return i + 1;
    if (!a.startsWith("-") || a === "-") return i;
    if (extraValues.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("--")) {
      if (!a.includes("=") && /^--(ssh|port|predict|family|bind-server|server|client|experimental-remote-ip)$/.test(a)) i++;
      continue;
    }
    // `-p 22`, `-p22`, `-vp 22`: a value letter ends a group of short options.
    const at = [...a.slice(1)].findIndex((c) => valueLetters.includes(c));
    if (at >= 0 && at === a.length - 2) i++;
  }
  return args.length;
}

/** `[user@]host`, `ssh://user@host:port`, `user@[::1]` → host. */
function sshHost(dest: string): string {
  let d = dest.replace(/^ssh:\/\//i, "");
  d = d.slice(d.lastIndexOf("@") + 1);
  if (d.startsWith("[")) return d.slice(1, d.indexOf("]") > 0 ? d.indexOf("]") : undefined);
  // ssh://host:port; a bare IPv6 address has several colons and no port.
  if (dest.toLowerCase().startsWith("ssh://") || (d.split(":").length === 2 && /:\d+$/.test(d))) d = d.replace(/:\d*$/, "");
  return d.replace(/\/.*$/, "");
}

/** What self-protection makes of a command that could start an unreviewed shell; null when it does not. */
export function launcherVerdict(argv: readonly string[], local: LocalHosts): CliVerdict {
  const head = argv[0];
  if (head === undefined) return null;
  const name = posix.basename(head);
  if (!LAUNCHERS.has(name)) return null;
  const args = argv.slice(1);
  if (args.length === 1 && INFO.has(args[0] as string)) return null;
  if (name === "tmux") {
    const i = firstPositional(args, "", TMUX_VALUES);
    if (args.slice(0, i).includes("-c")) return ask("runs a command through `tmux -c`, in a shell clawgate does not see");
    const sub = args[i];
    if (sub !== undefined && TMUX_READ.has(sub)) return null;
    return ask(`runs \`tmux ${sub ?? "new-session"}\`: a tmux pane is a shell whose later input (send-keys, attach) clawgate does not see`);
  }
  if (name === "screen") {
    if (args.some((a) => a === "-ls" || a === "-list" || a === "--version")) return null;
    return ask("runs `screen`: its windows are shells whose later input (`screen -X stuff`, attach) clawgate does not see");
  }
  if (MULTIPLEXERS.has(name)) return ask(`runs \`${name}\`, which starts a shell whose later input clawgate does not see`);
  if (name === "script") return ask("runs `script`, which starts a shell (or `-c` command) under a new terminal clawgate does not see");
  if (name === "at" || name === "batch") {
    if (args.some((a) => /^-[lrdc]+$/.test(a))) return null;
    return ask(`runs \`${name}\`, which runs commands later that clawgate does not see`);
  }
  if (name === "systemctl" && args.includes("--user") && args.some((a) => /^(start|restart|enable|reenable|reload|try-restart|link|edit|import-environment|set-environment)$/.test(a))) {
    return ask("starts or enables a user service, which runs commands later, unseen by clawgate");
  }
  if (name === "launchctl" && args.some((a) => /^(load|bootstrap|submit|enable|kickstart|start)$/.test(a))) return ask("loads a launchd job, which runs commands later, unseen by clawgate");
  if (name === "crontab" || name === "fcrontab" || name === "incrontab") {
    if (args.length > 0 && args.every((a) => /^-[lru]$/.test(a) || !a.startsWith("-")) && args.some((a) => a === "-l" || a === "-r")) return null;
    return ask("runs `crontab`, which installs commands that run later, unseen by clawgate");
  }
  if (name === "systemd-run" || name === "systemd-run0" || name === "run0") return ask(`runs \`${name}\`, which starts a command or shell outside this session, unseen by clawgate`);
  if (name === "expect" || name === "unbuffer-expect") return ask("runs `expect`, which drives programs with input clawgate does not see");
  if (SERVERS.has(name)) return ask(`starts \`${name}\`, a server that hands out shells clawgate does not see`);
  if (name === "socat" && args.some((a) => /^(exec|system):/i.test(a) || /,(exec|system)[:=]/i.test(a))) {
    return ask("runs `socat` with EXEC/SYSTEM: a program driven by a connection clawgate does not see");
  }
  if (/^(nc|ncat|netcat|nc\.traditional|nc\.openbsd)$/.test(name) && args.some((a) => /^-[a-zA-Z]*[ec]$/.test(a) || /^--(exec|sh-exec|lua-exec)/.test(a))) {
    return ask(`runs \`${name}\` with a program attached to the connection, which clawgate does not see`);
  }
  if (name === "telnet") {
    const i = firstPositional(args, "belnS");
    const host = args[i];
    const port = args[i + 1];
    if (host !== undefined && local.isLocal(host) && (port === undefined || port === "23" || port === "telnet")) return ask("opens a telnet login on this host, a shell clawgate does not see");
    return null;
  }
  if (SSH_LIKE.has(name)) {
    if (name === "sshpass") return null; // the ssh it runs is judged on its own (an executor)
    const i = firstPositional(args, name === "autossh" ? `${SSH_VALUES}M` : SSH_VALUES);
    // `-o HostName=…` decides where ssh really goes, whatever the destination says.
    const named = args.map((a, k) => (a === "-o" ? (args[k + 1] ?? "") : a.startsWith("-o") ? a.slice(2) : "")).find((o) => /^hostname[=\s]/i.test(o));
    const dest = named ? named.replace(/^hostname[=\s]+/i, "") : args[i];
    if (dest === undefined) return null;
    if (local.isLocal(sshHost(dest))) return ask(`opens \`${name}\` to this host: a login shell whose input clawgate does not see`);
  }
  return null;
}
