import { readdirSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { posix } from "node:path";
import picomatch from "picomatch";
import { Lru } from "../base/lru.ts";
import { pathLiteral } from "../base/path-literal.ts";
import type { ProtectedPath } from "./context.ts";
import { RealPaths } from "./real-paths.ts";

const GLOB = /[*?[]/;
const COMPUTED = /[$`]/;
/** Everything up to the end of the last substitution or variable in a word. */
const COMPUTED_HEAD = /^.*(?:[)}`]|\$[A-Za-z_][A-Za-z0-9_]*|\$[0-9@*#?$!-])/;
/** A word with nothing a path needs resolving for: no folder, home, variable or glob. */
const PLAIN_WORD = /^[^/~$*?[]+$/;
/** `/proc/<pid|self|thread-self>[/task/<tid>]/root|cwd`: the same file system seen through a process. */
const PROC_VIEW = /^\/proc\/(self|thread-self|\d+)(?:\/task\/\d+)?\/(root|cwd)(?=\/|$)/;

function segments(p: string): string[] {
  return p.split("/").filter((s) => s.length > 0 && s !== ".");
}

interface Entry extends ProtectedPath {
  segs: string[];
  base: string;
}

/** How a command uses a path: reading it, or anything else (writing, moving, entering, running). */
export interface PathUse {
  /** Directories relative paths start from (exec's `workdir`/`cwd`, a `cd` earlier in the line). */
  workdirs?: readonly string[];
  /** Writes (or may write): write-only entries count too. */
  write?: boolean;
}

const segmentRes = new Lru<string, RegExp | null>(256);

/** Glob syntax beyond `*`, `?` and `[…]`, whose reading is left to picomatch whole. */
const PICOMATCH_ONLY = /[!(){}+@\\]/;
/** Characters that make the text around them more than literal in a picomatch pattern. */
const GLOB_SYNTAX = /[*?[\]{}()!+@\\]/;

/**
 * The literal text a glob segment starts and ends with (`alpha-` and `.log` in `alpha-*.log`):
 * a name without them cannot match, and most do not, so no regex is built for them.
 */
function literalEnds(pattern: string): { head: string; tail: string } {
  const first = pattern.search(GLOB_SYNTAX);
  let last = pattern.length - 1;
  while (last >= 0 && !GLOB_SYNTAX.test(pattern[last] as string)) last--;
  return { head: first < 0 ? pattern : pattern.slice(0, first), tail: pattern.slice(last + 1) };
}

function segmentMatches(pattern: string, name: string): boolean {
  if (!GLOB.test(pattern)) return pattern === name;
  // Only plain `*`, `?` and `[…]` globs: negations, extglobs, braces and escapes go to picomatch as they are.
  if (!PICOMATCH_ONLY.test(pattern)) {
    const { head, tail } = literalEnds(pattern);
    if (!name.startsWith(head) || !name.endsWith(tail) || name.length < head.length + tail.length) return false;
  }
  let re = segmentRes.get(pattern);
  if (re === undefined) {
    try {
      re = picomatch.makeRe(pattern, { dot: true });
    } catch {
      re = null;
    }
    segmentRes.set(pattern, re);
  }
  return re !== null && re.test(name);
}

/**
 * Decides whether a path an agent names is one of the protected files or inside a protected
 * directory. Paths are resolved, not read as text: `~`, `~user`, `$HOME`, `..`, the working
 * directories the call gives, `/proc/<pid>/root|cwd/…`, and symlinks (realpath of the longest
 * existing prefix, cached briefly). A relative path with no working directory to anchor it
 * counts when it ends like a protected path: with at least two segments (`clawgate/data/x`),
 * or one for a telling name (`clawgate.yaml`, `data/redis.url`).
 */
export class PathGuard {
  private readonly entries: Entry[];
  private readonly home: string;
  private readonly user: string;
  private readonly real: RealPaths;
  private readonly byPath = new Map<string, Entry[]>();
  private lastAnchors: { of: readonly string[]; at: number; dirs: string[] } | null = null;
  /** The first folder of every entry (`/home`, `/srv`), or `/` itself. */
  private readonly tops = new Set<string>();
  /** Every folder or file name in any entry's path. */
  private readonly segmentNames = new Set<string>();
  /** Every protected path's last segment: a path naming none of them cannot match as text. */
  readonly names: string[];

  constructor(paths: readonly ProtectedPath[], home = homedir(), real = new RealPaths()) {
    this.home = home;
    this.real = real;
    let user = "";
    try {
      user = userInfo().username;
    } catch {
      // No passwd entry (some containers): only `~` and `$HOME` name the home directory.
    }
    this.user = user;
    this.entries = paths.map((p) => {
      const segs = segments(p.path);
      return { ...p, segs, base: segs[segs.length - 1] ?? "" };
    });
    this.names = [...new Set(this.entries.map((e) => e.base).filter((b) => b.length > 0))];
    for (const e of this.entries) {
      for (const seg of e.segs) this.segmentNames.add(seg);
      this.tops.add(e.segs.length > 0 ? `/${e.segs[0]}` : "/");
      const list = this.byPath.get(e.path);
      if (list) list.push(e);
      else this.byPath.set(e.path, [e]);
    }
  }

  private expand(raw: string): string {
    let p = raw.trim().replace(/^file:\/\//i, "");
    if (p === "~" || p.startsWith("~/")) p = this.home + p.slice(1);
    else if (/^\$\{?HOME\}?(\/|$)/.test(p)) p = this.home + p.replace(/^\$\{?HOME\}?/, "");
    else if (this.user && (p === `~${this.user}` || p.startsWith(`~${this.user}/`))) p = this.home + p.slice(this.user.length + 1);
    return p;
  }

  /**
   * The absolute paths `raw` may mean (one per working directory), or the relative path
   * itself when nothing anchors it.
   */
  private readings(raw: string, workdirs: readonly string[]): { absolute: string[]; relative: string | null } {
    let p = this.expand(raw);
    let relative: string | null = null;
    for (let hop = 0; hop < 8 && p.includes("proc/"); hop++) {
      const m = PROC_VIEW.exec(posix.normalize(p));
      if (m) p = posix.normalize(p);
      if (!m) break;
      const rest = p.slice(m[0].length);
      if (m[2] === "root") {
        p = rest.length > 0 ? rest : "/";
        continue;
      }
      // …/cwd/x: our own process's cwd is known; a command's own (self) is its working directory.
      if (m[1] === String(process.pid)) p = posix.join(process.cwd(), rest);
      else p = rest.replace(/^\/+/, "") || ".";
      break;
    }
    // Kept as written (not normalised): `..` after a symlink is resolved where the link leads.
    if (p.startsWith("/")) return { absolute: [p], relative };
    relative = p;
    const absolute: string[] = [];
    for (const w of workdirs) {
      const dir = this.expand(w);
      if (dir.startsWith("/")) absolute.push(`${dir}/${p}`);
    }
    return { absolute, relative };
  }

  /** The protected entry `raw` names (the most specific one), or null. */
  match(raw: string, use: PathUse = {}): ProtectedPath | null {
    if (raw.length === 0 || raw.length > 4096) return null;
    const write = use.write === true;
    const workdirs = use.workdirs ?? [];
    if (PLAIN_WORD.test(raw) && raw !== "." && raw !== "..") return this.matchWord(raw, workdirs, write);
    const { absolute, relative } = this.readings(raw, workdirs);
    if (GLOB.test(raw)) {
      for (const a of absolute) {
        const hit = this.matchGlob(posix.normalize(a), write) ?? this.expandGlob(posix.normalize(a), write);
        if (hit) return hit;
      }
      return relative !== null ? this.matchRelativeGlob(relative, write) : null;
    }
    for (const a of absolute) {
      const text = posix.normalize(a);
      const real = this.real.resolve(a);
      const hit = this.matchAbsolute(text, write) ?? (real !== text ? this.matchAbsolute(real, write) : null);
      if (hit) return hit;
    }
    if (relative === null) return null;
    const hit = this.matchRelative(segments(posix.normalize(relative)).filter((s) => s !== ".."), write);
    if (hit || !COMPUTED.test(relative)) return hit;
    // `$(echo /srv/cg)/clawgate.yaml`, `$D/data/redis.url`: what follows the computed part is still a path's tail.
    const tail = relative.replace(COMPUTED_HEAD, "").replace(/^\/+/, "");
    return tail.length > 0 && tail !== relative ? this.matchRelative(segments(posix.normalize(tail)).filter((s) => s !== ".."), write) : null;
  }

  /**
   * One plain word (`cat x`): in a working directory it is that folder's entry (looked up by
   * the folder's real path: no file-system call per word); anywhere else only a protected
   * file's telling name.
   */
  private matchWord(word: string, workdirs: readonly string[], write: boolean): ProtectedPath | null {
    let best: ProtectedPath | null = null;
    for (const d of this.anchors(workdirs)) {
      best ??= this.matchAbsolute(d === "/" ? `/${word}` : `${d}/${word}`, write);
    }
    if (best) return best;
    return this.namesSegment(word) ? this.matchRelative([word], write) : null;
  }

  /**
   * Whether a plain word (no folder, home, variable or glob) is a name in some protected path,
   * or one with suffixes (openclaw.json.bak): a word that is not cannot match without a
   * working directory to anchor it.
   */
  namesSegment(word: string): boolean {
    if (this.segmentNames.has(word)) return true;
    // openclaw.json.bak: the name up to any dot after the first character.
    for (let d = word.indexOf(".", 1); d > 0; d = word.indexOf(".", d + 1)) if (this.segmentNames.has(word.slice(0, d))) return true;
    return false;
  }

  /**
   * The working directories as absolute folders, as written and resolved. Every word of a
   * line shares one list, so the last answer is kept (for as long as a resolved path is).
   */
  private anchors(workdirs: readonly string[]): readonly string[] {
    if (workdirs.length === 0) return workdirs;
    const now = Date.now();
    const last = this.lastAnchors;
    if (last && last.of === workdirs && now - last.at < 1000) return last.dirs;
    const dirs: string[] = [];
    for (const w of workdirs) {
      const dir = this.expand(w);
      if (!dir.startsWith("/")) continue;
      const abs = posix.normalize(dir);
      dirs.push(abs);
      const real = this.real.resolve(abs);
      if (real !== abs) dirs.push(real);
    }
    this.lastAnchors = { of: workdirs, at: now, dirs };
    return dirs;
  }

  /**
   * A protected entry strictly inside the directory `raw` names: what a recursive copy, an
   * archive extracted there, a symlink to it or a move of it reaches (`tar -C ~`, `ln -s /srv/cg x`).
   */
  within(raw: string, use: PathUse = {}): ProtectedPath | null {
    if (raw.length === 0 || GLOB.test(raw)) return null;
    const { absolute } = this.readings(raw, use.workdirs ?? []);
    for (const a of absolute) {
      for (const dir of [posix.normalize(a), this.real.resolve(a)]) {
        const prefix = dir === "/" ? "/" : `${dir.replace(/\/+$/, "")}/`;
        const hit = this.entries.find((e) => (use.write === true || !e.writeOnly) && e.path.startsWith(prefix) && e.path.length > prefix.length);
        if (hit) return hit;
      }
    }
    return null;
  }

  private static better(best: Entry | null, e: Entry): Entry {
    return best === null || e.segs.length > best.segs.length ? e : best;
  }

  /**
   * The path itself, then each folder above it, looked up by exact path: a few map lookups
   * per path whatever the number of entries. A `name.suffix` also looks up `name`.
   */
  private matchAbsolute(p: string, write: boolean): ProtectedPath | null {
    // Every entry lies below one of a few top folders (/home, /srv…): others cannot match.
    const slash = p.indexOf("/", 1);
    if (!this.tops.has(slash < 0 ? p : p.slice(0, slash)) && !this.tops.has("/")) return null;
    let path = p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
    let child = "";
    let best: Entry | null = null;
    for (let depth = 0; depth < 256; depth++) {
      const found = this.byPath.get(path);
      if (found) {
        for (const e of found) {
          if (e.writeOnly && !write) continue;
          if (depth > 0 && !e.dir) continue;
          if (depth > 0 && e.except && e.except.test(child)) continue;
          best = PathGuard.better(best, e);
        }
      }
      if (depth === 0) {
        // openclaw.json.bak, openclaw.json.1.bak: siblings of an entry `withSuffixes`.
        for (let dot = path.indexOf(".", path.lastIndexOf("/") + 2); dot > 0; dot = path.indexOf(".", dot + 1)) {
          for (const e of this.byPath.get(path.slice(0, dot)) ?? []) if (e.withSuffixes && (write || !e.writeOnly)) best = PathGuard.better(best, e);
        }
      }
      const slash = path.lastIndexOf("/");
      if (slash <= 0) {
        if (path !== "/" && path.length > 0) {
          child = path.slice(1);
          path = "/";
          continue;
        }
        break;
      }
      child = path.slice(slash + 1);
      path = path.slice(0, slash);
    }
    return best;
  }

  private matchRelative(segs: string[], write: boolean): ProtectedPath | null {
    // A tail of some entry starts this path, so its first folder is one of theirs.
    if (segs.length === 0 || !this.segmentNames.has(segs[0] as string)) return null;
    let best: Entry | null = null;
    for (const e of this.entries) {
      if (e.writeOnly && !write) continue;
      const max = Math.min(e.segs.length, segs.length);
      for (let k = max; k >= 1; k--) {
        if (k < 2 && !e.distinctive) break;
        const tail = e.segs.slice(e.segs.length - k);
        const head = segs.slice(0, k);
        const last = k - 1;
        const same = head.every((s, i) => s === tail[i]);
        const suffixed = e.withSuffixes && segs.length === k && head.slice(0, last).every((s, i) => s === tail[i]) && (head[last] as string).startsWith(`${tail[last]}.`);
        if (!same && !suffixed) continue;
        if (segs.length > k && e.except && e.except.test(segs[k] as string)) break;
        // `x/clawgate.yaml` names the file; `cg/data/anything` is inside the directory.
        if (segs.length === k || e.dir) {
          best = PathGuard.better(best, e);
          break;
        }
      }
    }
    return best;
  }

  /**
   * An absolute glob names a protected path when some expansion of it is the path or lies
   * inside a protected directory (`sr*` in `/opt/clawgate/sr*` + `/x.ts`, `.open*` before
   * `/openclaw.json`). Its literal leading directories are resolved like any path.
   */
  private matchGlob(glob: string, write: boolean): ProtectedPath | null {
    const segs = segments(glob);
    const firstGlob = segs.findIndex((s) => GLOB.test(s));
    const lead = `/${segs.slice(0, Math.max(firstGlob, 0)).join("/")}`;
    const resolved = segments(this.real.resolve(lead));
    const candidates = [segs, [...resolved, ...segs.slice(Math.max(firstGlob, 0))]];
    let best: Entry | null = null;
    for (const g of candidates) {
      for (const e of this.entries) {
        if (e.writeOnly && !write) continue;
        if (globReaches(g, 0, e, 0)) best = PathGuard.better(best, e);
      }
    }
    return best;
  }

  /**
   * A glob whose expansion passes through a symlink (`/tmp/li*` + `/clawgate.yaml`, where
   * /tmp/link leads to clawgate's folder) is expanded one folder level, as the shell would,
   * and each match resolved. Only when a later segment names a protected file or folder:
   * `src/*.ts` costs no directory listing.
   */
  private expandGlob(glob: string, write: boolean, depth = 0): ProtectedPath | null {
    const segs = segments(glob);
    const at = segs.findIndex((x) => GLOB.test(x));
    if (at < 0 || depth > 1 || !segs.slice(at + 1).some((x) => this.segmentNames.has(x))) return null;
    const lead = `/${segs.slice(0, at).join("/")}`;
    let names: string[];
    try {
      names = readdirSync(lead);
    } catch {
      return null;
    }
    const pattern = segs[at] as string;
    const rest = segs.slice(at + 1).join("/");
    let tried = 0;
    for (const name of names) {
      if (!segmentMatches(pattern, name) || ++tried > 64) continue;
      const path = posix.join(lead, name, rest);
      const hit = GLOB.test(rest) ? (this.matchGlob(path, write) ?? this.expandGlob(path, write, depth + 1)) : this.match(path, { write });
      if (hit) return hit;
    }
    return null;
  }

  /**
   * A relative glob cannot be anchored: it counts when it matches a protected path's tail and
   * its literal part carries most of the protected name: `clawgate.y*ml` and `data/redis.*`
   * count, `*.yaml` and `data/*` do not.
   */
  private matchRelativeGlob(glob: string, write: boolean): ProtectedPath | null {
    const literal = pathLiteral(glob.split("/").pop() ?? "");
    if (literal.length < 4 || !this.names.some((n) => n.includes(literal))) return null;
    let re: RegExp;
    try {
      re = picomatch.makeRe(glob, { dot: true });
    } catch {
      return null;
    }
    const globSegs = glob.split("/").filter((s) => s.length > 0).length;
    let best: Entry | null = null;
    for (const e of this.entries) {
      if ((e.writeOnly && !write) || literal.length * 2 < e.base.length) continue;
      if (globSegs < 2 && !e.distinctive) continue;
      const tail = e.segs.slice(Math.max(0, e.segs.length - globSegs)).join("/");
      if (re.test(tail)) best = PathGuard.better(best, e);
    }
    return best;
  }
}

/** Some expansion of glob segments `g[gi…]` is entry `e` itself or (for a directory) inside it. */
function globReaches(g: readonly string[], gi: number, e: Entry, ei: number): boolean {
  if (gi === g.length) return ei === e.segs.length;
  if (ei === e.segs.length) return e.dir && !(e.except && segmentMatchesAnyExcept(g[gi] as string, e.except));
  const pattern = g[gi] as string;
  if (pattern === "**") return e.dir || globReaches(g, gi + 1, e, ei) || globReaches(g, gi, e, ei + 1);
  const name = e.segs[ei] as string;
  const last = gi === g.length - 1 && ei === e.segs.length - 1;
  const hit = segmentMatches(pattern, name) || (last && e.withSuffixes === true && segmentMatches(pattern, `${name}.bak`));
  return hit && globReaches(g, gi + 1, e, ei + 1);
}

/** A glob segment under an excepted child (`workspace*`) only reaches excepted children when its literal text says so. */
function segmentMatchesAnyExcept(pattern: string, except: RegExp): boolean {
  return !GLOB.test(pattern) && except.test(pattern);
}
