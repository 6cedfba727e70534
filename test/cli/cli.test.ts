import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Redis } from "ioredis";
import { AuditLog } from "../../src/audit/log.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { keys } from "../../src/approvals/keys.ts";
import { runsBundled } from "../../src/cli/argv.ts";
import { runCli } from "../helpers/cli.ts";
import { runCliInProcess as cli } from "../helpers/cli-inprocess.ts";
import { newApproval, savedAlwaysRules } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { startTestServe, TEST_KEYS_YAML, type TestServe } from "../helpers/serve.ts";

const execFileAsync = promisify(execFile);

let redis: Redis;
let prefix: string;
let store: ApprovalStore;
let configPath: string;
let env: Record<string, string>;
/** The same CLI environment with no credential anywhere (no token, no login, no local admin token). */
let bare: Record<string, string>;
let serve: TestServe;

beforeAll(async () => {
  redis = connect();
  prefix = uniquePrefix("cli");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  const dir = mkdtempSync(join(tmpdir(), "cg-cli-"));
  configPath = join(dir, "clawgate.yaml");
  writeFileSync(
    configPath,
    [
      `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }`,
      "policy:",
      '  allow: ["read", "exec(git status)", "exec(git diff *)"]',
      '  ask: ["exec(git push *)", "write(**/.env*)"]',
      '  deny: ["exec(rm -rf *)", "exec(curl * | sh)"]',
      "approvals: { timeout: 2m }",
      TEST_KEYS_YAML,
      "",
    ].join("\n"),
  );
  serve = await startTestServe(configPath);
  bare = { REDIS_URL, CLAWGATE_CONFIG: configPath, XDG_CONFIG_HOME: join(dir, "xdg"), CLAWGATE_URL: serve.url };
  // Deciding acts through serve as the token's person; an admin token may also change rules.
  env = { ...bare, ...(await serve.envAs("tester", "person")) };
});
afterAll(async () => {
  await serve.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("clawgate CLI", () => {
  it("lists, shows and approves a pending approval; a second decision says who decided", async () => {
    const rec = await store.create(newApproval());
    const list = await cli(["list"], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(rec.id);
    expect(list.stdout).toContain("pending");

    const show = await cli(["show", rec.id, "--json"], env);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: rec.id, state: "pending", rule: "exec(git push *)" });

    const approve = await cli(["approve", rec.id, "--reason", "looks fine"], env);
    expect(approve).toMatchObject({ code: 0 });
    expect(approve.stdout).toContain(`approved ${rec.id}`);
    expect((await store.require(rec.id)).decidedBy).toBe("api:tester");

    const again = await cli(["deny", rec.id, "--reason", "too late"], env);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain("already approved by api:tester via api");
    expect((await store.require(rec.id)).state).toBe("approved");
  });

  it("denies with a reason and saves allow-always rules", async () => {
    const a = await store.create(newApproval());
    const deny = await cli(["deny", a.id, "--reason", "change freeze"], env);
    expect(deny.code).toBe(0);
    expect(await store.require(a.id)).toMatchObject({ state: "denied", decisionReason: "change freeze" });
    const b = await store.create(newApproval());
    const always = await cli(["approve", b.id, "--always"], env);
    expect(always.code).toBe(0);
    expect(always.stdout).toContain("saved rule exec(git push origin main)");
    expect(await savedAlwaysRules(redis, prefix)).toContain("exec(git push origin main)");
  });

  it("without a credential, approve, deny, policy set|unset and token exit 5 and change nothing", async () => {
    const rec = await store.create(newApproval());
    const rulesBefore = await redis.get(keys(prefix).rules);
    const attempts = [
      ["approve", rec.id],
      ["approve", rec.id, "--always"],
      ["deny", rec.id, "--reason", "no"],
      ["policy", "set", "exec(*)", "allow"],
      ["policy", "unset", "exec(rm -rf *)"],
      ["policy", "repair"],
      ["token", "create", "mine", "--admin"],
      ["token", "list"],
      ["token", "revoke", "x"],
    ];
    for (const args of attempts) {
      const r = await cli(args, bare);
      expect(r.code, args.join(" ")).toBe(5);
      expect(r.stderr).toContain("no token was found");
    }
    expect((await store.require(rec.id)).state).toBe("pending");
    expect(await redis.get(keys(prefix).rules)).toBe(rulesBefore);
    // A token that is not one serve made authenticates nobody.
    const forged = await cli(["approve", rec.id], { ...bare, CLAWGATE_TOKEN: "cg_not-a-real-token" });
    expect(forged.code).toBe(5);
    expect(forged.stderr).toContain("invalid or revoked bearer token");
    expect((await store.require(rec.id)).state).toBe("pending");
  });

  it("refuses unknown ids, a deny without reason, and bad --state with clear messages and non-zero exits", async () => {
    const unknown = await cli(["approve", "ap_000000000000"], env);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no approval with id "ap_000000000000"');
    const noReason = await cli(["deny", "ap_000000000000"], env);
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toContain("--reason");
    const badState = await cli(["list", "--state", "weird"], env);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain("--state must be one of");
  });

  it("exits non-zero naming the key of an invalid config", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cg-cli-"));
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "approvals: { timeout: soon }\npolicy: { mode: yolo }\n");
    const r = await cli(["--config", bad, "list"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("approvals.timeout");
    expect(r.stderr).toContain("policy.mode");
  });

  it("policy test prints decision, rule, risk and why; --json is one object", async () => {
    const human = await cli(["policy", "test", "exec", "--params", '{"command":"git status && rm -rf /"}'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/decision: deny/);
    expect(human.stdout).toContain("exec(rm -rf *)");
    const json = await cli(["policy", "test", "exec", "--params", '{"command":"git push origin dev"}', "--json"], env);
    expect(json.code).toBe(0);
    const d = JSON.parse(json.stdout);
    expect(d).toMatchObject({ decision: "ask", rule: "exec(git push *)" });
    expect(d.risk).toMatchObject({ score: expect.any(Number), class: expect.any(String) });
    const badJson = await cli(["policy", "test", "exec", "--params", "{nope"], env);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("--params is not valid JSON");
  });

  it("policy set/unset change the runtime rules that policy test and gateways see (admin tokens only)", async () => {
    const person = await cli(["policy", "set", "exec(git status)", "deny"], env);
    expect(person.code).toBe(5);
    expect(person.stderr).toContain("needs an admin token");
    const admin = { ...bare, ...(await serve.envAs("ops", "admin")) };
    const set = await cli(["policy", "set", "exec(git status)", "deny"], admin);
    expect(set.code).toBe(0);
    const after = JSON.parse((await cli(["policy", "test", "exec", "--params", '{"command":"git status"}', "--json"], env)).stdout);
    expect(after).toMatchObject({ decision: "deny", rule: "exec(git status)" });
    const list = JSON.parse((await cli(["policy", "list", "--json"], env)).stdout);
    expect(list).toMatchObject({ verified: true, version: expect.any(Number), by: expect.stringMatching(/^api:admin:ops-/), overrides: { "exec(git status)": "deny" } });
    expect((await cli(["policy", "unset", "exec(git status)"], admin)).code).toBe(0);
    const back = JSON.parse((await cli(["policy", "test", "exec", "--params", '{"command":"git status"}', "--json"], env)).stdout);
    expect(back.decision).toBe("allow");
    const bad = await cli(["policy", "set", "exec(", "allow"], admin);
    expect(bad.code).toBe(2);
    const badDecision = await cli(["policy", "set", "exec(ls)", "maybe"], admin);
    expect(badDecision.code).toBe(2);
    const missing = await cli(["policy", "unset", "exec(never-set)"], admin);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no runtime override or allow-always rule "exec(never-set)"');
  });

  it("audit verify passes on a chain serve wrote and names where a tampered chain breaks", async () => {
    // Audit entries are appended by serve from the event stream; write a few as it would.
    const audit = new AuditLog(redis, { prefix });
    for (const reason of ["one", "two", "three"]) await audit.append({ type: "refusal", actor: "slack:U0X", reason });
    const ok = await cli(["audit", "verify"], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/audit log OK: \d+ entries/);
    const stream = `{${prefix}}:audit`;
    const [first] = await redis.xrange(stream, "-", "+", "COUNT", 2).then((e) => e.slice(1));
    expect(first).toBeDefined();
    await redis.xdel(stream, (first as [string, string[]])[0]);
    const broken = await cli(["audit", "verify"], env);
    expect(broken.code).toBe(7);
    expect(broken.stderr).toMatch(/audit log broken at entry \d+.*seq_gap/);
  });

  it("doctor validates config and probes Redis, saying which Redis and where its address came from", async () => {
    const r = await cli(["doctor"], env);
    expect(r.stdout).toContain("config: valid");
    expect(r.stdout).toContain(`redis: ${REDIS_URL} (from REDIS_URL): reachable, version`);
    expect(r.code).toBe(0);
    const down = await cli(["doctor"], { ...env, REDIS_URL: "redis://127.0.0.1:1" });
    expect(down.code).not.toBe(0);
    expect(down.stdout).toMatch(/✘ redis/);
    expect(down.stdout).toContain("fix:");
  });

  it("says clearly when Redis is unreachable", async () => {
    const r = await cli(["list"], { ...env, REDIS_URL: "redis://127.0.0.1:1" });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("cannot reach Redis");
  });

  it("show clips long params with a hint, and --full prints them whole", async () => {
    const long = "x".repeat(5_000);
    const rec = await store.create(newApproval({ params: { command: `echo ${long}` } }));
    const clipped = await cli(["show", rec.id], env);
    expect(clipped.code).toBe(0);
    expect(clipped.stdout).not.toContain(long);
    expect(clipped.stdout).toMatch(/params: {4}\{"command":"echo x+… \d+ more bytes, use --full to see everything/);
    const full = await cli(["show", rec.id, "--full"], env);
    expect(full.stdout).toContain(`"echo ${long}"`);
  });
});

describe("which Redis the CLI uses", () => {
  function configDir(yaml: string): { dir: string; config: string } {
    const dir = mkdtempSync(join(tmpdir(), "cg-cli-addr-"));
    writeFileSync(join(dir, "clawgate.yaml"), yaml);
    return { dir, config: join(dir, "clawgate.yaml") };
  }

  it("never falls back to 127.0.0.1:6379: with no address anywhere it says how to set one and exits 6", async () => {
    const { dir, config } = configDir(`redis: { url: "\${REDIS_URL}", prefix: ${prefix} }\n`);
    const r = await cli(["list"], { CLAWGATE_CONFIG: config, REDIS_URL: undefined });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("no Redis address: REDIS_URL is unset");
    expect(r.stderr).toContain(join(dir, "data", "redis.url"));
    const doctor = await cli(["doctor"], { CLAWGATE_CONFIG: config, REDIS_URL: undefined });
    expect(doctor.code).toBe(2);
    expect(doctor.stdout).toMatch(/✘ redis: no Redis address/);
  });

  it("finds the embedded Redis through the address file next to the config file, from any directory", async () => {
    const { dir, config } = configDir(`redis: { url: "\${REDIS_URL}", prefix: ${prefix} }\n`);
    mkdirSync(join(dir, "data"));
    // Stands in for `npm start`'s embedded instance: the address file is what the CLI reads.
    writeFileSync(join(dir, "data", "redis.url"), `${REDIS_URL}\n`);
    const rec = await store.create(newApproval());
    const list = await cli(["list"], { CLAWGATE_CONFIG: config, REDIS_URL: undefined });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(rec.id);
    const doctor = await cli(["doctor"], { CLAWGATE_CONFIG: config, REDIS_URL: undefined });
    expect(doctor.stdout).toContain(`redis: ${REDIS_URL} (from embedded:${join(dir, "data", "redis.url")}): reachable`);
  });
});

describe("the clawgate binary (process boundary)", () => {
  it("prints its package version, and maps errors to the documented exit codes on stderr", async () => {
    const version = await runCli(["--version"], env);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const unknown = await runCli(["approve", "ap_000000000000"], env);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('clawgate: no approval with id "ap_000000000000"');
    const down = await runCli(["list"], { ...env, REDIS_URL: "redis://127.0.0.1:1" });
    expect(down.code).toBe(6);
    expect(down.stderr).toContain("cannot reach Redis at redis://127.0.0.1:1 (from REDIS_URL)");
    const usage = await runCli(["list", "--nope"], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("unknown option '--nope'");
  });

  it("runs every command but serve and doctor from the CLI bundle, which answers as the compiled modules do", async () => {
    expect([["list"], ["-c", "x.yaml", "approve", "ap_1"], ["--version"], ["policy", "test"], []].map(runsBundled)).toEqual([true, true, true, true, true]);
    expect([["serve"], ["-c", "x.yaml", "serve"], ["doctor"], ["--", "serve"]].map(runsBundled)).toEqual([false, false, false, false]);
    // What bin/clawgate.js loads either way; --help loads every command's module.
    const [bundle, compiled] = ["../../dist/cli/main.js", "../../dist/src/cli/main.js"].map((p) => new URL(p, import.meta.url).href) as [string, string];
    const run = (entry: string, args: string[]) =>
      execFileAsync(process.execPath, ["--input-type=module", "-e", `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(["node", "clawgate", ...${JSON.stringify(args)}]);`], {
        env: { ...process.env, ...env, LOG_LEVEL: "silent" },
      });
    for (const args of [["--help"], ["policy", "test", "exec", "--offline", "--json", "--params", '{"command":"if true; then git push; fi; echo `id`"}']]) {
      const [fromBundle, fromModules] = await Promise.all([run(bundle, args), run(compiled, args)]);
      expect(fromBundle.stdout.length).toBeGreaterThan(100);
      expect(fromBundle.stdout).toBe(fromModules.stdout);
    }
    // Both find the package they run from, so self-protection guards clawgate's own code there too.
    const own = fileURLToPath(new URL("../../src/gate/gate.ts", import.meta.url));
    for (const entry of [bundle, compiled]) {
      const out = await run(entry, ["policy", "test", "write", "--offline", "--json", "--params", JSON.stringify({ path: own })]);
      expect(JSON.parse(out.stdout)).toMatchObject({ decision: "deny", rule: "builtin:self-protection" });
    }
  });
});
