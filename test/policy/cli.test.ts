import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { readParamsArg } from "../../src/cli/shared/params-arg.ts";
import { BIN, runCli, type CliResult } from "../helpers/cli.ts";
import { REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

const dir = mkdtempSync(join(tmpdir(), "cg-policy-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, lines: string[]): Record<string, string> {
  const path = join(dir, name, "clawgate.yaml");
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(path, [`redis: { url: "\${REDIS_URL}", prefix: ${uniquePrefix("pcli")} }`, ...lines, ""].join("\n"));
  return { REDIS_URL, CLAWGATE_CONFIG: path };
}

/** The real binary with `input` on stdin. */
function runWithStdin(args: string[], env: Record<string, string>, input: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: "silent", ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe("clawgate policy test / unset", () => {
  const permissive = config("permissive", ["policy:", '  allow: ["exec(*)"]']);

  it("shows a self-approval attempt as denied by builtin:self-protection, in text and --json", async () => {
    const params = JSON.stringify({ command: "npx clawgate approve ap_x" });
    const json = await runCli(["policy", "test", "exec", "--offline", "--json", "--params", params], permissive);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ decision: "deny", rule: "builtin:self-protection", source: "self-protection" });
    const text = await runCli(["policy", "test", "exec", "--offline", "--params", params], permissive);
    expect(text.stdout).toMatch(/decision: deny/);
    expect(text.stdout).toContain("rule:     builtin:self-protection [self-protection]");
    expect(text.stdout).toContain("runs `clawgate approve`, which decides approvals");
  });

  it("reads --params from @file and from stdin (-), and says what is wrong with bad input", async () => {
    const file = join(dir, "params.json");
    writeFileSync(file, JSON.stringify({ command: `cat ${permissive.CLAWGATE_CONFIG}` }));
    const fromFile = await runCli(["policy", "test", "exec", "--offline", "--json", "--params", `@${file}`], permissive);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ decision: "deny", rule: "builtin:self-protection" });
    const fromStdin = await runWithStdin(["policy", "test", "exec", "--offline", "--json", "--params", "-"], permissive, '{"command":"git status"}');
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ decision: "allow", rule: "exec(*)" });
    const missing = await runCli(["policy", "test", "exec", "--offline", "--params", "@/nonexistent/p.json"], permissive);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toContain("--params @/nonexistent/p.json: no such file");
    const badStdin = await runWithStdin(["policy", "test", "exec", "--offline", "--params", "-"], permissive, "{nope");
    expect(badStdin.code).toBe(2);
    expect(badStdin.stderr).toContain("--params from stdin is not valid JSON");
  });

  it("with policy.selfProtection: false it warns on stderr and leaves the call to the rules", async () => {
    const off = config("off", ["policy:", "  selfProtection: false", '  allow: ["exec(*)"]']);
    const r = await runCli(["policy", "test", "exec", "--offline", "--json", "--params", '{"command":"clawgate approve ap_x"}'], off);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: "allow", rule: "exec(*)" });
    expect(r.stderr).toContain("warning: clawgate: policy.selfProtection is false");
  });

  it("a malformed rule in the config is refused, naming the rule and its key path", async () => {
    const bad = config("bad", ["policy:", '  ask: ["exec(git status)", "exec(git push *"]']);
    const r = await runCli(["policy", "test", "exec", "--offline", "--params", "{}"], bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('policy.ask[1]: invalid policy rule "exec(git push *": missing closing ")"');
  });

  it("set and unset without a credential exit 5, saying how to get one (they act through serve)", async () => {
    for (const args of [["policy", "unset", "exec(never-set)"], ["policy", "set", "exec(*)", "allow"]]) {
      const r = await runCli(args, { ...permissive, XDG_CONFIG_HOME: join(dir, "no-login"), CLAWGATE_URL: "http://127.0.0.1:9" });
      expect(r.code).toBe(5);
      expect(r.stderr).toContain("clawgate login");
    }
  });
});

describe("readParamsArg", () => {
  const stdin = (text: string): Readable => Readable.from([Buffer.from(text)]);

  it("takes inline JSON, @file and - (stdin)", async () => {
    const file = join(dir, "p.json");
    writeFileSync(file, '{"path":"a.ts"}');
    expect(await readParamsArg('{"command":"ls"}')).toEqual({ command: "ls" });
    expect(await readParamsArg(`@${file}`)).toEqual({ path: "a.ts" });
    expect(await readParamsArg("-", stdin('{"url":"https://x"}\n'))).toEqual({ url: "https://x" });
  });

  it("errors name the source and the problem", async () => {
    await expect(readParamsArg("{nope")).rejects.toMatchObject({ code: "bad_request", message: expect.stringContaining("--params is not valid JSON") });
    await expect(readParamsArg("@")).rejects.toThrow("--params @FILE needs a file name");
    await expect(readParamsArg(`@${dir}`)).rejects.toThrow("cannot read the file");
    await expect(readParamsArg("-", stdin(""))).rejects.toThrow("read nothing from stdin");
    await expect(readParamsArg("-", stdin("[1,"))).rejects.toThrow("--params from stdin is not valid JSON");
  });
});
