import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/policy/schema.ts";
import type { PolicyDecision } from "../../src/policy/types.ts";
import type { ToolCall } from "../../src/policy/call/tool-call.ts";
import { engine, fixtureEngine } from "./helpers.ts";

const e = fixtureEngine();

function deep(depth: number): unknown {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

const circular: Record<string, unknown> = { a: 1 };
circular["self"] = circular;

const throwing = {
  get command(): string {
    throw new Error("boom");
  },
};

/** Calls are built lazily: vitest would try to print a 100,000-deep object in the test name. */
type Row = [name: string, decision: Decision, call: () => unknown];

const rows: Row[] = [
  ["command is a number", "ask", () => ({ toolName: "exec", params: { command: 42 } })],
  ["command is an object", "ask", () => ({ toolName: "exec", params: { command: { x: 1 } } })],
  ["command is null", "ask", () => ({ toolName: "exec", params: { command: null } })],
  ["command is missing", "ask", () => ({ toolName: "exec", params: {} })],
  ["command under another name", "ask", () => ({ toolName: "exec", params: { cmd: "rm -rf /tmp/x" } })],
  ["command is empty", "ask", () => ({ toolName: "exec", params: { command: "   " } })],
  ["command array is empty", "ask", () => ({ toolName: "exec", params: { command: [] } })],
  ["params undefined", "ask", () => ({ toolName: "exec" })],
  ["params null", "ask", () => ({ toolName: "exec", params: null })],
  ["params is a string", "ask", () => ({ toolName: "exec", params: "ls" })],
  ["params is a string that a deny rule matches", "deny", () => ({ toolName: "exec", params: "rm -rf /" })],
  ["params is a number", "ask", () => ({ toolName: "exec", params: 7 })],
  ["params is an array", "ask", () => ({ toolName: "exec", params: ["rm", "-rf", "/"] })],
  ["command array with non-strings", "ask", () => ({ toolName: "exec", params: { command: ["ls", 1] } })],
  ["1 MB command", "ask", () => ({ toolName: "exec", params: { command: `echo ${"a".repeat(1024 * 1024)}` } })],
  ["1 MB of safe words", "ask", () => ({ toolName: "exec", params: { command: "a ".repeat(512 * 1024) } })],
  ["deeply nested params next to a command", "ask", () => ({ toolName: "exec", params: { command: "git status", extra: deep(100_000) } })],
  ["unterminated quote", "ask", () => ({ toolName: "exec", params: { command: 'echo "abc' } })],
  ["unterminated substitution", "ask", () => ({ toolName: "exec", params: { command: "echo $(ls" } })],
  ["substitutions nested too deep for the parser", "ask", () => ({ toolName: "exec", params: { command: `echo ${"$(".repeat(3000)}x${")".repeat(3000)}` } })],
  ["subshells nested too deep for the parser", "ask", () => ({ toolName: "exec", params: { command: `${"(".repeat(500)}ls${")".repeat(500)}` } })],
  ["shells nested too deep", "ask", () => ({ toolName: "exec", params: { command: "sh -c 'sh -c \"sh -c \\\"sh -c \\\\\\\"sh -c ls\\\\\\\"\\\"\"'" } })],
  ["brace expansion explosion", "ask", () => ({ toolName: "exec", params: { command: "echo {a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}" } })],
  ["huge sequence", "ask", () => ({ toolName: "exec", params: { command: "echo {1..1000000}" } })],
  ["a getter that throws", "ask", () => ({ toolName: "exec", params: throwing })],
  ["no tool name", "allow", () => ({ params: { command: "ls" } })],
  ["tool name is a number", "allow", () => ({ toolName: 5, params: {} })],
  ["the call is null", "ask", () => (null)],
  ["derivedPaths is not an array", "allow", () => ({ toolName: "write", params: { path: "a.ts" }, derivedPaths: "x" })],
  ["derivedPaths holds junk", "allow", () => ({ toolName: "write", params: {}, derivedPaths: [1, null, "b.ts"] })],
  ["agentId is not a string", "allow", () => ({ toolName: "exec", params: { command: "git status" }, agentId: 5 })],
  ["file tool with string params", "ask", () => ({ toolName: "write", params: ".env" })],
  ["web tool with array params", "ask", () => ({ toolName: "web_fetch", params: [1] })],
];

function assertShape(d: PolicyDecision): void {
  expect(["allow", "ask", "deny"]).toContain(d.decision);
  expect(typeof d.reason).toBe("string");
  expect(d.reason.length).toBeGreaterThan(0);
  expect(d.risk.score).toBeGreaterThanOrEqual(0);
  expect(d.risk.score).toBeLessThanOrEqual(100);
  expect(Array.isArray(d.parts)).toBe(true);
}

describe("malformed and hostile input", () => {
  it.each(rows)("%s → %s, without throwing", (_name, decision, call) => {
    const d = e.evaluate(call() as ToolCall);
    assertShape(d);
    expect(d.decision).toBe(decision);
  });

  it("plugin content that cannot be serialised asks", () => {
    const p = engine({ paramKeys: { deploy: ["service", "env"] } });
    for (const env of [deep(100_000), circular]) {
      const d = p.evaluate({ toolName: "deploy", params: { service: "api", env } });
      assertShape(d);
      expect(d.decision).toBe("ask");
    }
  });

  it("keeps working after the parser overflowed its stack", () => {
    e.evaluate({ toolName: "exec", params: { command: `echo ${"$(".repeat(3000)}x${")".repeat(3000)}` } });
    expect(e.evaluate({ toolName: "exec", params: { command: "git status; rm -rf /" } }).decision).toBe("deny");
    expect(e.evaluate({ toolName: "exec", params: { command: "git status && git diff" } }).decision).toBe("allow");
  });

  it("handles non-ASCII text (the parser counts bytes)", () => {
    expect(e.evaluate({ toolName: "exec", params: { command: "echo 'héllo wörld ✓' && rm -rf /" } }).decision).toBe("deny");
    const d = e.evaluate({ toolName: "exec", params: { command: "echo ✓ $(rm -rf /tmp/é)" } });
    expect(d.decision).toBe("deny");
    expect(d.reason).toContain('"rm -rf /tmp/é"');
  });

  it("answers a 1 MB command quickly", () => {
    const t = performance.now();
    e.evaluate({ toolName: "exec", params: { command: `echo ${"a".repeat(1024 * 1024)}` } });
    expect(performance.now() - t).toBeLessThan(200);
  });
});
