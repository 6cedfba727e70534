import { describe, expect, it } from "vitest";
import { canonicalJson, paramsHash } from "../../src/approvals/canonical.ts";
import { redact } from "../../src/redact/redact.ts";
import { MAX_PARAMS_DEPTH } from "../../src/policy/base/params-limits.ts";
import { engine, fixtureEngine } from "./helpers.ts";

function nested(depth: number, leaf: unknown = "leaf"): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? { v } : [v];
  return v;
}

const e = fixtureEngine();

describe("params of any depth or size", () => {
  it("5,000-deep params: evaluate asks, paramsHash and redact answer, nothing throws", () => {
    const params = { command: "git status", extra: nested(5_000) };
    const d = e.evaluate({ toolName: "exec", params });
    expect(d.decision).toBe("ask");
    expect(d.reason).toBe(`needs approval: its params are nested more than ${MAX_PARAMS_DEPTH} levels deep`);
    expect(d.alwaysAllowRule).toBeNull();
    expect(paramsHash(params)).toMatch(/^[0-9a-f]{64}$/);
    expect(paramsHash(params)).toBe(paramsHash({ extra: nested(5_000), command: "git status" }));
    expect(() => canonicalJson(redact(params))).not.toThrow();
  });

  it("200,000-deep params hash without overflowing the stack", () => {
    const params = nested(200_000);
    const json = canonicalJson(params);
    expect(json.startsWith('[{"v":[{"v":')).toBe(true);
    expect(json.endsWith('}]}]')).toBe(true);
    expect(json.indexOf('{"v":"leaf"}')).toBe(100_000 * '[{"v":'.length - '{"v":'.length);
    expect(json.length).toBe(100_000 * '[{"v":]}'.length + '"leaf"'.length);
  });

  it("deep params never pass, but a deny rule still denies", () => {
    expect(e.evaluate({ toolName: "exec", params: { command: "rm -rf /", extra: nested(100) } }).decision).toBe("deny");
    expect(e.evaluate({ toolName: "some_tool", params: nested(100) }).decision).toBe("ask");
    expect(e.evaluate({ toolName: "read", params: { path: "/etc/hosts", x: nested(MAX_PARAMS_DEPTH + 1) } }).decision).toBe("ask");
    // At the limit is fine.
    expect(e.evaluate({ toolName: "read", params: { path: "/etc/hosts", x: nested(MAX_PARAMS_DEPTH - 2) } }).decision).toBe("allow");
  });

  it("dontAsk denies what is over the limits", () => {
    const d = engine({ mode: "dontAsk", allow: ["exec(git status)"] }).evaluate({ toolName: "exec", params: { command: "git status", x: nested(100) } });
    expect(d).toMatchObject({ decision: "deny", rule: "mode:dontAsk" });
  });

  it("params larger than the size limits ask, with the reason", () => {
    const wide = { command: "git status", many: Array.from({ length: 150_000 }, (_, i) => i) };
    expect(e.evaluate({ toolName: "exec", params: wide })).toMatchObject({ decision: "ask", reason: "needs approval: its params hold more than 100,000 values" });
    const big = { path: "notes.md", content: "x".repeat(5 * 1024 * 1024) };
    expect(e.evaluate({ toolName: "write", params: big })).toMatchObject({ decision: "ask", reason: "needs approval: its params are larger than 4 MiB" });
  });

  it("cycles are neither deep nor endless", () => {
    const params: Record<string, unknown> = { command: "git status" };
    params["self"] = params;
    expect(e.evaluate({ toolName: "exec", params }).decision).toBe("allow");
    expect(canonicalJson(params)).toBe('{"command":"git status","self":"[cycle]"}');
  });

  it("canonicalJson stays byte-identical to sorted JSON.stringify for ordinary params", () => {
    const sortDeep = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sortDeep) : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])])) : v;
    const samples = [
      { command: "git push origin main", env: { CI: "1", A: "b" }, timeout: 30, flags: [true, false, null, 1.5, -0, "é\n\"x\""] },
      { path: "/a/b", edits: [{ old: "x", new: "y" }, { old: "", new: "\u0000" }] },
      [],
      {},
      "plain",
    ];
    for (const s of samples) {
      const sorted = JSON.stringify(sortDeep(s));
      // Integer-like keys aside (JSON.stringify would move them first), the bytes are the same.
      expect(canonicalJson(s)).toBe(sorted);
    }
    expect(canonicalJson({ b: 1, "10": 2, "2": 3 })).toBe('{"10":2,"2":3,"b":1}');
  });
});
