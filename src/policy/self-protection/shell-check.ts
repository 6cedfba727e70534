import { posix } from "node:path";
import { channelCallbacks } from "../../../bots/specs.ts";
import { analyseArgv } from "../shell/analyse.ts";
import type { ShellAnalysis, ShellCommand } from "../shell/types.ts";
import type { Protector, ProtectHit } from "./hit.ts";
import { clawgateInText, clawgateVerdict, isComputed, namesClawgate, namesClawgateIn, openclawVerdict } from "./cli.ts";
import { launcherVerdict } from "./launchers.ts";
import type { PathUse } from "./paths.ts";

/** A path of clawgate's REST API or of a channel's callback ("/slack/events" → "/slack"). */
const CALLS_SERVICE = new RegExp(`\\/(${[...new Set(channelCallbacks().map((p) => p.replace(/^\/+/, "").split("/")[0] as string)), "api"].join("|")})\\b`, "i");

/*
 * Self-protection over one analysed shell line. Every simple command (the shell parser has
 * already peeled wrappers, `bash -c`, `$(…)`, `find -exec`, git aliases) is judged by what it
 * runs; its words by what they name, paths resolved and by how the command uses them.
 */

const REDIS_CLIS = new Set(["redis-cli", "valkey-cli", "keydb-cli", "redis-benchmark", "dragonfly-cli"]);
const REDIS_CLI_VALUES = new Set(["-h", "-p", "-u", "-s", "-a", "--user", "--pass", "-n", "-r", "-i", "-d", "-D", "-X", "--sni", "--cacert", "--cacertdir", "--cert", "--key", "--tls-ciphers", "--tls-ciphersuites", "--eval", "--pattern", "--count", "--rdb", "--functions-rdb", "--show-pushes", "--memkeys-samples", "--intrinsic-latency", "--lru-test", "--pipe-timeout", "--cluster"]);
const NET_TOOLS = new Set(["nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "telnet", "socat", "busybox-nc"]);
const NET_HINT = /socket|connect|redis|\bnet\b|createConnection|telnet|fsockopen|TCPSocket|Socket\.new/i;

/**
 * Programs that run the rest of their arguments as a command (after options of their own that
 * clawgate does not parse): each later word that could be a program is judged as one.
 */
const EXECUTORS = new Set([
  "parallel", "sem", "flock", "strace", "ltrace", "firejail", "unshare", "nsenter", "chrt", "prlimit", "setpriv", "faketime", "fakeroot", "proot", "bwrap",
  "torsocks", "torify", "proxychains", "proxychains4", "tsocks", "catchsegv", "valgrind", "gdb", "lldb", "rlwrap", "entr", "dbus-run-session", "dbus-launch",
  "xvfb-run", "caffeinate", "systemd-inhibit", "chpst", "sg", "sshpass", "daemonize", "start-stop-daemon", "cgexec", "numactl", "schedtool", "trickle",
  "with-contenv", "s6-setuidgid", "su-exec", "gosu", "setuidgid", "softlimit", "envdir", "dotenv", "cross-env", "env-cmd", "npx", "pnpx", "bunx",
  "uvx", "pipx", "direnv", "nix-shell", "devbox", "mise", "asdf", "rtx", "poetry", "pipenv", "bundle", "uv", "ssh-agent", "unbuffer", "script", "watchexec", "nodemon",
]);
/** Programs that append words read from their input to the command they run. */
const FEEDERS = /^(\S*\/)?(xargs|parallel|sem)( |$)/;
const FEEDER_NAMES = /xargs|parallel|sem/;
/** Programs whose arguments are code: a clawgate CLI named there with anything but a read-only verb counts. */
const CODE_PROGRAMS = new Set(["awk", "gawk", "mawk", "nawk", "busybox", "sed", "gsed", "expect", "tclsh", "wish", "ed", "ex", "vim", "vi", "nvim", "emacs"]);
/** Reading these programs' arguments is all they do: paths they name are only read. */
const READERS = new Set([
  "cat", "tac", "less", "more", "most", "head", "tail", "grep", "egrep", "fgrep", "rg", "ag", "ack", "ls", "ll", "dir", "tree", "stat", "file", "wc", "diff", "cmp", "comm",
  "md5sum", "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "cksum", "sum", "du", "df", "realpath", "readlink", "basename", "dirname", "test", "[",
  "cd", "pushd", "echo", "printf", "jq", "yq", "xxd", "hexdump", "od", "strings", "nl", "sort", "uniq", "cut", "column", "bat", "batcat", "view", "zcat", "zless", "bzcat", "xzcat", "lsattr", "getfacl",
]);
const CD = new Set(["cd", "pushd"]);
/** Copying and linking programs: `cp a b/` writes `b/a`. */
const COPIERS = new Set(["cp", "mv", "ln", "install", "rsync", "scp", "link", "gcp", "gmv"]);
const MAX_DEPTH = 3;
/** A path-looking string in code: after a quote, paren, comma, `=`, space or start; up to the next of those. */
const CODE_PATH = /(?:^|['"`(,=\s])((?:~|\$HOME|\$\{HOME\}|\.{1,2})?\/[^\s'"`()<>;,|&{}[\]]+)/g;
/** Archive tools: they extract into folders, or read whole trees into an archive. */
const ARCHIVERS = new Set(["tar", "bsdtar", "gtar", "unzip", "zip", "cpio", "7z", "7za", "7zr"]);
const deny = (what: string, matched: string): ProtectHit => ({ decision: "deny", what, matched });
/** Commands that read a whole folder tree: recursive copies and archive creation. */
const RECURSIVE_READERS = /^((cp|gcp|scp)( .*)? -[A-Za-z]*[rRa]|rsync |(tar|bsdtar|gtar) (-?[A-Za-z]*c|.* --create)|zip( .*)? -[A-Za-z]*r|7za? a |cpio( .*)? -[A-Za-z]*o)/;
const APPROVAL_ID = /^ap_[0-9a-z]{12}$/;
const shownOf = (argv: readonly string[]): string => argv.join(" ");

/** posix.basename, without its work for the usual bare program name. */
const base = (w: string): string => (w.includes("/") ? posix.basename(w) : w);

/** Words of `argv` that are not options, and the option that names a target directory (`-t DIR`). */
function positionals(argv: readonly string[]): { words: string[]; target: string | undefined } {
  const words: string[] = [];
  let target: string | undefined;
  let ended = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!ended && a === "--") ended = true;
    else if (!ended && (a === "-t" || a === "--target-directory")) target = argv[++i];
    else if (!ended && a.startsWith("--target-directory=")) target = a.slice(a.indexOf("=") + 1);
    else if (!ended && a.startsWith("-") && a !== "-") continue;
    else words.push(a);
  }
  return { words, target };
}

/** A word pathToken and PathGuard.match read as itself, a plain name (see PathGuard.namesSegment). */
const PLAIN_WORD = /^[^/~$*?[=,:@<]+$/;
/** Words that cannot be paths: options without a value, numbers. */
const NOT_A_PATH = /^(-[^=]*|\d+)$/;
const REDIRECTION = /^\d*(<<<|<<-?|<>|>>|>\||>&|<&|&>>|&>|>|<)/;
/** One character of what `\s+` splits words on. */
const SPACE = /\s/;

class LineJudge {
  private ask: ProtectHit | null = null;
  /** Some command in the line feeds words from input to what it runs (xargs, parallel): every command may get them. */
  private fed = false;
  /** The line names something of clawgate's (its needle): words need the text checks too. */
  private named = true;
  private readonly readUse: PathUse;
  private readonly writeUse: PathUse;

  constructor(
    private readonly p: Protector,
    private readonly workdirs: readonly string[],
    private readonly depth: number,
    /** Words the line this one runs under already judged as written paths (an executor's own argv). */
    private readonly judged: ReadonlySet<string> | null = null,
  ) {
    this.readUse = { workdirs, write: false };
    this.writeUse = { workdirs, write: true };
  }

  /** Keeps the first ask; returns a deny to stop at. */
  private keep(h: ProtectHit | null): ProtectHit | null {
    if (h?.decision === "deny") return h;
    this.ask ??= h;
    return null;
  }

  line(a: ShellAnalysis): ProtectHit | null {
    // No word of a line can name clawgate, its Redis or its service unless the line does.
    this.named = this.p.needle.test(a.whole);
    // A clawgate command spelled anywhere in the line, even as another program's argument.
    const named = this.named ? clawgateInText(a.whole, false) : null;
    if (named?.decision === "deny") return { ...named, matched: a.whole.length > 200 ? `${a.whole.slice(0, 200)}…` : a.whole };
    this.fed ||= FEEDER_NAMES.test(a.whole) && a.commands.some((c) => c.levels.some((l) => FEEDERS.test(l)));
    // `c=clawgate; $c "$v"`, `eval "$x"` beside a mention of the CLI: what runs is computed from it.
    const computed = a.commands.find((c) => c.unparsed !== undefined && /^(command name|eval|alias)/.test(c.unparsed));
    if (computed && namesClawgateIn(a.whole)) {
      return { decision: "deny", what: "runs a command computed at run time in a line that names the clawgate CLI", matched: computed.levels[0] ?? a.whole };
    }
    for (const c of a.commands) {
      const h = this.keep(this.command(c));
      if (h) return h;
    }
    for (const w of a.writes) {
      const hit = this.p.paths.match(w, { workdirs: this.workdirs, write: true });
      if (hit) return { decision: "deny", what: `writes to ${hit.what}`, matched: w };
    }
    // The whole line also holds what commands do not: input redirections (`< clawgate.yaml`, `/dev/tcp/…`).
    return this.keep(this.rest(a.whole)) ?? this.ask;
  }

  /** One word, as a URL, a Redis mention or (unless it is an option or a number) a path. */
  private word(w: string, write: boolean): ProtectHit | null {
    if (w.length === 0 || w.length > 4096 || this.judged?.has(w)) return null;
    // Most words: nothing of ours named in the line, no working directory, and a plain word
    // (nothing pathToken would split or strip) that is no protected name.
    if (!this.named && this.workdirs.length === 0 && PLAIN_WORD.test(w) && w !== "." && w !== ".." && !this.p.paths.namesSegment(w)) return null;
    const use = NOT_A_PATH.test(w) ? null : write ? this.writeUse : this.readUse;
    if (!this.named) return use === null ? null : this.p.pathToken(w, use);
    return this.p.token(w, use);
  }

  /** Free text (a wrapper level): its words as read, a redirection's target included. */
  private text(text: string): ProtectHit | null {
    for (const raw of text.split(/\s+/)) {
      const h = this.word(raw.replace(REDIRECTION, ""), false);
      if (h) return h;
    }
    return null;
  }

  /**
   * The whole line holds what no command's words do: input redirections (`< clawgate.yaml`,
   * `3<>/dev/tcp/…`) and here-document bodies. Other words were judged with their command.
   */
  private rest(text: string): ProtectHit | null {
    // Every redirection has a `<` or `>`; without a name of ours, nothing else here counts.
    if (!this.named) return this.redirections(text);
    for (const raw of text.split(/\s+/)) {
      const bare = raw.replace(REDIRECTION, "");
      if (bare !== raw) {
        const h = this.word(bare, false);
        if (h) return h;
      } else if (this.named && this.p.needle.test(raw)) {
        const h = this.p.token(raw, null);
        if (h) return h;
      }
    }
    return null;
  }

  /**
   * `rest` for a line that names nothing of ours: only its redirections count, and every
   * redirection word holds a `<` or `>`. The words around each such character are found
   * without splitting the whole line (a long line has few redirections and many words).
   */
  private redirections(text: string): ProtectHit | null {
    let from = 0;
    while (from < text.length) {
      const gt = text.indexOf(">", from);
      const lt = text.indexOf("<", from);
      const at = gt < 0 ? lt : lt < 0 ? gt : Math.min(gt, lt);
      if (at < 0) return null;
      let start = at;
      while (start > 0 && !SPACE.test(text[start - 1] as string)) start--;
      let end = at + 1;
      while (end < text.length && !SPACE.test(text[end] as string)) end++;
      const raw = text.slice(start, end);
      const bare = raw.replace(REDIRECTION, "");
      if (bare !== raw) {
        const h = this.word(bare, false);
        if (h) return h;
      }
      from = end;
    }
    return null;
  }

  private command(c: ShellCommand): ProtectHit | null {
    const shown = c.levels[0] ?? "";
    const found = this.program(c.argv, this.fed, shown, c.opaque !== undefined);
    if (found) return found;
    // Wrappers' own words (`sudo -D dir`, `timeout 5`) and the texts only deny rules see.
    const inner = c.levels.length - 1;
    for (let i = 0; i < c.levels.length; i++) {
      if (i === inner) continue;
      const h = this.keep(this.text(c.levels[i] as string));
      if (h) return h;
    }
    for (const t of c.denyOnly) {
      const h = this.keep(this.text(t));
      if (h) return h;
    }
    return null;
  }

  /** One argv: what program it runs, what its words name, and (for executors) what it runs in turn. */
  private program(argv: readonly string[], fed: boolean, shown: string, opaque: boolean): ProtectHit | null {
    const name = base(argv[0] ?? "");
    const cli = clawgateVerdict(argv, fed) ?? openclawVerdict(argv);
    const found =
      this.keep(cli ? { ...cli, matched: shown } : null) ??
      (REDIS_CLIS.has(name) ? this.keep(this.redisCli(argv, shown)) : null) ??
      (NET_TOOLS.has(name) ? this.keep(this.netTool(argv, shown)) : null) ??
      this.keep(this.launcher(argv, shown)) ??
      this.keep(this.decision(argv, shown)) ??
      this.keep(this.inlineCode(argv, shown, opaque || CODE_PROGRAMS.has(name))) ??
      this.keep(this.words(argv, name)) ??
      this.keep(this.copies(argv, name));
    if (found) return found;
    if (EXECUTORS.has(name) && this.depth < MAX_DEPTH) {
      // Where the wrapped command starts is unknown: judge each later word as a program. Its
      // words were judged just now as written paths (an executor is no reader), which covers
      // every reading of them as a path: only what the program makes of them is new.
      const judged = READERS.has(name) ? null : new Set(argv.slice(1));
      let tried = 0;
      for (let k = 1; k < argv.length && tried < 6; k++) {
        const w = argv[k] as string;
        if (w.startsWith("-") || /^\d+$/.test(w) || w.includes("=")) continue;
        tried++;
        const sub = new LineJudge(this.p, this.workdirs, this.depth + 1, judged);
        const h = this.keep(sub.fedLine(analyseArgv(argv.slice(k))));
        if (h) return h;
      }
    }
    return null;
  }

  /** A line whose commands get more words at run time (they run under parallel, flock, …). */
  private fedLine(a: ShellAnalysis): ProtectHit | null {
    for (const c of a.commands) {
      const cli = clawgateVerdict(c.argv, true);
      if (cli) {
        const h = this.keep({ ...cli, matched: c.levels[0] ?? "" });
        if (h) return h;
      }
    }
    return this.line(a);
  }

  /** Each word as a URL, Redis mention or path; paths are read by readers, written (or worse) by the rest. */
  private words(argv: readonly string[], name: string): ProtectHit | null {
    const write = !READERS.has(name);
    for (let k = 0; k < argv.length; k++) {
      const h = this.word(argv[k] as string, k > 0 && write);
      if (h) return h;
    }
    return null;
  }

  /**
   * Copies and links land in a folder under their source's name (`cp x ~/.openclaw/` writes
   * `~/.openclaw/x`); links, moves and recursive copies reach everything below a folder, so a
   * folder that holds protected files counts too (`ln -s /srv/cg x`, `mv ~/.openclaw y`).
   * Archives extracted into such a folder (`tar -xf a.tar -C dir`, `unzip -d dir`) likewise.
   */
  private copies(argv: readonly string[], name: string): ProtectHit | null {
    if (!COPIERS.has(name) && !ARCHIVERS.has(name)) return null;
    const use = this.writeUse;
    const extractTo = extractionTarget(argv, name);
    if (extractTo !== undefined) {
      const hit = this.p.paths.within(extractTo, use) ?? this.p.paths.match(extractTo, use);
      if (hit) return deny(`extracts files into a folder that holds ${hit.what}`, extractTo);
    }
    // Archiving or copying a whole folder that holds protected files reads them all.
    if (RECURSIVE_READERS.test(argv.join(" "))) {
      for (const w of positionals(argv).words) {
        const hit = this.p.paths.within(w, { workdirs: this.workdirs });
        if (hit) return deny(`copies or archives a folder that holds ${hit.what}`, w);
      }
    }
    if (!COPIERS.has(name)) return null;
    const { words, target } = positionals(argv);
    // A copy or link of the clawgate CLI under another name would run without its name.
    if (name !== "rsync" && words.slice(0, target !== undefined ? undefined : -1).some((w) => namesClawgate(w) || (isComputed(w) && namesClawgateIn(w)))) {
      return deny("copies or links the clawgate CLI under another name", shownOf(argv));
    }
    const dest = target ?? (words.length > 1 ? words[words.length - 1] : undefined);
    const sources = target !== undefined ? words : words.slice(0, -1);
    if (name === "ln" || name === "link" || name === "mv" || name === "gmv") {
      for (const s of sources) {
        const hit = this.p.paths.within(s, use);
        if (hit) return deny(`${name === "mv" || name === "gmv" ? "moves" : "links to"} a folder that holds ${hit.what}`, s);
      }
    }
    if (dest === undefined) return null;
    for (const s of sources) {
      const landed = posix.join(dest, posix.basename(s.replace(/\/+$/, "")));
      const hit = this.p.paths.match(landed, use) ?? (s.endsWith("/") && name === "rsync" ? this.p.paths.within(dest, use) : this.p.paths.within(landed, use));
      if (hit) return deny(`copies into ${hit.what}`, `${s} → ${dest}`);
    }
    return null;
  }

  /** `/tmp/cg approve "$ID"`: a decision on a computed id, whatever the program is called now. */
  private decision(argv: readonly string[], shown: string): ProtectHit | null {
    const id = argv[2];
    if (argv[1] !== "approve" || id === undefined || !(isComputed(id) || APPROVAL_ID.test(id))) return null;
    return { decision: "deny", what: "decides an approval, whatever the program is called", matched: shown };
  }

  /** `redis-cli [-h host] [-p port] [-u url] [-s socket] …` against clawgate's Redis. */
  private redisCli(argv: readonly string[], shown: string): ProtectHit | null {
    const head = argv[0];
    if (head === undefined) return null;
    let host = "127.0.0.1";
    let port = "6379";
    let uri: string | undefined;
    let socket: string | undefined;
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i] as string;
      if (!a.startsWith("-")) break;
      const value = argv[i + 1] ?? "";
      if (a === "-h") host = value;
      else if (a === "-p") port = value;
      else if (a === "-u") uri = value;
      else if (a === "-s") socket = value;
      if (REDIS_CLI_VALUES.has(a)) i++;
    }
    if ([host, port, uri ?? "", socket ?? ""].some((w) => w.includes("$") || w.includes("`"))) {
      return { decision: "ask", what: "runs redis-cli against a server only known at run time", matched: shown };
    }
    if (socket !== undefined) {
      const p = this.p.paths.match(socket, { workdirs: this.workdirs });
      return p ? { decision: "deny", what: `connects to ${p.what} with redis-cli`, matched: shown } : null;
    }
    const target = uri !== undefined ? (parseUri(uri) ?? { host: "", port: 0 }) : { host, port: Number(port) };
    return this.p.redis.matches(target.host, target.port) ? { decision: "deny", what: "connects to clawgate's Redis with redis-cli", matched: shown } : null;
  }

  /** `nc 127.0.0.1 6379`, `telnet 0x7f.1 8787`: a raw connection to Redis or the service. */
  private netTool(argv: readonly string[], shown: string): ProtectHit | null {
    const head = argv[0];
    if (head === undefined) return null;
    const words = argv.slice(1).flatMap((w) => w.split(/[:,]/).filter((x) => x.length > 0));
    const ports = words.filter((w) => /^\d{1,5}$/.test(w)).map(Number);
    for (const [endpoints, what] of [
      [this.p.redis, "clawgate's Redis"],
      [this.p.service, "clawgate's approval service"],
    ] as const) {
      for (const w of [...words, ...argv.slice(1)]) {
        if (!endpoints.hasHost(w)) continue;
        if (ports.some((port) => endpoints.matches(w, port)) || endpoints.matches(w, 0)) return { decision: "deny", what: `connects to ${what} with ${base(head)}`, matched: shown };
      }
    }
    return null;
  }

  private launcher(argv: readonly string[], shown: string): ProtectHit | null {
    const v = launcherVerdict(argv, this.p.local);
    return v ? { ...v, matched: shown } : null;
  }

  /** Inline code: the clawgate CLI named in it, or clawgate's Redis or service next to networking. */
  private inlineCode(argv: readonly string[], shown: string, code: boolean): ProtectHit | null {
    if (!code) return null;
    for (let k = 1; k < argv.length; k++) {
      const v = clawgateInText(argv[k] as string, true);
      if (v) return { ...v, matched: shown };
    }
    const text = argv.slice(1).join(" ");
    // Paths named inside the code (`open('/srv/cg/clawgate.yaml')`, `require("~/.openclaw/x")`).
    CODE_PATH.lastIndex = 0;
    for (let m = CODE_PATH.exec(text); m !== null; m = CODE_PATH.exec(text)) {
      const hit = this.p.pathToken(m[1] as string, this.writeUse);
      if (hit) return { ...hit, what: `runs code that ${hit.what}`, matched: shown };
    }
    if (this.p.redis.mentionsPort(text) && NET_HINT.test(text)) return { decision: "deny", what: "runs code that connects to clawgate's Redis", matched: shown };
    if (this.p.service.mentionedIn(text) && CALLS_SERVICE.test(text)) return { decision: "deny", what: "runs code that calls clawgate's approval service", matched: shown };
    return null;
  }
}

function parseUri(uri: string): { host: string; port: number } | null {
  try {
    const u = new URL(uri);
    return { host: u.hostname || "127.0.0.1", port: u.port ? Number(u.port) : 6379 };
  } catch {
    return null;
  }
}

function valueAfter(argv: readonly string[], flags: readonly string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (flags.includes(a)) return argv[i + 1];
    for (const f of flags) if (f.startsWith("--") && a.startsWith(`${f}=`)) return a.slice(f.length + 1);
  }
  return undefined;
}

/** Where an archive tool extracts to, when it says so: `tar -x … -C dir`, `unzip … -d dir`, `7z x -odir`, `cpio -i -D dir`. */
function extractionTarget(argv: readonly string[], name: string): string | undefined {
  if (name === "tar" || name === "bsdtar" || name === "gtar") {
    const attached = argv.find((a, i) => i > 0 && /^-C./.test(a));
    const to = attached?.slice(2) ?? valueAfter(argv, ["-C", "--directory"]);
    // Without -C, an archive is extracted into the working directory.
    return to ?? (argv.some((a, i) => i > 0 && (/^-?[A-Za-z]*x/.test(a) || a === "--extract" || a === "--get")) ? "." : undefined);
  }
  if (name === "unzip") return valueAfter(argv, ["-d"]) ?? ".";
  if (name === "cpio") return valueAfter(argv, ["-D", "--directory"]);
  if (name === "7z" || name === "7za" || name === "7zr") return argv.find((a) => a.startsWith("-o"))?.slice(2);
  return undefined;
}

/** Self-protection for one analysed shell line run from `workdirs` (and any folder it `cd`s into). */
export function judgeShellLine(p: Protector, a: ShellAnalysis, workdirs: readonly string[]): ProtectHit | null {
  const dirs = [...workdirs];
  for (const c of a.commands) {
    // A `cd` anywhere in the line may come first: its folder anchors every relative path.
    if (!CD.has(c.argv[0] ?? "") || c.argv.length < 2) continue;
    const to = c.argv[c.argv.length - 1] as string;
    if (to.startsWith("-")) continue;
    // Entering a folder reads it; writes there are seen through the folder anchoring them.
    const entered = p.paths.match(to, { workdirs });
    if (entered) return { decision: "deny", what: `enters ${entered.what}`, matched: c.levels[0] ?? to };
    if (to.startsWith("/") || to.startsWith("~") || /^\$\{?HOME\b/.test(to)) dirs.push(to);
    else for (const w of workdirs) dirs.push(posix.join(w, to));
  }
  return new LineJudge(p, dirs, 0).line(a);
}
