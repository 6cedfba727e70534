import { lstatSync, realpathSync } from "node:fs";
import { posix } from "node:path";

const ENTRIES = 2048;
/**
 * How long a resolved path is trusted. Symlinks an agent makes are usually made in one call and
 * used in the next; a short life keeps a replaced directory from hiding behind a cached answer
 * while still sparing the file system the same lookups within a burst of calls.
 */
const TTL_MS = 1000;
const MAX_HOPS = 64;

/**
 * Where a path really leads: the realpath of its longest existing prefix, with the rest
 * appended (`/tmp/link/clawgate.yaml` → `/srv/cg/clawgate.yaml` when /tmp/link is a symlink).
 * One realpath(3) costs about a microsecond (five when the path does not exist); results are
 * cached per process for a second.
 */
export class RealPaths {
  /** Entries live a second, so order does not matter: a full map is simply emptied (cheaper than an LRU's reordering on every hit). */
  private readonly cache = new Map<string, { at: number; real: string }>();

  constructor(private readonly now: () => number = Date.now) {}

  resolve(path: string): string {
    const t = this.now();
    const hit = this.cache.get(path);
    if (hit && t - hit.at < TTL_MS) return hit.real;
    // Find the longest existing prefix with lstat (a missing path makes realpath throw, which
    // costs five times as much), then resolve that prefix once.
    let head = path;
    let tail = "";
    for (let hop = 0; hop < MAX_HOPS && head !== "/"; hop++) {
      const cached = hop > 0 ? this.cache.get(head) : undefined;
      if (cached && t - cached.at < TTL_MS) return this.remember(path, cached.real + tail, t);
      if (lstatSync(head, { throwIfNoEntry: false }) !== undefined) break;
      tail = `/${posix.basename(head)}${tail}`;
      head = posix.dirname(head);
    }
    let real: string;
    try {
      real = realpathSync.native(head);
    } catch {
      // A dangling symlink or a folder we may not read: keep the path as written.
      real = head;
    }
    if (tail.length > 0) this.put(head, { at: t, real });
    return this.remember(path, (real === "/" ? "" : real) + tail || "/", t);
  }

  private remember(path: string, real: string, at: number): string {
    const out = real.replace(/\/{2,}/g, "/");
    this.put(path, { at, real: out });
    return out;
  }

  private put(path: string, entry: { at: number; real: string }): void {
    if (this.cache.size >= ENTRIES) this.cache.clear();
    this.cache.set(path, entry);
  }
}
