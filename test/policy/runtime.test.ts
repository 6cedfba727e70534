import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/policy/schema.ts";
import type { DecisionSource } from "../../src/policy/types.ts";
import type { ToolCall } from "../../src/policy/call/tool-call.ts";
import { engine, fixtureEngine, runtime } from "./helpers.ts";

const exec = (command: string): ToolCall => ({ toolName: "exec", params: { command } });

type Row = [name: string, overrides: Record<string, Decision>, alwaysAllow: string[], call: ToolCall, decision: Decision, rule: string | null, source: DecisionSource];

const rows: Row[] = [
  ["override turns an allow into a deny", { "exec(git status)": "deny" }, [], exec("git status"), "deny", "exec(git status)", "override"],
  ["override matches whatever the spelling", { "Exec( git status )": "deny" }, [], exec("git status"), "deny", "Exec( git status )", "override"],
  ["override turns an ask into an allow", { "exec(git push *)": "allow" }, [], exec("git push origin main"), "allow", "exec(git push *)", "override"],
  ["override moves a deny rule out", { "exec(rm -rf *)": "ask" }, [], exec("rm -rf /tmp/x"), "ask", "exec(rm -rf *)", "override"],
  ["override adds a new rule", { "exec(npm publish *)": "ask" }, [], exec("npm publish --tag next"), "ask", "exec(npm publish *)", "override"],
  ["override of a file rule", { "write(**/.env*)": "deny" }, [], { toolName: "write", params: { path: ".env" } }, "deny", "write(**/.env*)", "override"],
  ["untouched rules still apply", { "exec(git status)": "deny" }, [], exec("git diff HEAD"), "allow", "exec(git diff *)", "allow-rule"],
  ["always-allow beats an ask rule", {}, ["exec(git push origin main)"], exec("git push origin main"), "allow", "exec(git push origin main)", "always-allow"],
  ["always-allow is exact", {}, ["exec(git push origin main)"], exec("git push origin dev"), "ask", "exec(git push *)", "ask-rule"],
  ["always-allow never beats deny", {}, ["exec(rm -rf /tmp/x)"], exec("rm -rf /tmp/x"), "deny", "exec(rm -rf *)", "deny-rule"],
  ["always-allow for a whole line", {}, ["exec(npm ci && git push origin main)"], exec("npm ci  &&  git push origin main"), "allow", "exec(npm ci && git push origin main)", "always-allow"],
  ["whole-line always-allow is exact", {}, ["exec(npm ci && git push origin main)"], exec("npm ci && git push origin dev"), "ask", "exec(git push *)", "ask-rule"],
  ["always-allow never covers what is not understood", {}, ["exec($CMD)"], exec("$CMD"), "ask", null, "unparsed"],
  ["always-allow for a file", {}, ["write(/home/u/app/.env)"], { toolName: "write", params: { path: "/home/u/app/.env" } }, "allow", "write(/home/u/app/.env)", "always-allow"],
  ["always-allow for a file is exact", {}, ["write(/home/u/app/.env)"], { toolName: "write", params: { path: "/home/u/other/.env" } }, "ask", "write(**/.env*)", "ask-rule"],
];

describe("runtime overrides and allow-always rules", () => {
  const base = fixtureEngine();
  it.each(rows)("%s", (_name, overrides, alwaysAllow, call, decision, rule, source) => {
    const d = base.withRuntime(runtime(overrides, alwaysAllow)).evaluate(call);
    expect({ decision: d.decision, rule: d.rule, source: d.source }).toEqual({ decision, rule, source });
  });

  it("withRuntime leaves the original engine alone", () => {
    base.withRuntime(runtime({ "exec(git status)": "deny" }));
    expect(base.evaluate(exec("git status")).decision).toBe("allow");
  });

  it("overrides reach rules that came from an agent's lists", () => {
    const e = engine({ agents: { ci: { allow: ["exec(npm test)"] } }, mode: "strict" }, runtime({ "exec(npm test)": "deny" }));
    expect(e.evaluate({ toolName: "exec", params: { command: "npm test" }, agentId: "ci" }).decision).toBe("deny");
  });

  it("rejects a bad runtime rule", () => {
    expect(() => base.withRuntime(runtime({}, ["exec("]))).toThrow(/invalid policy rule/);
  });
});

