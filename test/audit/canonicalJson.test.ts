import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/audit/canonicalJson.ts";

describe("canonicalJson", () => {
  it("sorts keys at every depth, integer-like keys included", () => {
    expect(canonicalJson({ b: 1, "10": 2, "2": 3, a: { z: [{ y: 1, x: 2 }], c: null } })).toBe(
      '{"10":2,"2":3,"a":{"c":null,"z":[{"x":2,"y":1}]},"b":1}',
    );
  });

  it("does not depend on insertion order", () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });

  it("follows JSON.stringify for the odd values", () => {
    const date = new Date(0);
    expect(canonicalJson({ d: date, u: undefined, f: () => 1, n: Number.NaN, big: 12n, arr: [undefined, Infinity] })).toBe(
      '{"arr":[null,null],"big":"12","d":"1970-01-01T00:00:00.000Z","n":null}',
    );
    expect(canonicalJson(undefined)).toBe("null");
  });

  it("marks cycles instead of throwing, and allows shared references", () => {
    const shared = { k: 1 };
    const loop: Record<string, unknown> = { shared, again: shared };
    loop.self = loop;
    expect(canonicalJson(loop)).toBe('{"again":{"k":1},"self":"[cycle]","shared":{"k":1}}');
  });

  it("escapes strings the way JSON.stringify does, lone surrogates included", () => {
    expect(canonicalJson({ s: 'a"\n\u0001\ud800é' })).toBe(JSON.stringify({ s: 'a"\n\u0001\ud800é' }));
  });
});
