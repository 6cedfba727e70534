import { channelCallbacks } from "../../../bots/specs.ts";
import { someString } from "../base/params-limits.ts";
import { analyseShell } from "../shell/analyse.ts";
import { typedInput } from "../base/typed-input.ts";
import { clawgateInText } from "./cli.ts";
import type { Subjects } from "../call/subjects.ts";
import type { ToolCall } from "../call/tool-call.ts";
import { LocalHosts } from "./address.ts";
import type { SelfProtectionContext } from "./context.ts";
import type { ProtectHit } from "./hit.ts";
import { Endpoints, parseEndpointUrl } from "./endpoints.ts";
import { PathGuard } from "./paths.ts";
import type { PathUse } from "./paths.ts";
import { judgeShellLine } from "./shell-check.ts";

/** The rule name decisions made by self-protection carry. */
export const SELF_PROTECTION_RULE = "builtin:self-protection";

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
/** Decision routes are clawgate's own paths: whatever host a call names, it means clawgate. */
const DECISION_ROUTE = /\/api\/v\d+\/approvals\/[^/\s?#"']+\/+decision\b|\/api\/v\d+\/tokens\b/i;
/** Callback routes (each channel's, bots/spec.ts `callbacks`) are generic names: they count only on the service's own host and port. */
const CALLBACK_ROUTE = new RegExp(`^\\/+(${channelCallbacks().map((p) => p.replace(/^\/+/, "").split("/").map(escapeRe).join("\\/+")).join("|")})\\b`, "i");
/** The first segment of every callback path ("slack", "discord", "email"): words that hint at a call to clawgate. */
const CALLBACK_HEADS = [...new Set(channelCallbacks().map((p) => p.replace(/^\/+/, "").split("/")[0] as string))];
const URL_IN_TEXT = /[a-z][a-z0-9+.-]{1,20}:\/\/[^\s'"<>`]+/gi;
/** `host:port/path` as curl and wget accept it, without a scheme. */
const SCHEMELESS = /^[a-z0-9.[\]:%-]+:\d{1,5}(\/|$)/i;
const DEV_NET = /\/dev\/(tcp|udp)\/([^/\s'"]+)\/(\d{1,5})/i;
const REMAP = /^(?:--(?:resolve|connect-to)=)?([^:\s]*):(\d{0,5}):\[?([^\]\s]+?)\]?(?::(\d{1,5}))?$/;
const FILE_WRITERS = new Set(["write", "edit", "apply_patch"]);
/** Where OpenClaw's file-writing tools carry the text they write. */
const CONTENT_KEYS = ["content", "new_string", "newText", "new_str", "input", "patch"];


function decode(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The built-in self-protection rules, compiled from a SelfProtectionContext. Checked before
 * any user rule; in memory like the rest of the engine, except that paths are resolved
 * (realpath, cached briefly) so a symlink cannot rename a protected file.
 */
export class Protector {
  readonly paths: PathGuard;
  readonly redis: Endpoints;
  readonly service: Endpoints;
  readonly local: LocalHosts;
  /** Text that could name clawgate, its Redis or its service contains one of these. */
  readonly needle: RegExp;

  constructor(ctx: SelfProtectionContext) {
    this.paths = new PathGuard(ctx.paths, ctx.home);
    this.local = new LocalHosts(ctx.local);
    this.redis = new Endpoints(ctx.redis, this.local);
    this.service = new Endpoints(ctx.service, this.local);
    const literals = new Set<string>(["clawgate", "openclaw", "redis", "valkey", "keydb", "/dev/tcp", "/dev/udp", "/api/", "cli/main", ...CALLBACK_HEADS, "%2f", "ap_", ...this.paths.names]);
    for (const e of [...ctx.redis, ...ctx.service]) {
      if (e.port > 0) literals.add(String(e.port));
      literals.add(e.host.toLowerCase());
    }
    this.needle = new RegExp([...literals].filter((l) => l.length > 0).map(escapeRe).join("|"), "i");
  }

  /** A hit when the call would decide approvals or loosen the gate; null otherwise. */
  check(call: ToolCall, tool: string, subjects: Subjects): ProtectHit | null {
    const params = call.params !== null && typeof call.params === "object" && !Array.isArray(call.params) ? (call.params as Record<string, unknown>) : null;
    // The process tool types into a shell even where `policy.shellTools` leaves it out.
    if (subjects.kind !== "shell" && tool === "process" && params) {
      const typed = typedInput(params);
      if (typed) return judgeShellLine(this, analyseShell(typed.text), []);
    }
    switch (subjects.kind) {
      case "shell":
        return this.shellCall(subjects, params);
      case "path":
        return this.pathCall(tool, subjects, params);
      case "url":
        // The URL is a string param like any other: anyParams parses it and checks host, port and route.
        return this.anyParams(call.params);
      default:
        return this.toolCall(tool, params) ?? this.derived(call.derivedPaths) ?? this.anyParams(call.params);
    }
  }

  private shellCall(subjects: Subjects, params: Record<string, unknown> | null): ProtectHit | null {
    // OpenClaw's exec takes `workdir`; other shell tools (and older versions) `cwd`. Both count.
    const workdirs: string[] = [];
    for (const key of ["workdir", "cwd"]) {
      const dir = params?.[key];
      if (typeof dir !== "string" || dir.trim().length === 0) continue;
      workdirs.push(dir);
      // Running there reads it; writes there are seen through the folder anchoring them.
      const inside = this.paths.match(dir);
      if (inside) return { decision: "deny", what: `runs commands inside ${inside.what}`, matched: dir };
    }
    if (subjects.shell) return judgeShellLine(this, subjects.shell, workdirs);
    // Not a command we could parse (e.g. a string params): still never let it name our things.
    let hit: ProtectHit | null = null;
    for (const p of subjects.parts) {
      const h = this.text(p.display, { workdirs, write: true });
      if (h?.decision === "deny") return h;
      hit ??= h;
    }
    return hit;
  }

  /** Self-protection over free text: each whitespace-separated token. */
  text(text: string, use: PathUse): ProtectHit | null {
    for (const raw of text.split(/\s+/)) {
      const token = raw.replace(/^(\d*(<<<|<<-?|<>|>>|>\||>&|<&|&>>|&>|>|<)|@)/, "");
      if (token.length === 0) continue;
      const h = this.token(token, use);
      if (h) return h;
    }
    return null;
  }

  /** One word: a URL, a host:port, `/dev/tcp/…`, or a path (`--config=…` and `a,b` lists split). */
  token(token: string, use: PathUse | null): ProtectHit | null {
    if (this.needle.test(token)) {
      const decoded = decode(token);
      if (DECISION_ROUTE.test(decoded)) return { decision: "deny", what: "calls clawgate's decision API", matched: token };
      const urls: string[] = [...(decoded.match(URL_IN_TEXT) ?? [])];
      if (urls.length === 0 && SCHEMELESS.test(decoded)) urls.push(`http://${decoded}`);
      // httpie's `:8787/path` is localhost.
      else if (urls.length === 0 && /^:\d{1,5}(\/|$)/.test(decoded)) urls.push(`http://localhost${decoded}`);
      for (const u of urls) {
        const h = this.url(u);
        if (h) return { ...h, matched: token };
      }
      if (this.redis.mentionedIn(decoded)) return { decision: "deny", what: "connects to clawgate's Redis", matched: token };
      // curl's `--resolve name:port:addr` / `--connect-to name:port:addr:port` send a name's requests elsewhere.
      const remap = REMAP.exec(decoded);
      if (remap && this.service.matches(remap[3] as string, Number(remap[4] ?? remap[2]))) return { decision: "deny", what: "points a name at clawgate's approval service", matched: token };
      const dev = DEV_NET.exec(decoded);
      if (dev) {
        const [, , host, port] = dev as unknown as [string, string, string, string];
        if (/[$`]/.test(host) && (this.redis.mentionsPort(port) || this.service.mentionsPort(port))) {
          return { decision: "ask", what: "connects to a host only known at run time on clawgate's Redis or service port", matched: token };
        }
        if (this.redis.matches(host, Number(port))) return { decision: "deny", what: "connects to clawgate's Redis", matched: token };
        if (this.service.matches(host, Number(port))) return { decision: "deny", what: "connects to clawgate's approval service", matched: token };
      }
    }
    if (use === null) return null;
    return this.pathToken(token, use);
  }

  /** The token as a path, and each piece of `--opt=path`, `a,b`, `host:path`. */
  pathToken(token: string, use: PathUse): ProtectHit | null {
    const pieces = /[=,:]/.test(token) ? [token, ...token.split(/[=,:]/).slice(1)] : [token];
    for (const piece of pieces) {
      // curl's `-d @file`, `-F x=@file`, `--data-binary <file`: the file's contents are sent.
      const candidate = piece.length > 1 && (piece.startsWith("@") || piece.startsWith("<")) ? piece.slice(1) : piece;
      const p = this.paths.match(candidate, use);
      if (p) return { decision: "deny", what: `${use.write ? "touches" : "reads"} ${p.what}`, matched: token };
    }
    return null;
  }

  url(text: string): Omit<ProtectHit, "matched"> | null {
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
    if (this.redis.matches(e.host, port)) return { decision: "deny", what: "connects to clawgate's Redis" };
    const path = decode(u.pathname).replace(/\/{2,}/g, "/");
    if (DECISION_ROUTE.test(path)) return { decision: "deny", what: "calls clawgate's decision API" };
    if (CALLBACK_ROUTE.test(path) && this.service.matches(e.host, port)) return { decision: "deny", what: "calls a callback route of clawgate's channels" };
    if (u.protocol === "file:") {
      const p = this.paths.match(decode(u.pathname));
      if (p) return { decision: "deny", what: `reads ${p.what}` };
    }
    return null;
  }

  private pathCall(tool: string, subjects: Subjects, params: Record<string, unknown> | null): ProtectHit | null {
    const write = tool !== "read";
    const verb = FILE_WRITERS.has(tool) ? "writes to" : tool === "read" ? "reads" : "touches";
    for (const part of subjects.parts) {
      if (part.noContent) continue;
      for (const candidate of [part.display, ...part.levels, ...part.denyOnly]) {
        const p = this.paths.match(candidate, { write });
        if (p) return { decision: "deny", what: `${verb} ${p.what}`, matched: part.display };
      }
    }
    return FILE_WRITERS.has(tool) ? this.writtenContent(params) : null;
  }

  /**
   * A file written with a deciding clawgate command in it (a script, a Makefile, package.json
   * scripts) runs it later, unseen: that needs approval. Docs that merely mention one are
   * approved by a person like anything else.
   */
  private writtenContent(params: Record<string, unknown> | null): ProtectHit | null {
    for (const key of CONTENT_KEYS) {
      const text = params?.[key];
      if (typeof text !== "string" || text.length > 1_000_000) continue;
      const v = clawgateInText(text, false);
      if (v?.decision === "deny") return { decision: "ask", what: `writes a file that ${v.what.replace(/^runs /, "would run ")}`, matched: text.length > 200 ? `${text.slice(0, 200)}…` : text };
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
      const p = this.paths.match(d, { write: true });
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
      if (s.length > 4096) return false;
      const t = s.trim();
      if (t.length === 0 || /\s/.test(t)) return false;
      // Only what looks like a path or names ours is resolved: most params are neither.
      if (!this.needle.test(t) && !/^(\/|~|\$\{?HOME\b|file:)/i.test(t)) return false;
      const h = this.token(t, { write: true });
      if (h) found.push(h);
      return h?.decision === "deny";
    });
    return found.find((h) => h.decision === "deny") ?? found[0] ?? null;
  }
}
