import { describe, expect, it } from "vitest";
import { rng } from "../../bench/corpus.ts";
import { KeywordSet } from "../../src/redact/keywords.ts";

/** What KeywordSet must answer, the slow way. */
function naive(keywords: readonly string[], text: string): number[] {
  const lower = text.toLowerCase();
  return keywords.flatMap((k, i) => (lower.includes(k) ? [i] : []));
}

function found(set: KeywordSet, text: string): number[] {
  const out: number[] = [];
  set.occurrences(text, out);
  return [...new Set(out)].sort((a, b) => a - b);
}

describe("KeywordSet", () => {
  it("finds overlapping, nested and repeated keywords, in any case", () => {
    const set = new KeywordSet(["he", "she", "his", "hers", "sk-", "sk-ant-api0", "key", "_key"]);
    expect(found(set, "USHERS")).toEqual([0, 1, 3]);
    expect(found(set, "x SK-ANT-API03-abc")).toEqual([4, 5]);
    expect(found(set, "API_KEY=1")).toEqual([6, 7]);
    expect(set.any("nothing to see")).toBe(false);
    expect(set.any("ok, She said")).toBe(true);
  });

  it("non-ASCII text neither matches nor breaks a keyword in progress", () => {
    const set = new KeywordSet(["token"]);
    expect(set.any("tøken tokén")).toBe(false);
    expect(set.any("é token")).toBe(true);
    // U+212A KELVIN SIGN upper-cases like K but is not "k".
    expect(new KeywordSet(["key"]).any("\u212Aey")).toBe(false);
  });

  it("agrees with a plain substring search on 3,000 random texts", () => {
    const r = rng(7);
    const alphabet = "abcdeks_-.:@ \u00e9ABK";
    const word = (n: number): string => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join("").toLowerCase().replace(/\u00e9/g, "e");
    for (let round = 0; round < 30; round++) {
      const keywords = [...new Set(Array.from({ length: 1 + Math.floor(r() * 12) }, () => word(1 + Math.floor(r() * 4))))];
      const set = new KeywordSet(keywords);
      for (let i = 0; i < 100; i++) {
        const text = Array.from({ length: Math.floor(r() * 40) }, () => alphabet[Math.floor(r() * alphabet.length)]).join("");
        const want = naive(keywords, text);
        expect(found(set, text), `${JSON.stringify(keywords)} in ${JSON.stringify(text)}`).toEqual(want);
        expect(set.any(text)).toBe(want.length > 0);
      }
    }
  });

  it("refuses keywords it could not match", () => {
    expect(() => new KeywordSet(["Token"])).toThrow(/lower-case ASCII/);
    expect(() => new KeywordSet(["clé"])).toThrow(/lower-case ASCII/);
  });
});
