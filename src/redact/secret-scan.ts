/**
 * Runs both rule sets over a text: which rules its keywords call for, their ranges, and the
 * preset's ranges reconciled with clawgate's. Built on first use (the automaton and the
 * preset's rules cost a few milliseconds), so a CLI command that redacts nothing does not
 * pay for them.
 */
import { KeywordSet } from "./keywords.ts";
import { CLAWGATE_RULES, REACH, type SecretRule } from "./secret-rules.ts";
import { type Gate, secretlintRules } from "./secretlint.ts";

interface Detector {
  readonly id: string;
  /** Lower-case literals, one of which must occur; null: no such literal. */
  readonly keywords: readonly string[] | null;
  /** A pattern that must occur too; null: none. A rule with neither runs on every text. */
  readonly hint: RegExp | null;
  /**
   * Exact: the rule's ranges are the secret. Not exact (secretlint): a range may be wider
   * than the secret (a whole URL) or, as secretlint-rule-aws reports, start at the key's name
   * and stop short of its end — so it is widened to whole tokens, and gives way to exact
   * ranges inside it (`https://bob:[REDACTED]@host`, not `[REDACTED]`).
   */
  readonly exact: boolean;
  scan(text: string, out: number[]): void;
}

/** Appends the secret ranges of every match of `re` in text[from, to) to `out`. */
function matchesIn(re: RegExp, text: string, from: number, to: number, out: number[]): void {
  const part = from === 0 && to === text.length ? text : text.slice(from, to);
  re.lastIndex = 0;
  for (let m = re.exec(part); m !== null; m = re.exec(part)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const groups = m.indices?.groups;
    let found = false;
    if (groups) {
      for (const name in groups) {
        const at = groups[name];
        if (name.charCodeAt(0) === 115 /* s */ && at !== undefined) {
          out.push(from + at[0], from + at[1]);
          found = true;
        }
      }
    }
    if (!found) out.push(from + m.index, from + m.index + m[0].length);
  }
}

const endsCommand = (c: number): boolean => c === 10 || c === 59 || c === 38 || c === 124; // \n ; & |

/** The first newline, `;`, `&` or `|` in text[from, limit), else limit (or the text's end). */
function commandEnd(text: string, from: number, limit: number): number {
  const stop = Math.min(text.length, limit);
  for (let i = from; i < stop; i++) if (endsCommand(text.charCodeAt(i))) return i;
  return stop;
}

function scanRule(rule: SecretRule): (text: string, out: number[]) => void {
  const { re, after } = rule;
  if (!after) return (text, out) => matchesIn(re, text, 0, text.length, out);
  return (text, out) => {
    // Commands that overlap (a program named twice) are one stretch, each character read once.
    let start = -1;
    let end = -1;
    after.lastIndex = 0;
    for (let m = after.exec(text); m !== null; m = after.exec(text)) {
      const from = m.index + m[0].length;
      if (from <= end) {
        if (end < text.length && endsCommand(text.charCodeAt(end))) continue;
        end = commandEnd(text, end, from + REACH);
        continue;
      }
      if (start >= 0) matchesIn(re, text, start, end, out);
      start = from;
      end = commandEnd(text, from, from + REACH);
    }
    if (start >= 0) matchesIn(re, text, start, end, out);
  };
}

const fromGate = (gate: Gate | null): Pick<Detector, "keywords" | "hint"> => ({
  keywords: gate?.keywords ?? null,
  hint: gate?.hint === undefined ? null : new RegExp(gate.hint, "i"),
});

/** A character that ends a token, up to which a preset's range is widened. */
function endsToken(c: number): boolean {
  // whitespace, " ' ` ( ) [ ] { } < > , ; | &
  return c <= 32 || c === 34 || c === 39 || c === 96 || c === 40 || c === 41 || c === 91 || c === 93 || c === 123 || c === 125 || c === 60 || c === 62 || c === 44 || c === 59 || c === 124 || c === 38;
}

export class SecretScanner {
  private readonly detectors: readonly Detector[];
  /** Every keyword; `any` answers for those of rules without a hint (the prefilter's part). */
  private readonly keywords: KeywordSet;
  /** By keyword index: the detectors that need it. */
  private readonly neededBy: readonly number[][];
  private readonly unkeyed: readonly number[];
  private readonly hints: RegExp;
  /** Reused by every call (no call allocates a table): what it has seen, by generation. */
  private generation = 0;
  private readonly keywordSeen: Uint32Array;
  private readonly detectorQueued: Uint32Array;
  private readonly found: number[] = [];
  private readonly queue: number[] = [];

