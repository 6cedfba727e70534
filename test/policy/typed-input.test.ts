import { afterAll, describe, expect, it } from "vitest";
import { SELF_PROTECTION_RULE } from "../../src/policy/engine.ts";
import { typedInput } from "../../src/policy/base/typed-input.ts";
import { engine } from "./helpers.ts";
import { engineFor, makeLayout, SHIPPED_POLICY } from "./self-protection-layout.ts";

describe("typedInput: what OpenClaw's process tool types, as OpenClaw builds it", () => {
  it.each<[Record<string, unknown>, string | null, boolean]>([
    [{ action: "write", data: "ls -la\n" }, "ls -la\n", false],
    [{ action: "write", data: "rm -r" }, "rm -r", true],
    [{ action: "write", data: "rm -rf \\\n" }, "rm -rf \\\n", true],
    [{ action: "write", data: "ls\r" }, "ls\n", false],
    [{ action: "send-keys", literal: "echo a", hex: ["20", "62"], keys: ["Enter"] }, "echo a b\n", false],
    [{ action: "send-keys", keys: ["r", "m", "Space", "-", "r", "f", "Space", "/", "C-m"] }, "rm -rf /\n", false],
    [{ action: "send-keys", keys: ["rm -rf /", "^M"] }, "rm -rf /\n", false],
    [{ action: "send-keys", keys: ["S-x", "Enter"] }, "X\n", false],
    [{ action: "send-keys", keys: [" ", "Enter"] }, "\n", false],
    [{ action: "send-keys", keys: ["C-c"] }, null, false],
    [{ action: "send-keys", keys: ["Up"] }, null, false],
    [{ action: "send-keys", keys: ["Up", "Enter"] }, "\n", true],
    [{ action: "write", data: "rm -rf /tmpX\x7f\n" }, "rm -rf /tmp\n", false],
    [{ action: "write", data: "ls\x15rm -rf /\n" }, "rm -rf /\n", false],
    [{ action: "write", data: "echo a b\x17rm\n" }, "echo a rm\n", false],
    [{ action: "write", data: "rm -r\x1b[Df /\n" }, "rm -rf /\n", true],
    [{ action: "write", data: "rm\t-rf /\n" }, "rm -rf /\n", true],
    [{ action: "paste", text: "a\tb\nc\n" }, "a\tb\nc\n", false],
    [{ action: "paste", text: "a\tb\n", bracketed: false }, "a b\n", true],
    [{ action: "submit" }, "\n", false],
    [{ action: "poll", data: "rm -rf /\n" }, null, false],
    [{ action: "kill" }, null, false],
    [{ action: "type", data: "rm -rf /\n" }, "rm -rf /\n", false],
  ])("%j", (params, text, unclear) => {
    const t = typedInput(params);
    if (text === null) expect(t).toBeNull();
    else expect({ text: t?.text, unclear: t?.unclear !== null }).toEqual({ text, unclear });
  });
});

describe("the user's shell rules hold for text typed with the process tool", () => {
  const policy = engine({ mode: "default", allow: ["exec(git status)"], deny: ["exec(rm -rf *)"] });
  const process = (params: Record<string, unknown>) => policy.evaluate({ toolName: "process", params: { sessionId: "s1", ...params } });

  it.each<Record<string, unknown>>([
    { action: "write", data: "rm -rf /\n" },
    { action: "write", data: "rm -rf /" },
    { action: "write", data: "echo ok; rm -rf ~/x\r" },
    { action: "send-keys", keys: ["r", "m", "Space", "-", "r", "f", "Space", "/", "Enter"] },
    { action: "send-keys", keys: ["rm -rf /", "C-m"] },
    { action: "send-keys", literal: "rm -rf /srv", keys: ["Enter"] },
    { action: "send-keys", hex: ["72", "6d", "20", "2d", "72", "66", "20", "2f", "0a"] },
    { action: "paste", text: "cd /tmp\nrm -rf *\n" },
    { action: "paste", text: "rm\t-rf /\n", bracketed: false },
    { action: "write", data: "rm -rf /tmpX\x7f\n" },
    { action: "write", data: "ls\x15rm -rf /\n" },
    { action: "write", data: "rm -r\x1b[Df /\n" },
    { action: "write", data: "bash -c 'rm -rf /'\n" },
    { action: "type", data: "rm -rf /\n" },
  ])("deny: %j", (params) => {
    expect(process(params)).toMatchObject({ decision: "deny", rule: "exec(rm -rf *)" });
  });

  it.each<Record<string, unknown>>([
    { action: "write", data: "rm -r" },
    { action: "send-keys", keys: ["Up", "Enter"] },
    { action: "write", data: "echo a\x01b\n" },
  ])("ask (partial or edited lines, never remembered): %j", (params) => {
    const d = process(params);
    expect(d.decision).toBe("ask");
    expect(d.alwaysAllowRule).toBeNull();
  });

  it.each<Record<string, unknown>>([{ action: "write", data: "git status\n" }, { action: "send-keys", keys: ["C-c"] }, { action: "submit" }, { action: "poll" }, { action: "log", offset: 0 }])("allow: %j", (params) => {
    expect(process(params).decision).toBe("allow");
  });

  it("strict mode asks before typing an unknown command, as it would for exec", () => {
    const strict = engine({ mode: "strict", allow: ["exec(git status)"] });
    expect(strict.evaluate({ toolName: "process", params: { action: "write", sessionId: "s", data: "y\n" } }).decision).toBe("ask");
    expect(strict.evaluate({ toolName: "process", params: { action: "write", sessionId: "s", data: "git status\n" } }).decision).toBe("allow");
  });
});

describe("self-protection judges typed text too, even when process is not a shell tool", () => {
  const layout = makeLayout();
  afterAll(() => layout.cleanup());
  const shipped = engineFor(layout, SHIPPED_POLICY);
  const outside = engineFor(layout, { ...SHIPPED_POLICY, shellTools: ["exec", "bash"] });

  it.each<Record<string, unknown>>([
    { action: "write", data: "clawgate approvX\x7fe ap_x\n" },
    { action: "send-keys", keys: ["clawgate approve ap_x", "Enter"] },
    { action: "send-keys", literal: "redis-cli -h 0x7f.1 FLUSHALL", keys: ["Enter"] },
    { action: "paste", text: "cat ~/.openclaw/openclaw.json\n" },
    { action: "write", data: "echo approve ap_abcdefghjkmn | xargs clawgate\n" },
  ])("%j", (params) => {
    for (const e of [shipped, outside]) {
      expect(e.evaluate({ toolName: "process", params: { sessionId: "s", ...params } })).toMatchObject({ decision: "deny", rule: SELF_PROTECTION_RULE });
    }
  });
});
