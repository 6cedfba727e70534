import { describe, expect, it } from "vitest";
import { makeCorpus } from "../../bench/corpus.ts";
import type { ToolCall } from "../../src/policy/call/tool-call.ts";
import { engine as engineWith, fixtureEngine, runtime } from "./helpers.ts";

const exec = (command: string, extra: Record<string, unknown> = {}): ToolCall => ({ toolName: "exec", params: { command, ...extra } });

describe("decisions of calls seen before", () => {
  it("come back equal, and frozen so no caller can change what the next caller gets", () => {
    const engine = fixtureEngine();
    const first = engine.evaluate(exec("git push origin main"));
    const again = engine.evaluate(exec("git push origin main"));
    expect(again).toEqual(first);
    // Admitted on its second sighting; the third is served from the cache.
    expect(engine.evaluate(exec("git push origin main"))).toBe(again);
    expect(Object.isFrozen(again) && Object.isFrozen(again.parts) && Object.isFrozen(again.risk)).toBe(true);
    expect(() => {
      (again as { decision: string }).decision = "allow";
    }).toThrow(TypeError);
    expect(engine.evaluate(exec("git push origin main")).decision).toBe("ask");
  });

  it("depend on every param, the agent and the derived paths", () => {
    const engine = fixtureEngine();
    expect(engine.evaluate(exec("git status")).decision).toBe("allow");
    expect(engine.evaluate(exec("git status", { env: null, cwd: "/x" })).decision).toBe("allow");
    expect(engine.evaluate(exec("rm -rf /tmp/x")).decision).toBe("deny");
    const files = engineWith({ allow: ["write(src/**)"], deny: ["write(/etc/**)"], agents: { ops: { deny: ["write(src/**)"] } } });
    const write = (path: string, more: Partial<ToolCall> = {}): ToolCall => ({ toolName: "write", params: { path }, ...more });
    expect(files.evaluate(write("src/a.ts")).decision).toBe("allow");
    expect(files.evaluate(write("src/a.ts", { derivedPaths: ["/etc/passwd"] })).decision).toBe("deny");
    expect(files.evaluate(write("src/a.ts", { agentId: "ops" })).decision).toBe("deny");
    expect(files.evaluate(write("src/a.ts")).decision).toBe("allow");
  });

  it("never outlive a rule change (runtime rules make a new engine)", () => {
    const engine = fixtureEngine();
    expect(engine.evaluate(exec("git status")).decision).toBe("allow");
    expect(engine.withRuntime(runtime({ "exec(git status)": "deny" }, [])).evaluate(exec("git status")).decision).toBe("deny");
  });

  it("judge what the key holds, even when a getter answers differently the second time", () => {
    const engine = fixtureEngine();
    let reads = 0;
    const params = {
      get command(): string {
        reads++;
        return reads === 1 ? "git status" : "rm -rf /tmp/x";
      },
    };
    // Read once for the key; the decision is about that same text.
    expect(engine.evaluate({ toolName: "exec", params }).decision).toBe("allow");
    expect(reads).toBe(1);
    expect(engine.evaluate(exec("rm -rf /tmp/x")).decision).toBe("deny");
  });

  it("judge() decides what the full decision says, in every mode, for nested and over-limit params too", () => {
    let deep: unknown = "git status";
    for (let i = 0; i < 70; i++) deep = { deeper: deep };
    const calls: ToolCall[] = [
      ...makeCorpus(400, 3).map((line) => exec(line)),
      exec("git status", { nested: deep }),
      exec("git status", { env: { PATH: "/tmp" } }),
      { toolName: "write", params: { path: "src/a.ts" } },
      { toolName: "web_fetch", params: { url: "https://example.com/x" } },
    ];
    for (const mode of ["default", "strict", "dontAsk", "acceptEdits", "bypassPermissions"]) {
      const e = engineWith({ mode, allow: ["exec(git *)", "write(src/**)"], ask: ["exec(npm *)"], deny: ["exec(rm -rf *)"] });
      for (const call of calls) {
        const judged = e.judge(call);
        expect(judged.decision, `${mode}: ${JSON.stringify(call.params).slice(0, 80)}`).toBe(judged.details().decision);
        expect(e.evaluate(call).decision).toBe(judged.decision);
      }
    }
  });
});