  constructor() {
    this.detectors = [
      ...CLAWGATE_RULES.map((r): Detector => ({ id: r.id, ...fromGate(r), exact: true, scan: scanRule(r) })),
      ...secretlintRules().map((r): Detector => ({ id: r.id, ...fromGate(r.gate), exact: false, scan: (t, out) => r.scan(t, out) })),
    ];
    const index = new Map<string, number>();
    const neededBy: number[][] = [];
    const prefilter = new Set<number>();
    this.detectors.forEach((d, i) => {
      for (const k of d.keywords ?? []) {
        let n = index.get(k);
        if (n === undefined) {
          index.set(k, (n = index.size));
          neededBy.push([]);
        }
        (neededBy[n] as number[]).push(i);
        if (d.hint === null) prefilter.add(n);
      }
    });
    this.keywords = new KeywordSet([...index.keys()], prefilter);
    this.neededBy = neededBy;
    this.unkeyed = this.detectors.flatMap((d, i) => (d.keywords === null ? [i] : []));
    const hints = [...new Set(this.detectors.flatMap((d) => (d.hint === null ? [] : [d.hint.source])))];
    this.hints = this.detectors.some((d) => d.keywords === null && d.hint === null) ? /(?:)/ : new RegExp(hints.join("|"), "i");
    this.keywordSeen = new Uint32Array(index.size);
    this.detectorQueued = new Uint32Array(this.detectors.length);
  }

  /**
   * The prefilter: does `value` contain what every match of some rule contains — its hint
   * if it has one (rules whose keywords are common words: `@`, `-u`), else one of its
   * keywords. Almost every text does not, and skips the scan. Neither test looks at
   * anything around what it finds (no anchors, \b or look-arounds in hints), so a substring
   * of a rejected text is rejected too (redact.ts remembers rejected texts on that basis).
   * The hints are one pattern, not one per rule: on lines of ~100 characters the cost of a
   * call is most of the cost.
   */
  needsALook(value: string): boolean {
    return this.keywords.any(value) || this.hints.test(value);
  }

  /** [start, end) pairs of everything secret in `value`, sorted and merged; empty when none. */
  ranges(value: string): number[] {
    if (++this.generation === 0xffffffff) {
      this.generation = 1;
      this.keywordSeen.fill(0);
      this.detectorQueued.fill(0);
    }
    const g = this.generation;
    const { found, queue } = this;
    found.length = 0;
    queue.length = 0;
    queue.push(...this.unkeyed);
    this.keywords.occurrences(value, found);
    for (const k of found) {
      if (this.keywordSeen[k] === g) continue;
      this.keywordSeen[k] = g;
      for (const i of this.neededBy[k] as number[]) {
        if (this.detectorQueued[i] === g) continue;
        this.detectorQueued[i] = g;
        queue.push(i);
      }
    }
    const exact: number[] = [];
    const loose: number[] = [];
    for (const i of queue) {
      const d = this.detectors[i] as Detector;
      if (d.hint !== null && !d.hint.test(value)) continue;
      d.scan(value, d.exact ? exact : loose);
    }
    return loose.length === 0 ? merge(exact) : merge(exact.concat(reconcile(value, exact, loose)));
  }

  /** Ids of the rules that, each on its own and ungated, find something in `value`. */
  ruleIds(value: string): string[] {
    return this.detectors.filter((d) => {
      const out: number[] = [];
      d.scan(value, out);
      return out.length > 0;
    }).map((d) => d.id);
  }
}

/** The preset's ranges, widened to whole tokens, less those an exact range lies inside. */
function reconcile(value: string, exact: readonly number[], loose: readonly number[]): number[] {
  const kept: number[] = [];
  for (let i = 0; i < loose.length; i += 2) {
    let s = loose[i] as number;
    let e = loose[i + 1] as number;
    // Back to the start of the value (not past `=` or `:`), on to the end of its token
    // (`=` included: base64 padding).
    while (s > 0 && !endsToken(value.charCodeAt(s - 1)) && value[s - 1] !== "=" && value[s - 1] !== ":") s--;
    while (e < value.length && !endsToken(value.charCodeAt(e))) e++;
    let covered = false;
    for (let j = 0; j < exact.length && !covered; j += 2) covered = (exact[j] as number) >= s && (exact[j + 1] as number) <= e;
    if (!covered) kept.push(s, e);
  }
  return kept;
}

/** Pairs sorted by start, overlapping and touching ones joined. */
function merge(pairs: readonly number[]): number[] {
  if (pairs.length === 0) return [];
  const order = Array.from({ length: pairs.length / 2 }, (_, i) => i).sort((a, b) => (pairs[2 * a] as number) - (pairs[2 * b] as number));
  const merged: number[] = [];
  for (const i of order) {
    const s = pairs[2 * i] as number;
    const e = pairs[2 * i + 1] as number;
    if (merged.length > 0 && s <= (merged[merged.length - 1] as number)) merged[merged.length - 1] = Math.max(merged[merged.length - 1] as number, e);
    else merged.push(s, e);
  }
  return merged;
}

let scanner: SecretScanner | null = null;

export function secretScanner(): SecretScanner {
  scanner ??= new SecretScanner();
  return scanner;
}
