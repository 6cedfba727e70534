/**
 * Which of a fixed set of lower-case ASCII keywords occur in a text, case-insensitively, in
 * one pass over its characters (Aho–Corasick). Redaction's prefilter: a regex alternation of
 * the ~120 rule keywords cost 4–5 µs per KB here, because the engine tries the branches at
 * every position; the automaton costs one table read per character (about 1 µs per KB, the
 * same as a loop that only reads the characters).
 */
export class KeywordSet {
  readonly keywords: readonly string[];
  /** Character code → column; 0 for every character no keyword has (non-ASCII included). */
  private readonly column = new Uint8Array(65536);
  /** (state offset + column) → next state offset, where a state's offset is state × width. */
  private readonly next: Int32Array;
  /** By state offset: 1 when a keyword `any` looks for ends in that state. */
  private readonly hit: Uint8Array;
  /** By state: every keyword that ends there (its own, and those along its fail links). */
  private readonly ends: ReadonlyArray<readonly number[]>;
  private readonly width: number;

  /** `anyOf`: the indices of the keywords `any` answers for (default: all). */
  constructor(keywords: readonly string[], anyOf?: ReadonlySet<number>) {
    this.keywords = keywords;
    let width = 1;
    for (const k of keywords) {
      for (let i = 0; i < k.length; i++) {
        const c = k.charCodeAt(i);
        if (c >= 128 || (c >= 65 && c <= 90)) throw new Error(`keyword ${JSON.stringify(k)} is not lower-case ASCII`);
        if (this.column[c] === 0) this.column[c] = width++;
      }
    }
    if (width > 255) throw new Error("too many distinct keyword characters");
    for (let c = 65; c <= 90; c++) this.column[c] = this.column[c + 32] as number;
    this.width = width;
    // The trie: children by column, per state.
    const children: Array<Map<number, number>> = [new Map()];
    const ends: number[][] = [[]];
    keywords.forEach((k, index) => {
      let s = 0;
      for (let i = 0; i < k.length; i++) {
        const col = this.column[k.charCodeAt(i)] as number;
        let t = (children[s] as Map<number, number>).get(col);
        if (t === undefined) {
          t = children.length;
          children.push(new Map());
          ends.push([]);
          (children[s] as Map<number, number>).set(col, t);
        }
        s = t;
      }
      (ends[s] as number[]).push(index);
    });
    // Breadth first, so a state's fail link (shallower) is complete before it: its row starts
    // as a copy of the fail link's row (one native copy, not a loop over every column), then
    // takes its own edges. Entries are state × width, ready to add a column to.
    const next = new Int32Array(children.length * width);
    const fail = new Int32Array(children.length);
    const queue: number[] = [];
    for (const [col, t] of children[0] as Map<number, number>) {
      next[col] = t * width;
      queue.push(t);
    }
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head] as number;
      const f = fail[s] as number;
      next.copyWithin(s * width, f * width, f * width + width);
      if ((ends[f] as number[]).length > 0) (ends[s] as number[]).push(...(ends[f] as number[]));
      for (const [col, t] of children[s] as Map<number, number>) {
        fail[t] = (next[f * width + col] as number) / width;
        next[s * width + col] = t * width;
        queue.push(t);
      }
    }
    this.next = next;
    this.hit = new Uint8Array(children.length * width);
    ends.forEach((e, s) => {
      if (e.some((k) => anyOf === undefined || anyOf.has(k))) this.hit[s * width] = 1;
    });
    this.ends = ends;
  }

  /** True when any keyword (of `anyOf`) occurs in `text`. */
  any(text: string): boolean {
    const { next, column, hit } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = next[s + (column[text.charCodeAt(i)] as number)] as number;
      if (hit[s] === 1) return true;
    }
    return false;
  }

  /** Appends the index of every keyword occurrence in `text` to `out` (repeats included). */
  occurrences(text: string, out: number[]): void {
    const { next, column, ends, width } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = next[s + (column[text.charCodeAt(i)] as number)] as number;
      const found = ends[s / width] as readonly number[];
      if (found.length > 0) for (const k of found) out.push(k);
    }
  }
}
