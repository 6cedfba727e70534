import { homedir } from "node:os";
import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/policy/schema.ts";
import type { ToolCall } from "../../src/policy/call/tool-call.ts";
import { engine } from "./helpers.ts";

type Row = [name: string, call: ToolCall, decision: Decision, rule: string | null];

function table(policy: unknown, rows: Row[]): void {
  const e = engine(policy);
  it.each(rows)("%s → %s (%s)", (_name, call, decision, rule) => {
    const d = e.evaluate(call);
    expect({ decision: d.decision, rule: d.rule }).toEqual({ decision, rule });
  });
}

const patch = (...lines: string[]): string => ["*** Begin Patch", ...lines, "*** End Patch"].join("\n");

describe("file tools", () => {
  table(
    {
      mode: "strict",
      allow: ["write(src/**)", "read(/etc/hosts)"],
      ask: ["write(**/.env*)", "edit(**/package.json)", "read(~/.ssh/**)"],
      deny: ["write(/etc/**)", "read(**/*.pem)", "apply_patch(**/.github/workflows/**)", "write(**/.git/hooks/*)"],
    },
    [
      ["relative path under an allowed dir", { toolName: "write", params: { path: "src/a.ts" } }, "allow", "write(src/**)"],
      ["relative glob matches at any depth", { toolName: "write", params: { path: "/home/u/app/src/a.ts" } }, "allow", "write(src/**)"],
      ["unmatched path follows the mode", { toolName: "write", params: { path: "lib/a.ts" } }, "ask", "mode:strict"],
      ["absolute deny", { toolName: "write", params: { path: "/etc/passwd" } }, "deny", "write(/etc/**)"],
      ["dot-dot is resolved", { toolName: "write", params: { path: "/tmp/../etc/passwd" } }, "deny", "write(/etc/**)"],
      ["double slashes are collapsed", { toolName: "write", params: { path: "//etc//passwd" } }, "deny", "write(/etc/**)"],
      ["ask beats allow", { toolName: "write", params: { path: "src/.env" } }, "ask", "write(**/.env*)"],
      ["climbing out still names .env", { toolName: "write", params: { path: "src/../../.env" } }, "ask", "write(**/.env*)"],
      ["git hooks", { toolName: "write", params: { path: ".git/hooks/pre-commit" } }, "deny", "write(**/.git/hooks/*)"],
      ["edit rules guard write", { toolName: "write", params: { path: "package.json" } }, "ask", "edit(**/package.json)"],
      ["write rules guard edit", { toolName: "edit", params: { file_path: "/etc/hosts" } }, "deny", "write(/etc/**)"],
      ["edit by filePath", { toolName: "edit", params: { filePath: "/repo/package.json" } }, "ask", "edit(**/package.json)"],
      ["read allow", { toolName: "read", params: { path: "/etc/hosts" } }, "allow", "read(/etc/hosts)"],
      ["read rules do not guard writes", { toolName: "write", params: { path: "/x/key.pem" } }, "ask", "mode:strict"],
      ["tilde in rule and path", { toolName: "read", params: { path: "~/.ssh/id_rsa" } }, "ask", "read(~/.ssh/**)"],
      ["tilde rule against absolute path", { toolName: "read", params: { path: `${homedir()}/.ssh/config` } }, "ask", "read(~/.ssh/**)"],
      ["read deny by extension", { toolName: "read", params: { path: "/x/key.pem" } }, "deny", "read(**/*.pem)"],
      ["read deny by file_path", { toolName: "read", params: { file_path: "a.pem" } }, "deny", "read(**/*.pem)"],
      ["derivedPaths are judged too", { toolName: "write", params: { path: "src/a.ts" }, derivedPaths: ["/etc/cron.d/x"] }, "deny", "write(/etc/**)"],
      ["derivedPaths alone", { toolName: "write", params: {}, derivedPaths: ["src/x.ts"] }, "allow", "write(src/**)"],
      ["every path must pass", { toolName: "write", params: { path: "src/a.ts" }, derivedPaths: ["lib/b.ts"] }, "ask", "mode:strict"],
      ["no path at all", { toolName: "write", params: { content: "x" } }, "ask", "mode:strict"],
      ["path of the wrong type", { toolName: "write", params: { path: 42 } }, "ask", null],
      [
        "apply_patch: any file denied denies",
        { toolName: "apply_patch", params: { input: patch("*** Update File: src/a.ts", "@@", "-a", "+b", "*** Add File: .github/workflows/ci.yml", "+on: push") } },
        "deny",
        "apply_patch(**/.github/workflows/**)",
      ],
      ["apply_patch: write rules apply", { toolName: "apply_patch", params: { input: patch("*** Update File: src/a.ts", "@@", "-a", "+b") } }, "allow", "write(src/**)"],
      ["apply_patch: delete of .env asks", { toolName: "apply_patch", params: { input: patch("*** Delete File: .env") } }, "ask", "write(**/.env*)"],
      ["apply_patch: move target is judged", { toolName: "apply_patch", params: { input: patch("*** Update File: src/a.ts", "*** Move to: /etc/profile") } }, "deny", "write(/etc/**)"],
      ["apply_patch: patch key", { toolName: "apply_patch", params: { patch: patch("*** Add File: src/new.ts", "+x") } }, "allow", "write(src/**)"],
      ["apply_patch: no file lines", { toolName: "apply_patch", params: { input: "garbage" } }, "ask", null],
      ["apply_patch: derivedPaths", { toolName: "apply_patch", params: { input: patch("*** Update File: src/a.ts") }, derivedPaths: ["/etc/x"] }, "deny", "write(/etc/**)"],
    ],
  );
});

