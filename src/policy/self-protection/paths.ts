import { homedir } from "node:os";
import { posix } from "node:path";
import picomatch from "picomatch";
import { pathLiteral } from "../matcher.ts";
import type { ProtectedPath } from "./context.ts";

const GLOB = /[*?[]/;

function segments(p: string): string[] {
  return p.split("/").filter((s) => s.length > 0 && s !== ".");
}

interface Entry extends ProtectedPath {
  segs: string[];
  base: string;
}

/**
 * Decides whether a path an agent names (as written: relative, `~/…`, `$HOME/…`, a glob)
 * is one of the protected files or inside a protected directory. The agent's working
 * directory is unknown, so a relative path counts when it ends like a protected path: with at
 * least two segments (`clawgate/data/x`), or one for a telling name (`clawgate.yaml`, `data/redis.url`).
 */
export class PathGuard {
  private readonly entries: Entry[];
  private readonly home: string;
  /** Every protected path's last segment: a path naming none of them cannot match. */
  readonly names: string[];

  constructor(paths: readonly ProtectedPath[], home = homedir()) {
    this.home = home;
    this.entries = paths.map((p) => {
      const segs = segments(p.path);
      return { ...p, segs, base: segs[segs.length - 1] ?? "" };
    });
    this.names = [...new Set(this.entries.map((e) => e.base).filter((b) => b.length > 0))];
  }

  private expand(raw: string): string {
    let p = raw.trim().replace(/^file:\/\//i, "");
    if (p === "~" || p.startsWith("~/")) p = this.home + p.slice(1);
    else if (/^\$\{?HOME\}?(\/|$)/.test(p)) p = this.home + p.replace(/^\$\{?HOME\}?/, "");
    return p;
  }

  /** The protected entry `raw` names (the most specific one), or null. */
  match(raw: string, workdir?: string): ProtectedPath | null {
    const p = this.expand(raw);
    if (p.length === 0) return null;
    if (GLOB.test(p)) return this.matchGlob(p);
    if (p.startsWith("/")) return this.matchAbsolute(posix.normalize(p));
    if (workdir && workdir.startsWith("/")) {
      const hit = this.matchAbsolute(posix.normalize(posix.join(this.expand(workdir), p)));
      if (hit) return hit;
    }
    return this.matchRelative(segments(posix.normalize(p)).filter((s) => s !== ".."));
  }

  private static better(best: Entry | null, e: Entry): Entry {
    return best === null || e.segs.length > best.segs.length ? e : best;
  }

  private matchAbsolute(p: string): ProtectedPath | null {
    const path = p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
    let best: Entry | null = null;
    for (const e of this.entries) {
      if (path === e.path || (e.dir && path.startsWith(`${e.path}/`)) || (e.withSuffixes && path.startsWith(`${e.path}.`))) best = PathGuard.better(best, e);
    }
    return best;
  }

  private matchRelative(segs: string[]): ProtectedPath | null {
    if (segs.length === 0) return null;
    let best: Entry | null = null;
    for (const e of this.entries) {
      const max = Math.min(e.segs.length, segs.length);
      for (let k = max; k >= 1; k--) {
        if (k < 2 && !e.distinctive) break;
        const tail = e.segs.slice(e.segs.length - k);
        const head = segs.slice(0, k);
        const last = k - 1;
        const same = head.every((s, i) => s === tail[i]);
        const suffixed = e.withSuffixes && segs.length === k && head.slice(0, last).every((s, i) => s === tail[i]) && (head[last] as string).startsWith(`${tail[last]}.`);
        if (!same && !suffixed) continue;
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
   * A glob names a protected path when it matches it (absolute globs), or when it matches its
   * tail and its literal part carries most of the protected name: `clawgate.y*ml` and
   * `data/redis.*` count, `*.yaml` and `data/*` do not.
   */
  private matchGlob(glob: string): ProtectedPath | null {
    let re: RegExp;
    try {
      re = picomatch.makeRe(glob, { dot: true });
    } catch {
      return null;
    }
    let best: Entry | null = null;
    if (glob.startsWith("/")) {
      for (const e of this.entries) if (re.test(e.path)) best = PathGuard.better(best, e);
      return best;
    }
    const lastSegment = glob.split("/").pop() ?? "";
    const literal = pathLiteral(lastSegment);
    if (literal.length < 4) return null;
    const globSegs = glob.split("/").filter((s) => s.length > 0).length;
    for (const e of this.entries) {
      if (literal.length * 2 < e.base.length) continue;
      if (globSegs < 2 && !e.distinctive) continue;
      const tail = e.segs.slice(Math.max(0, e.segs.length - globSegs)).join("/");
      if (re.test(tail)) best = PathGuard.better(best, e);
    }
    return best;
  }
}
