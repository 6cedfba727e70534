import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { posix } from "node:path";
import { Doorkeeper } from "../base/doorkeeper.ts";

const ENTRIES = 4096;
/**
 * How long an answer is trusted. Symlinks an agent makes are usually made in one call and used
 * in the next; a short life keeps a replaced folder from hiding behind a cached answer while
 * sparing the file system the same lookups within a burst of calls.
 */
const TTL_MS = 1000;
/** How long anything decided from a resolved path may be reused (the engine's decision cache too). */
export const RESOLVED_PATH_TTL_MS = TTL_MS;
const MAX_SEGMENTS = 256;
const MAX_LINKS = 16;
const RECENT = 8;

interface Resolved {
  at: number;
  real: string;
  exists: boolean;
}

/**
 * Where a path really leads, as the kernel would walk it: segment by segment from `/`, each
 * symlink followed, `..` taken from where the walk really is (`/tmp/link/../x` is `x` beside
 * the link's target, not `/tmp/x`), missing segments kept as written.
 *
 * Each step is cached by its resolved parent and name for a second, so a path costs one lstat
 * per segment not seen lately and none below a folder known not to exist.
 */
export class RealPaths {
  /** Entries live a second, so order does not matter: a full map is emptied (cheaper than an LRU's reordering). */
  private readonly cache = new Map<string, Resolved>();
  private readonly seen = new Doorkeeper(16);
  /**
   * The last few paths resolved, cached or not: one call often names a path twice (a
   * redirection's target is checked as written to and as named in the line), and a never-seen
   * path is not in the cache before its second sighting. A ring of fixed size: no garbage.
   */
  private readonly recentPaths: string[] = new Array<string>(RECENT).fill("");
  private readonly recentAnswers: Resolved[] = new Array<Resolved>(RECENT).fill({ at: -Infinity, real: "", exists: false });
  private recentNext = 0;

  constructor(private readonly now: () => number = Date.now) {}

  resolve(path: string): string {
    const t = this.now();
    const known = this.cache.get(path);
    if (known && t - known.at < TTL_MS) return known.real;
    for (let i = 0; i < RECENT; i++) {
      const answer = this.recentAnswers[i] as Resolved;
      if (this.recentPaths[i] === path && t - answer.at < TTL_MS) return answer.real;
    }
    const out = this.walk(path, t, 0);
    this.put(path, out);
    this.recentPaths[this.recentNext] = path;
    this.recentAnswers[this.recentNext] = out;
    this.recentNext = (this.recentNext + 1) % RECENT;
    return out.real;
  }

  private walk(path: string, t: number, links: number): Resolved {
    const segs = path.split("/");
    if (segs.length > MAX_SEGMENTS) return { at: t, real: posix.normalize(path), exists: false };
    let cur: Resolved = { at: t, real: "/", exists: true };
    for (const seg of segs) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") {
        cur = { at: t, real: posix.dirname(cur.real), exists: cur.exists };
        continue;
      }
      const key = cur.real === "/" ? `/${seg}` : `${cur.real}/${seg}`;
      const hit = this.cache.get(key);
      if (hit && t - hit.at < TTL_MS) {
        cur = hit;
        continue;
      }
      const next = cur.exists ? this.step(key, cur.real, t, links) : { at: t, real: key, exists: false };
      this.put(key, next);
      cur = next;
    }
    return cur;
  }

  /** One segment below an existing folder: a file, a folder, a symlink (followed), or nothing. */
  private step(key: string, parent: string, t: number, links: number): Resolved {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(key, { throwIfNoEntry: false });
    } catch {
      // ENOTDIR, EACCES, ELOOP: nothing we can follow from here; the path stays as written.
      return { at: t, real: key, exists: false };
    }
    if (st === undefined) return { at: t, real: key, exists: false };
    if (!st.isSymbolicLink()) return { at: t, real: key, exists: true };
    try {
      return { at: t, real: realpathSync.native(key), exists: true };
    } catch {
      // A dangling link (or a loop): where it points still matters, `ln -s /srv/cg/new x`.
      if (links >= MAX_LINKS) return { at: t, real: key, exists: false };
      try {
        const target = readlinkSync(key);
        return { ...this.walk(target.startsWith("/") ? target : `${parent}/${target}`, t, links + 1), at: t };
      } catch {
        return { at: t, real: key, exists: false };
      }
    }
  }

  private put(key: string, entry: Resolved): void {
    // Cached from a path's second sighting: the one-off paths of never-seen lines would each
    // outlive the young generation in the cache, and every scavenge would copy them.
    if (!this.seen.admit(key)) return;
    if (this.cache.size >= ENTRIES) this.cache.clear();
    this.cache.set(key, entry);
  }
}