describe("web tools", () => {
  table(
    {
      mode: "strict",
      allow: ["web_fetch(domain:example.com)", "web_fetch(https://api.github.com/repos/*)", "browser(domain:*.docs.dev)"],
      ask: ["web_fetch(domain:internal.example.com)"],
      deny: ["web_fetch(domain:evil.com)", "web_fetch(*://169.254.169.254/*)", "web_fetch(http://*)"],
    },
    [
      ["domain", { toolName: "web_fetch", params: { url: "https://example.com/x" } }, "allow", "web_fetch(domain:example.com)"],
      ["subdomain", { toolName: "web_fetch", params: { url: "https://www.example.com/" } }, "allow", "web_fetch(domain:example.com)"],
      ["case and trailing dot", { toolName: "web_fetch", params: { url: "https://EXAMPLE.com./" } }, "allow", "web_fetch(domain:example.com)"],
      ["no scheme", { toolName: "web_fetch", params: { url: "example.com/path" } }, "allow", "web_fetch(domain:example.com)"],
      ["look-alike domain", { toolName: "web_fetch", params: { url: "https://notexample.com/" } }, "ask", "mode:strict"],
      ["suffix trick", { toolName: "web_fetch", params: { url: "https://example.com.evil.net/" } }, "ask", "mode:strict"],
      ["ask beats allow", { toolName: "web_fetch", params: { url: "https://internal.example.com/a" } }, "ask", "web_fetch(domain:internal.example.com)"],
      ["denied domain", { toolName: "web_fetch", params: { url: "https://evil.com/" } }, "deny", "web_fetch(domain:evil.com)"],
      ["denied subdomain", { toolName: "web_fetch", params: { url: "https://a.b.evil.com/" } }, "deny", "web_fetch(domain:evil.com)"],
      ["userinfo trick", { toolName: "web_fetch", params: { url: "https://example.com@evil.com/" } }, "deny", "web_fetch(domain:evil.com)"],
      ["metadata endpoint", { toolName: "web_fetch", params: { url: "http://169.254.169.254/latest/meta-data" } }, "deny", "web_fetch(*://169.254.169.254/*)"],
      ["deny beats allow", { toolName: "web_fetch", params: { url: "http://example.com/" } }, "deny", "web_fetch(http://*)"],
      ["URL wildcard", { toolName: "web_fetch", params: { url: "https://api.github.com/repos/a/b" } }, "allow", "web_fetch(https://api.github.com/repos/*)"],
      ["URL wildcard miss", { toolName: "web_fetch", params: { url: "https://api.github.com/users" } }, "ask", "mode:strict"],
      ["not a URL", { toolName: "web_fetch", params: { url: "not a url" } }, "ask", null],
      ["URL of the wrong type", { toolName: "web_fetch", params: { url: 42 } }, "ask", null],
      ["browser subdomain-only rule", { toolName: "browser", params: { url: "https://a.docs.dev/" } }, "allow", "browser(domain:*.docs.dev)"],
      ["browser apex not covered", { toolName: "browser", params: { url: "https://docs.dev/" } }, "ask", "mode:strict"],
      ["browser action without URL", { toolName: "browser", params: { action: "click" } }, "ask", "mode:strict"],
    ],
  );
});

describe("plugin tools and paramKeys", () => {
  table(
    {
      mode: "default",
      paramKeys: { deploy: ["service", "env"], message: ["channel"], query_db: ["sql"] },
      allow: ["deploy(* staging)", "message", "nokeys(*)"],
      ask: ["deploy(* prod)", "query_db(*DROP*)", "nokeys(something)"],
      deny: ["deploy(billing prod)", "message(#exec-*)", "other_tool", "mcp__github__*"],
    },
    [
      ["joined content", { toolName: "deploy", params: { service: "api", env: "staging" } }, "allow", "deploy(* staging)"],
      ["ask rule", { toolName: "deploy", params: { service: "api", env: "prod" } }, "ask", "deploy(* prod)"],
      ["deny rule", { toolName: "deploy", params: { service: "billing", env: "prod" } }, "deny", "deploy(billing prod)"],
      ["missing key is skipped", { toolName: "deploy", params: { service: "api" } }, "allow", "mode:default"],
      ["object values are JSON", { toolName: "deploy", params: { service: "api", env: { name: "prod" } } }, "allow", "mode:default"],
      ["bare rule", { toolName: "message", params: { channel: "#general", text: "hi" } }, "allow", "message"],
      ["content deny beats bare allow", { toolName: "message", params: { channel: "#exec-team" } }, "deny", "message(#exec-*)"],
      ["wildcards inside", { toolName: "query_db", params: { sql: "DROP TABLE users" } }, "ask", "query_db(*DROP*)"],
      ["bare deny", { toolName: "other_tool", params: {} }, "deny", "other_tool"],
      ["no paramKeys: only Tool and Tool(*)", { toolName: "nokeys", params: { a: "something" } }, "allow", "nokeys(*)"],
      ["tool-name wildcard", { toolName: "mcp__github__delete_repo", params: {} }, "deny", "mcp__github__*"],
      ["tool-name wildcard miss", { toolName: "mcp__slack__post", params: {} }, "allow", "mode:default"],
      ["tool names are case-insensitive", { toolName: "Other_Tool", params: {} }, "deny", "other_tool"],
    ],
  );
});
