import { describe, expect, it } from "vitest";
import type { Decision, PolicyMode } from "../../src/policy/schema.ts";
import { engine } from "./helpers.ts";

const rules = {
  allow: ["exec(git status)", "exec(ls *)", "exec(sudo apt update)"],
  ask: ["exec(git push *)"],
  deny: ["exec(rm -rf *)"],
  dangerousPatterns: ["exec(git push --force*)"],
};

type ModeRow = [mode: PolicyMode, tool: string, command: string | { path: string }, decision: Decision, rule: string | null];

const params = (c: string | { path: string }): unknown => (typeof c === "string" ? { command: c } : c);

const modeRows: ModeRow[] = [
  ["default", "exec", "git status", "allow", "exec(git status)"],
  ["strict", "exec", "git status", "allow", "exec(git status)"],
  ["acceptEdits", "exec", "git status", "allow", "exec(git status)"],
  ["bypassPermissions", "exec", "git status", "allow", "exec(git status)"],
  ["dontAsk", "exec", "git status", "allow", "exec(git status)"],

  ["default", "exec", "whoami", "allow", "mode:default"],
  ["strict", "exec", "whoami", "ask", "mode:strict"],
  ["acceptEdits", "exec", "whoami", "ask", "mode:acceptEdits"],
  ["bypassPermissions", "exec", "whoami", "allow", "mode:bypassPermissions"],
  ["dontAsk", "exec", "whoami", "deny", "mode:dontAsk"],

  ["default", "exec", "git push origin main", "ask", "exec(git push *)"],
  ["strict", "exec", "git push origin main", "ask", "exec(git push *)"],
  ["acceptEdits", "exec", "git push origin main", "ask", "exec(git push *)"],
  ["bypassPermissions", "exec", "git push origin main", "allow", "mode:bypassPermissions"],
  ["dontAsk", "exec", "git push origin main", "deny", "exec(git push *)"],

  ["default", "exec", "rm -rf /", "deny", "exec(rm -rf *)"],
  ["strict", "exec", "rm -rf /", "deny", "exec(rm -rf *)"],
  ["acceptEdits", "exec", "rm -rf /", "deny", "exec(rm -rf *)"],
  ["bypassPermissions", "exec", "rm -rf /", "deny", "exec(rm -rf *)"],
  ["dontAsk", "exec", "rm -rf /", "deny", "exec(rm -rf *)"],

  // Safety floor: not understood / dangerous never pass silently, even in bypassPermissions.
  ["default", "exec", "$CMD", "ask", null],
  ["bypassPermissions", "exec", "$CMD", "ask", null],
  ["bypassPermissions", "exec", "eval \"$X\"", "ask", null],
  ["dontAsk", "exec", "$CMD", "deny", "mode:dontAsk"],
  ["default", "exec", "git push --force origin main", "ask", "exec(git push *)"],
  ["bypassPermissions", "exec", "git push --force origin main", "ask", "exec(git push *)"],
  ["dontAsk", "exec", "git push --force origin main", "deny", "exec(git push *)"],

  ["default", "write", { path: "src/a.ts" }, "allow", "mode:default"],
  ["strict", "write", { path: "src/a.ts" }, "ask", "mode:strict"],
  ["acceptEdits", "write", { path: "src/a.ts" }, "allow", "mode:acceptEdits"],
  ["acceptEdits", "edit", { path: "src/a.ts" }, "allow", "mode:acceptEdits"],
  ["acceptEdits", "apply_patch", { path: "src/a.ts" }, "allow", "mode:acceptEdits"],
  ["acceptEdits", "read", { path: "src/a.ts" }, "ask", "mode:acceptEdits"],
  ["bypassPermissions", "write", { path: "src/a.ts" }, "allow", "mode:bypassPermissions"],
  ["dontAsk", "write", { path: "src/a.ts" }, "deny", "mode:dontAsk"],

  // Strict mode shows which level of a wrapped command an allow rule may cover.
  ["strict", "exec", "ls -la", "allow", "exec(ls *)"],
  ["strict", "exec", "ls; whoami", "ask", "mode:strict"],
  ["strict", "exec", "timeout 5 ls -la", "allow", "exec(ls *)"],
  ["strict", "exec", "nohup ls -la &", "allow", "exec(ls *)"],
  ["strict", "exec", "bash -c 'ls -la'", "allow", "exec(ls *)"],
  ["strict", "exec", "sudo ls", "ask", "mode:strict"],
  ["strict", "exec", "sudo bash -c 'ls'", "ask", "mode:strict"],
  ["strict", "exec", "sudo apt update", "allow", "exec(sudo apt update)"],
  ["strict", "exec", "FOO=1 ls", "allow", "exec(ls *)"],
  ["strict", "exec", "PATH=/tmp/evil ls", "ask", "mode:strict"],
  ["strict", "exec", "LD_PRELOAD=/tmp/x.so ls", "ask", "mode:strict"],
  ["strict", "exec", "/bin/ls /", "allow", "exec(ls *)"],
  ["strict", "exec", "./ls /", "ask", "mode:strict"],
  ["strict", "exec", "/tmp/evil/ls", "ask", "mode:strict"],
  ["strict", "exec", "git status `whoami`", "ask", "mode:strict"],
  // `> file` is judged as a write.
  ["strict", "exec", "ls -la > listing.txt", "ask", "mode:strict"],
  ["strict", "exec", "ls -la > /dev/null 2>&1", "allow", "exec(ls *)"],
  ["acceptEdits", "exec", "ls -la > listing.txt", "allow", "mode:acceptEdits"],
  ["default", "exec", "ls -la > listing.txt", "allow", "mode:default"],
];

