import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { runCliInProcess as runCli } from "../helpers/cli-inprocess.ts";
import { newApproval } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { startTestServe, TEST_KEYS_YAML, type TestServe } from "../helpers/serve.ts";

let redis: Redis;
let prefix: string;
let store: ApprovalStore;
let env: Record<string, string>;
let dir: string;
let svc: TestServe;

beforeAll(async () => {
  redis = connect();
  prefix = uniquePrefix("actor");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  dir = mkdtempSync(join(tmpdir(), "cg-actor-"));
  const configPath = join(dir, "clawgate.yaml");
  writeFileSync(configPath, `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }\n${TEST_KEYS_YAML}\n`);
  svc = await startTestServe(configPath);
  env = { REDIS_URL, CLAWGATE_CONFIG: configPath, CLAWGATE_URL: svc.url, XDG_CONFIG_HOME: join(dir, "xdg") };
});
afterAll(async () => {
  await svc.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("who the CLI decides as", () => {
  it("the person of the token, whatever the environment claims (CLAWGATE_ACTOR, $USER) — never the OS user", async () => {
    const rec = await store.create(newApproval());
    const res = await runCli(["deny", rec.id, "--reason", "not now"], { ...env, ...(await svc.envAs("carol")), CLAWGATE_ACTOR: "release-bot", USER: "someone-else" });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("as api:carol");
    expect((await store.require(rec.id)).decidedBy).toBe("api:carol");
  });

  it("`clawgate login` checks the token with serve, keeps it mode 0600, and later commands use it", async () => {
    const secret = await svc.token("dave-laptop", "person", "dave");
    const login = await runCli(["login", svc.url, "--token", secret], { ...env, CLAWGATE_URL: "" });
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`logged in to ${svc.url} as api:dave`);
    const { statSync, readFileSync } = await import("node:fs");
    const file = join(dir, "xdg", "clawgate", "credentials.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toContain(secret);
    const rec = await store.create(newApproval());
    // No CLAWGATE_URL or token in the environment: the login's URL and token are used.
    const approve = await runCli(["approve", rec.id], { ...env, CLAWGATE_URL: "" });
    expect(approve.code).toBe(0);
    expect((await store.require(rec.id)).decidedBy).toBe("api:dave");
    const bad = await runCli(["login", svc.url, "--token", "cg_wrong"], { ...env, CLAWGATE_URL: "", XDG_CONFIG_HOME: join(dir, "xdg2") });
    expect(bad.code).toBe(5);
    const agent = await runCli(["login", svc.url, "--token", await svc.token("bot", "agent", "main")], { ...env, CLAWGATE_URL: "", XDG_CONFIG_HOME: join(dir, "xdg3") });
    expect(agent.code).toBe(5);
    expect(agent.stderr).toContain("agent token");
  });
});
