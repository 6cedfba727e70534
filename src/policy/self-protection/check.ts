import { posix } from "node:path";
import { someString } from "../params-limits.ts";
import { analyseShell } from "../shell/analyse.ts";
import type { ShellAnalysis, ShellCommand } from "../shell/types.ts";
import type { Subjects } from "../subjects.ts";
import type { ToolCall } from "../types.ts";
import { clawgateVerdict, openclawVerdict } from "./cli.ts";
import type { SelfProtectionContext } from "./context.ts";
import { endpointMatches, endpointSets, hostMatches, mentionPattern, parseEndpointUrl } from "./endpoints.ts";
import type { EndpointSet } from "./endpoints.ts";
import { PathGuard } from "./paths.ts";

/** The rule name decisions made by self-protection carry. */
export const SELF_PROTECTION_RULE = "builtin:self-protection";

export interface ProtectHit {
  decision: "deny" | "ask";
  /** What the call would do, e.g. "runs `clawgate approve`, which decides approvals". */
  what: string;
  /** The piece of the call that did it. */
  matched: string;
}

/** Decision routes are clawgate's own paths: whatever host a call names, it means clawgate. */
const DECISION_ROUTE = /\/api\/v\d+\/approvals\/[^/\s?#"']+\/+decision\b|\/api\/v\d+\/tokens\b/i;
/** Callback routes are generic names: they count only on the service's own host and port. */
const CALLBACK_ROUTE = /^\/+(slack\/+events|discord\/+interactions|email\/+inbound)\b/i;
const URL_IN_TEXT = /[a-z][a-z0-9+.-]{1,20}:\/\/[^\s'"<>`]+/gi;
/** `host:port/path` as curl and wget accept it, without a scheme. */
const SCHEMELESS = /^[a-z0-9.[\]:-]+:\d{1,5}(\/|$)/i;
const REDIRECT_PREFIX = /^(\d*(<<<|<<-?|<>|>>|>\||>&|<&|&>>|&>|>|<)|@)/;
const DEV_NET = /\/dev\/(tcp|udp)\/([^/\s'"]+)\/(\d{1,5})/i;
const GLOB = /[*?[]/;
const NET_HINT = /socket|connect|redis|\bnet\b|createConnection|telnet/i;
const REDIS_CLIS = new Set(["redis-cli", "valkey-cli", "keydb-cli", "redis-benchmark", "dragonfly-cli"]);
const REDIS_CLI_VALUES = new Set(["-h", "-p", "-u", "-s", "-a", "--user", "--pass", "-n", "-r", "-i", "-d", "-D", "-X", "--sni", "--cacert", "--cacertdir", "--cert", "--key", "--tls-ciphers", "--tls-ciphersuites", "--eval", "--pattern", "--count", "--rdb", "--functions-rdb", "--show-pushes", "--memkeys-samples", "--intrinsic-latency", "--lru-test", "--pipe-timeout", "--cluster"]);
const NET_TOOLS = new Set(["nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "telnet", "socat", "busybox-nc"]);
const FILE_WRITERS = new Set(["write", "edit", "apply_patch"]);

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const isDynamic = (w: string): boolean => w.includes("$") || w.includes("`");

function decode(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function tokensOf(text: string): string[] {
  return text.split(/\s+/).filter((t) => t.length > 0);
}

/**
 * The built-in self-protection rules, compiled from a SelfProtectionContext. Checked before
 * any user rule; pure and in memory like the rest of the engine (results per shell line are
 * cached with the line's analysis).
 */
export class Protector {
  private readonly paths: PathGuard;
  private readonly redis: EndpointSet[];
  private readonly service: EndpointSet[];
  private readonly redisMention: RegExp | null;
  private readonly serviceMention: RegExp | null;
  private readonly redisPorts: RegExp | null;
  /** Any text that could matter contains one of these; everything else is skipped at once. */
  private readonly needle: RegExp;

  constructor(ctx: SelfProtectionContext) {
    this.paths = new PathGuard(ctx.paths, ctx.home);
    this.redis = endpointSets(ctx.redis);
    this.service = endpointSets(ctx.service);
    this.redisMention = mentionPattern(this.redis);
    this.serviceMention = mentionPattern(this.service);
    const redisPorts = [...new Set(ctx.redis.map((e) => e.port).filter((p) => p > 0))];
    this.redisPorts = redisPorts.length > 0 ? new RegExp(`(?<![0-9])(?:${redisPorts.join("|")})(?![0-9])`) : null;
    const literals = new Set<string>(["clawgate", "openclaw", "redis", "valkey", "keydb", "/dev/tcp", "/dev/udp", "/api/", "cli/main", "slack", "discord", "email", "%2f", ...this.paths.names]);
    for (const e of [...ctx.redis, ...ctx.service]) {
      if (e.port > 0) literals.add(String(e.port));
      literals.add(e.host.toLowerCase());
    }
    this.needle = new RegExp([...literals].filter((l) => l.length > 0).map(escapeRe).join("|"), "i");
  }

  /** A hit when the call would decide approvals or loosen the gate; null otherwise. */
  check(call: ToolCall, tool: string, subjects: Subjects): ProtectHit | null {
    const params = call.params !== null && typeof call.params === "object" && !Array.isArray(call.params) ? (call.params as Record<string, unknown>) : null;
    switch (subjects.kind) {
      case "shell":
        return this.shellCall(subjects, params);
      case "path":
        return this.pathCall(tool, subjects);
      case "url":
        // The URL is a string param like any other: anyParams parses it and checks host, port and route.
        return this.anyParams(call.params);
      default:
        return this.toolCall(tool, params) ?? this.derived(call.derivedPaths) ?? this.anyParams(call.params);
    }
  }

  private shellCall(subjects: Subjects, params: Record<string, unknown> | null): ProtectHit | null {
    const workdir = typeof params?.["workdir"] === "string" ? (params["workdir"] as string) : typeof params?.["cwd"] === "string" ? (params["cwd"] as string) : undefined;
    if (workdir) {
      const inside = this.paths.match(workdir);
      if (inside) return { decision: "deny", what: `runs commands inside ${inside.what}`, matched: workdir };
    }
    let hit: ProtectHit | null = null;
    if (subjects.shell) hit = this.shellLine(subjects.shell, workdir);
    else {
      // Not a command we could parse (e.g. a string params): still never let it name our things.
      for (const p of subjects.parts) hit ??= this.text(p.display, workdir, true);
    }
    if (hit?.decision === "deny") return hit;
    // OpenClaw's process tool types into a running shell: read what it would type as shell.
    for (const key of ["data", "text", "literal"]) {
      const typed = params?.[key];
      if (typeof typed === "string" && typed.trim().length > 0 && this.needle.test(typed)) {
        const h = this.shellLine(analyseShell(typed), workdir);
        if (h?.decision === "deny") return h;
        hit ??= h;
      }
    }
    return hit;
  }

  private shellLine(a: ShellAnalysis, workdir: string | undefined): ProtectHit | null {
    return this.analyse(a, workdir);
  }

  private analyse(a: ShellAnalysis, workdir: string | undefined): ProtectHit | null {
    const interesting = this.needle.test(a.whole) || GLOB.test(a.whole) || a.commands.some((c) => c.levels.some((l) => this.needle.test(l)));
    if (!interesting) return null;
    let ask: ProtectHit | null = null;
    const keep = (h: ProtectHit | null): ProtectHit | null => {
      if (h?.decision === "deny") return h;
      ask ??= h;
      return null;
    };
    for (const c of a.commands) {
      const shown = c.levels[0] ?? "";
      const cli = clawgateVerdict(c.argv) ?? openclawVerdict(c.argv);
      const found = keep(cli ? { ...cli, matched: shown } : null) ?? keep(this.redisCli(c.argv, shown)) ?? keep(this.netTool(c.argv, shown)) ?? keep(this.inlineCode(c, shown));
      if (found) return found;
      for (const level of [...c.levels, ...c.denyOnly]) {
        const h = keep(this.text(level, workdir, true));
        if (h) return h;
      }
    }
    for (const w of a.writes) {
      const p = this.paths.match(w, workdir);
      if (p) return { decision: "deny", what: `writes to ${p.what}`, matched: w };
    }
    // The whole line also holds what commands do not: input redirections (`< clawgate.yaml`, `/dev/tcp/…`).
    return keep(this.text(a.whole, workdir, true)) ?? ask;
  }

  /** Self-protection over free text: each whitespace-separated token; paths only when asked. */
  private text(text: string, workdir: string | undefined, paths: boolean): ProtectHit | null {
    if (!this.needle.test(text) && !(paths && GLOB.test(text))) return null;
    for (const raw of tokensOf(text)) {
      const token = raw.replace(REDIRECT_PREFIX, "");
      if (token.length === 0) continue;
      const h = this.token(token, workdir, paths);
      if (h) return h;
    }
    return null;
  }

  private token(token: string, workdir: string | undefined, paths: boolean): ProtectHit | null {
    const globbed = paths && GLOB.test(token);
    if (!this.needle.test(token) && !globbed) return null;
    const decoded = decode(token);
    if (DECISION_ROUTE.test(decoded)) return { decision: "deny", what: "calls clawgate's decision API", matched: token };
    const urls: string[] = [...(decoded.match(URL_IN_TEXT) ?? [])];
    if (urls.length === 0 && SCHEMELESS.test(decoded)) urls.push(`http://${decoded}`);
    for (const u of urls) {
      const h = this.url(u);
      if (h) return { ...h, matched: token };
    }
    if (this.redisMention?.test(decoded)) return { decision: "deny", what: "connects to clawgate's Redis", matched: token };
    const dev = DEV_NET.exec(decoded);
    if (dev) {
      const [, , host, port] = dev as unknown as [string, string, string, string];
      if (endpointMatches(this.redis, host, Number(port))) return { decision: "deny", what: "connects to clawgate's Redis", matched: token };
      if (endpointMatches(this.service, host, Number(port))) return { decision: "deny", what: "connects to clawgate's approval service", matched: token };
    }
    if (!paths) return null;
    for (const candidate of [token, ...token.split(/[=,]/).slice(1)]) {
      const p = this.paths.match(candidate, workdir);
      if (p) return { decision: "deny", what: `touches ${p.what}`, matched: token };
    }
    return null;
  }

  private url(text: string): Omit<ProtectHit, "matched"> | null {
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      return null;
    }
    const isRedis = u.protocol === "redis:" || u.protocol === "rediss:";
    const e = parseEndpointUrl(isRedis && !u.hostname ? text.replace(/^(rediss?:\/\/)/, "$1127.0.0.1") : text, 0);
    if (!e) return null;
    const port = e.port || (isRedis ? 6379 : 0);
    if (endpointMatches(this.redis, e.host, port)) return { decision: "deny", what: "connects to clawgate's Redis" };
    const path = decode(u.pathname).replace(/\/{2,}/g, "/");
    if (DECISION_ROUTE.test(path)) return { decision: "deny", what: "calls clawgate's decision API" };
    if (CALLBACK_ROUTE.test(path) && endpointMatches(this.service, e.host, port)) return { decision: "deny", what: "calls clawgate's Slack/Discord/email callback route" };
    if (u.protocol === "file:") {
      const p = this.paths.match(decode(u.pathname));
      if (p) return { decision: "deny", what: `reads ${p.what}` };
    }
    return null;
  }

  /** `redis-cli [-h host] [-p port] [-u url] [-s socket] …` against clawgate's Redis. */
  private redisCli(argv: readonly string[], shown: string): ProtectHit | null {
    const head = argv[0];
    if (head === undefined || !REDIS_CLIS.has(posix.basename(head))) return null;
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
    if ([host, port, uri ?? "", socket ?? ""].some(isDynamic)) {
      return { decision: "ask", what: "runs redis-cli against a server only known at run time", matched: shown };
    }
    if (socket !== undefined) {
      const p = this.paths.match(socket);
      return p ? { decision: "deny", what: `connects to ${p.what} with redis-cli`, matched: shown } : null;
    }
    if (uri !== undefined) {
      const e = parseEndpointUrl(uri, 6379);
      if (e && endpointMatches(this.redis, e.host, e.port)) return { decision: "deny", what: "connects to clawgate's Redis with redis-cli", matched: shown };
      return null;
    }
    return endpointMatches(this.redis, host, Number(port)) ? { decision: "deny", what: "connects to clawgate's Redis with redis-cli", matched: shown } : null;
  }

  /** `nc 127.0.0.1 6379`, `telnet localhost 8787`: a raw connection to Redis or the service. */
  private netTool(argv: readonly string[], shown: string): ProtectHit | null {
    const head = argv[0];
    if (head === undefined || !NET_TOOLS.has(posix.basename(head))) return null;
    const words = argv.slice(1);
    const reaches = (sets: readonly EndpointSet[]): boolean =>
      sets.some((s) => words.some((w) => hostMatches(s, w)) && (s.anyPort || words.some((w) => /^\d{1,5}$/.test(w) && s.ports.has(Number(w)))));
    if (reaches(this.redis)) return { decision: "deny", what: `connects to clawgate's Redis with ${posix.basename(head)}`, matched: shown };
    if (reaches(this.service)) return { decision: "deny", what: `connects to clawgate's approval service with ${posix.basename(head)}`, matched: shown };
    return null;
  }

  /** `python3 -c "…socket…6379"`: inline code that names the Redis port next to networking. */
  private inlineCode(c: ShellCommand, shown: string): ProtectHit | null {
    if (c.opaque === undefined || this.redisPorts === null) return null;
    const code = c.argv.slice(1).join(" ");
    if (this.redisPorts.test(code) && NET_HINT.test(code)) return { decision: "deny", what: "runs code that connects to clawgate's Redis", matched: shown };
    if (this.serviceMention?.test(code) && /\/(slack|discord|email|api)\b/i.test(code)) return { decision: "deny", what: "runs code that calls clawgate's approval service", matched: shown };
    return null;
  }

  private pathCall(tool: string, subjects: Subjects): ProtectHit | null {
    const verb = FILE_WRITERS.has(tool) ? "writes to" : tool === "read" ? "reads" : "touches";
    for (const part of subjects.parts) {
      // Normalising a path (levels) never adds a name the display lacks: one test is enough.
      if (part.noContent || (!this.needle.test(part.display) && !GLOB.test(part.display))) continue;
      for (const candidate of [part.display, ...part.levels, ...part.denyOnly]) {
        const p = this.paths.match(candidate);
        if (p) return { decision: "deny", what: `${verb} ${p.what}`, matched: part.display };
      }
    }
    return null;
  }

  /** OpenClaw's own tools that can read its plugin config or switch plugins off. */
  private toolCall(tool: string, params: Record<string, unknown> | null): ProtectHit | null {
    const action = typeof params?.["action"] === "string" ? (params["action"] as string) : "";
    if (tool === "gateway" && /^config\.(get|patch|apply|set|unset)/.test(action)) {
      const path = typeof params?.["path"] === "string" ? (params["path"] as string) : "";
      if (path === "" || /^plugins\b/i.test(path) || /clawgate/i.test(path) || action !== "config.get") {
        return { decision: "deny", what: `${action === "config.get" ? "reads" : "changes"} OpenClaw's plugin configuration`, matched: `${action} ${path}`.trim() };
      }
    }
    if (tool === "plugins") {
      const id = typeof params?.["pluginId"] === "string" ? (params["pluginId"] as string) : "";
      if (["disable", "uninstall", "reload", "remove"].includes(action) && (id === "" || /clawgate/i.test(id))) {
        return { decision: "deny", what: `would ${action} the clawgate plugin`, matched: `${action} ${id}`.trim() };
      }
      if (action === "install" || action === "enable") {
        return { decision: "ask", what: `would ${action} a plugin, which runs inside the gateway and could undo the gate`, matched: `${action} ${id}`.trim() };
      }
    }
    return null;
  }

  private derived(paths: unknown): ProtectHit | null {
    if (!Array.isArray(paths)) return null;
    for (const d of paths) {
      if (typeof d !== "string") continue;
      const p = this.paths.match(d);
      if (p) return { decision: "deny", what: `touches ${p.what}`, matched: d };
    }
    return null;
  }

  /**
   * Any other tool: a param that is one path or one URL (no spaces) must not name our files,
   * Redis or decision routes (`mcp__fetch__fetch { url }`, a plugin's `{ file }`). Prose is left alone.
   */
  private anyParams(params: unknown): ProtectHit | null {
    const found: ProtectHit[] = [];
    someString(params, (s) => {
      if (s.length > 4096 || !this.needle.test(s)) return false;
      const t = s.trim();
      if (t.length === 0 || /\s/.test(t)) return false;
      const h = this.token(t, undefined, true);
      if (h) found.push(h);
      return h?.decision === "deny";
    });
    return found.find((h) => h.decision === "deny") ?? found[0] ?? null;
  }
}