describe("modes", () => {
  it.each(modeRows)("%s: %s %j → %s (%s)", (mode, tool, command, decision, rule) => {
    const d = engine({ ...rules, mode }).evaluate({ toolName: tool, params: params(command) });
    expect({ decision: d.decision, rule: d.rule }).toEqual({ decision, rule });
  });

  it("reports the dontAsk conversion in the reason and source", () => {
    const d = engine({ ...rules, mode: "dontAsk" }).evaluate({ toolName: "exec", params: { command: "git push origin main" } });
    expect(d.source).toBe("mode");
    expect(d.reason).toBe('dontAsk mode: "git push origin main" would need approval (rule "exec(git push *)" asks)');
  });

  it("says when bypassPermissions passed an ask rule", () => {
    const d = engine({ ...rules, mode: "bypassPermissions" }).evaluate({ toolName: "exec", params: { command: "git push origin main" } });
    expect(d.reason).toBe('allowed: mode "bypassPermissions" passes although rule "exec(git push *)" asks');
  });
});

const defaults = {
  mode: "default",
  tools: { exec: "allowlist", browser: "deny", web_fetch: "full", deploy: "allowlist" },
  allow: ["exec(git status)", "browser(domain:docs.example.com)"],
  ask: ["web_fetch(domain:internal.example.com)"],
  paramKeys: { deploy: ["service", "env"] },
};

type DefaultRow = [mode: PolicyMode, tool: string, params: unknown, decision: Decision, rule: string | null];

const defaultRows: DefaultRow[] = [
  ["default", "exec", { command: "git status" }, "allow", "exec(git status)"],
  ["default", "exec", { command: "ls" }, "ask", "tool-default:exec"],
  ["default", "exec", { command: "git status && ls" }, "ask", "tool-default:exec"],
  ["default", "browser", { url: "https://docs.example.com/x" }, "allow", "browser(domain:docs.example.com)"],
  ["default", "browser", { url: "https://evil.example.net/" }, "deny", "tool-default:browser"],
  ["default", "browser", {}, "deny", "tool-default:browser"],
  ["default", "web_fetch", { url: "https://anything.example.org/" }, "allow", "tool-default:web_fetch"],
  ["strict", "web_fetch", { url: "https://anything.example.org/" }, "allow", "tool-default:web_fetch"],
  ["default", "web_fetch", { url: "https://api.internal.example.com/x" }, "ask", "web_fetch(domain:internal.example.com)"],
  ["default", "deploy", { service: "api", env: "prod" }, "ask", "tool-default:deploy"],
  ["bypassPermissions", "exec", { command: "ls" }, "allow", "mode:bypassPermissions"],
  ["bypassPermissions", "browser", { url: "https://evil.example.net/" }, "deny", "tool-default:browser"],
  ["dontAsk", "exec", { command: "ls" }, "deny", "tool-default:exec"],
];

describe("per-tool defaults", () => {
  it.each(defaultRows)("%s: %s %j → %s (%s)", (mode, tool, params, decision, rule) => {
    const d = engine({ ...defaults, mode }).evaluate({ toolName: tool, params });
    expect({ decision: d.decision, rule: d.rule }).toEqual({ decision, rule });
  });
});

const agents = {
  mode: "default",
  allow: ["exec(git status)"],
  deny: ["exec(rm -rf *)"],
  tools: { browser: "deny" },
  agents: {
    ci: { mode: "strict", allow: ["exec(npm test)"], tools: { browser: "full" } },
    intern: { deny: ["exec(git push *)"], ask: ["exec(npm *)"] },
    yolo: { mode: "bypassPermissions" },
  },
};

type AgentRow = [agent: string | undefined, tool: string, params: unknown, decision: Decision, rule: string | null];

const agentRows: AgentRow[] = [
  [undefined, "exec", { command: "npm test" }, "allow", "mode:default"],
  ["ci", "exec", { command: "npm test" }, "allow", "exec(npm test)"],
  ["ci", "exec", { command: "whoami" }, "ask", "mode:strict"],
  ["ci", "exec", { command: "git status" }, "allow", "exec(git status)"],
  ["ci", "exec", { command: "rm -rf /" }, "deny", "exec(rm -rf *)"],
  ["ci", "browser", { url: "https://x.example/" }, "allow", "tool-default:browser"],
  [undefined, "browser", { url: "https://x.example/" }, "deny", "tool-default:browser"],
  ["intern", "exec", { command: "git push origin main" }, "deny", "exec(git push *)"],
  ["intern", "exec", { command: "npm install left-pad" }, "ask", "exec(npm *)"],
  ["intern", "browser", { url: "https://x.example/" }, "deny", "tool-default:browser"],
  ["nobody", "exec", { command: "npm install" }, "allow", "mode:default"],
  ["yolo", "exec", { command: "git push origin main" }, "allow", "mode:bypassPermissions"],
  ["yolo", "exec", { command: "rm -rf /" }, "deny", "exec(rm -rf *)"],
  ["yolo", "exec", { command: "$CMD" }, "ask", null],
];

describe("per-agent policy", () => {
  const e = engine(agents);
  it.each(agentRows)("agent %s: %s %j → %s (%s)", (agentId, tool, params, decision, rule) => {
    const d = e.evaluate({ toolName: tool, params, agentId });
    expect({ decision: d.decision, rule: d.rule }).toEqual({ decision, rule });
  });
});
