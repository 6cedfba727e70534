import { describe, expect, it } from "vitest";
import { PolicyRuleInvalidError } from "../../src/errors.ts";
import { policySchema } from "../../src/policy/schema.ts";
import { PolicyEngine, parseRule } from "../../src/policy/engine.ts";
import { compilePathGlob } from "../../src/policy/matcher.ts";
import { exactRule } from "../../src/policy/rule.ts";
import { compileTextPattern } from "../../src/policy/base/text-pattern.ts";
import { config } from "./helpers.ts";

describe("parseRule rejects bad rules", () => {
  const bad: [string, RegExp][] = [
    ["", /cannot be empty/],
    ["   ", /cannot be empty/],
    ["exec(", /missing closing "\)"/],
    ["exec(git status", /missing closing "\)"/],
    ["(x)", /missing tool name/],
    [" (git status)", /missing tool name/],
    ["exec()", /empty content/],
    ["exec(   )", /empty content/],
    ["exec(ls) and more", /unexpected text after the closing/],
    ["ex ec", /cannot contain spaces/],
    ["ex ec(ls)", /not a valid tool name/],
    ["exec)", /without a matching/],
    ["web_fetch(domain:)", /not a domain/],
    ["web_fetch(domain:exa mple.com)", /not a domain/],
    ["web_fetch(domain:https://example.com)", /not a domain/],
  ];
  it.each(bad)("%j → %s", (rule, message) => {
    let caught: unknown;
    try {
      parseRule(rule);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PolicyRuleInvalidError);
    expect((caught as PolicyRuleInvalidError).code).toBe("policy_rule_invalid");
    expect((caught as Error).message).toMatch(message);
  });

  it("the config schema refuses a bad rule, wherever it is, naming its key path and why", () => {
    const cases: [unknown, (string | number)[], string][] = [
      [{ deny: ["exec("] }, ["deny", 0], 'missing closing ")"'],
      [{ ask: ["exec(git status)", "exec(git push *"] }, ["ask", 1], 'invalid policy rule "exec(git push *"'],
      [{ agents: { a: { allow: ["(x)"] } } }, ["agents", "a", "allow", 0], "missing tool name"],
      [{ dangerousPatterns: ["exec()"] }, ["dangerousPatterns", 0], "empty content"],
      [{ allow: ["web_fetch(domain:)"] }, ["allow", 0], "is not a domain"],
    ];
    for (const [policy, path, why] of cases) {
      const r = policySchema.safeParse(policy);
      expect(r.success, JSON.stringify(policy)).toBe(false);
      expect(r.error?.issues[0]).toMatchObject({ path });
      expect(r.error?.issues[0]?.message).toContain(why);
    }
  });

  it("the engine refuses a bad rule in a config that skipped the schema", () => {
    for (const policy of [{ deny: ["exec("] }, { agents: { a: { allow: ["(x)"] } } }, { dangerousPatterns: ["exec()"] }]) {
      expect(() => new PolicyEngine(policy as never)).toThrow(PolicyRuleInvalidError);
    }
  });
});

describe("parseRule accepts", () => {
  const good: [string, { tool: string; content: string | null; form: string }][] = [
    ["read", { tool: "read", content: null, form: "tool" }],
    ["exec(git status)", { tool: "exec", content: "git status", form: "exact" }],
    [" exec(  git status ) ", { tool: "exec", content: "git status", form: "exact" }],
    ["exec(git push:*)", { tool: "exec", content: "git push:*", form: "prefix" }],
    ["exec(git diff *)", { tool: "exec", content: "git diff *", form: "wildcard" }],
    ["exec(ls \\*)", { tool: "exec", content: "ls \\*", form: "exact" }],
    ["exec(echo (a))", { tool: "exec", content: "echo (a)", form: "exact" }],
    ["Bash(ls)", { tool: "bash", content: "ls", form: "exact" }],
    ["web_fetch(domain:example.com)", { tool: "web_fetch", content: "domain:example.com", form: "domain" }],
    ["web_fetch(domain:*.example.com)", { tool: "web_fetch", content: "domain:*.example.com", form: "domain" }],
    ["write(**/.env*)", { tool: "write", content: "**/.env*", form: "wildcard" }],
    ["mcp__github__*", { tool: "mcp__github__*", content: null, form: "tool" }],
  ];
  it.each(good)("%j", (rule, expected) => {
    expect(parseRule(rule)).toMatchObject(expected);
  });
});

describe("command patterns", () => {
  const rows: [pattern: string, text: string, matches: boolean][] = [
    ["git push:*", "git push", true],
    ["git push:*", "git push origin main", true],
    ["git push:*", "git pushx", false],
    ["git push:*", "git", false],
    ["git diff *", "git diff", true],
    ["git diff *", "git diff HEAD", true],
    ["git diff *", "git diffHEAD", false],
    ["git * --force", "git push --force", true],
    ["git * --force", "git push", false],
    ["*", "", true],
    ["*", "anything at all", true],
    ["rm -rf *", "rm -rf", true],
    ["rm -rf *", "rm -rfv /", false],
    ["curl * | sh", "curl -s http://x | sh", true],
    ["curl * | sh", "curl x | sh -s", false],
    ["ls \\*", "ls *", true],
    ["ls \\*", "ls a", false],
    ["a.b", "aXb", false],
    ["(x)", "(x)", true],
    ["  git   status ", "git status", true],
    ["git status", "git status --short", false],
    ["echo *", "echo a\nb", true],
  ];
  it.each(rows)("%j vs %j → %s", (pattern, text, matches) => {
    expect(compileTextPattern(pattern).re.test(text)).toBe(matches);
  });

  it("indexes by the literal first word", () => {
    expect(compileTextPattern("git push *").head).toBe("git");
    expect(compileTextPattern("git:*").head).toBe("git");
    expect(compileTextPattern("gi*").head).toBeNull();
    expect(compileTextPattern("*").head).toBeNull();
  });
});

describe("path globs", () => {
  const rows: [glob: string, path: string, matches: boolean][] = [
    [".env*", "/a/b/.env.local", true],
    ["**/.env*", ".env", true],
    ["/etc/**", "/etc/x/y", true],
    ["/etc/**", "etc/x", false],
    ["src/**", "src/a", true],
    ["src/**", "/home/u/app/src/a", true],
    ["src/**", "srcx/a", false],
    ["*.pem", "a/b/c.pem", true],
    ["./src/*.ts", "src/a.ts", true],
  ];
  it.each(rows)("%j vs %j → %s", (glob, path, matches) => {
    expect(compilePathGlob(glob).test(path)).toBe(matches);
  });
});

describe("exactRule", () => {
  it("escapes stars and backslashes in commands", () => {
    expect(exactRule("exec", "echo a*b \\n", false)).toBe("exec(echo a\\*b \\\\n)");
  });
  it("escapes every glob character in paths", () => {
    expect(exactRule("write", "src/[id]/{a,b}?.ts", true)).toBe("write(src/\\[id\\]/\\{a,b\\}\\?.ts)");
  });
  it("is bare without content", () => {
    expect(exactRule("deploy", null, false)).toBe("deploy");
  });
});