describe("dangerousPatterns", () => {
  const policy = {
    allow: ["exec(terraform *)"],
    dangerousPatterns: ["exec(git push --force*)", "exec(terraform destroy*)", "write(**/.github/workflows/**)"],
  };
  type DRow = [mode: string, call: ToolCall, decision: Decision, rule: string | null, alwaysAllow: string[]];
  const drows: DRow[] = [
    ["default", exec("git push --force origin main"), "ask", "exec(git push --force*)", []],
    ["default", exec("terraform destroy -auto-approve"), "ask", "exec(terraform destroy*)", []],
    ["default", exec("terraform plan"), "allow", "exec(terraform *)", []],
    ["default", { toolName: "write", params: { path: ".github/workflows/ci.yml" } }, "ask", "write(**/.github/workflows/**)", []],
    ["default", exec("bash -c 'git push --force'"), "ask", "exec(git push --force*)", []],
    ["default", exec("echo x > .github/workflows/x.yml"), "ask", "write(**/.github/workflows/**)", []],
    ["default", exec("git push --force origin main"), "ask", "exec(git push --force*)", ["exec(git push --force origin main)"]],
    ["bypassPermissions", exec("terraform destroy"), "ask", "exec(terraform destroy*)", []],
    ["dontAsk", exec("terraform destroy"), "deny", "exec(terraform destroy*)", []],
  ];
  it.each(drows)("%s: %j → %s (%s)", (mode, call, decision, rule, alwaysAllow) => {
    const d = engine({ ...policy, mode }, runtime({}, alwaysAllow)).evaluate(call);
    expect({ decision: d.decision, rule: d.rule }).toEqual({ decision, rule });
    if (decision !== "allow") expect(d.alwaysAllowRule).toBeNull();
  });
});

describe("alwaysAllowRule", () => {
  const e = engine({
    ask: ["exec(git push *)", "write(**/.env*)", "deploy(* prod)"],
    deny: ["exec(rm -rf *)"],
    dangerousPatterns: ["exec(git push --force*)"],
    paramKeys: { deploy: ["service", "env"] },
  });
  type ARow = [name: string, call: ToolCall, expected: string | null];
  const arows: ARow[] = [
    ["shell command", exec("git push origin main"), "exec(git push origin main)"],
    ["quotes removed, spaces collapsed", exec("git   push origin 'x y'"), "exec(git push origin x y)"],
    ["a star stays literal", exec("ls *.txt"), "exec(ls \\*.txt)"],
    ["compound line", exec("git status && git push"), "exec(git status && git push)"],
    ["allowed calls have one too", exec("git status"), "exec(git status)"],
    ["denied: none", exec("rm -rf /"), null],
    ["not understood: none", exec("$CMD"), null],
    ["dangerous: none", exec("git push --force origin main"), null],
    ["no command: none", { toolName: "exec", params: {} }, null],
    ["file path", { toolName: "write", params: { path: "/a/.env" } }, "write(/a/.env)"],
    ["file path with glob characters", { toolName: "write", params: { path: "src/[id].ts" } }, "write(src/\\[id\\].ts)"],
    ["several files: none", { toolName: "write", params: { path: "a.ts" }, derivedPaths: ["b.ts"] }, null],
    ["URL", { toolName: "web_fetch", params: { url: "https://a.example/x?q=*" } }, "web_fetch(https://a.example/x?q=\\*)"],
    ["plugin content", { toolName: "deploy", params: { service: "api", env: "prod" } }, "deploy(api prod)"],
    ["tool without content", { toolName: "some_tool", params: { x: 1 } }, "some_tool"],
  ];
  it.each(arows)("%s", (_name, call, expected) => {
    expect(e.evaluate(call).alwaysAllowRule).toBe(expected);
  });

  const roundTrips: ToolCall[] = [
    exec("git push origin main"),
    exec("git push origin 'a*b'"),
    exec("git status && git push origin main"),
    exec("echo hi > .env"),
    exec("cat <<'EOF' > .env\nA=1\nEOF"),
    { toolName: "write", params: { path: "/home/u/app/.env" } },
    { toolName: "write", params: { path: "src/[id]/.env" } },
    { toolName: "deploy", params: { service: "api", env: "prod" } },
  ];
  it.each(roundTrips)("saving the rule for %j allows exactly that call next time", (call) => {
    const first = e.evaluate(call);
    expect(first.decision).toBe("ask");
    expect(first.alwaysAllowRule).not.toBeNull();
    const next = e.withRuntime(runtime({}, [first.alwaysAllowRule as string])).evaluate(call);
    expect({ decision: next.decision, source: next.source }).toEqual({ decision: "allow", source: "always-allow" });
  });

  it("a saved rule with a star does not widen", () => {
    const rule = e.evaluate(exec("git push origin 'a*b'")).alwaysAllowRule as string;
    const next = e.withRuntime(runtime({}, [rule]));
    expect(next.evaluate(exec("git push origin aXb")).decision).toBe("ask");
  });

  it("a saved heredoc rule does not cover another body", () => {
    const rule = e.evaluate(exec("cat <<'EOF' > .env\nA=1\nEOF")).alwaysAllowRule as string;
    const next = e.withRuntime(runtime({}, [rule]));
    expect(next.evaluate(exec("cat <<'EOF' > .env\nA=2\nEOF")).decision).toBe("ask");
  });
});
