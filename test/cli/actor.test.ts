import { mkdtempSync, writeFileSync } from "node:fs";
import { hostname, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { runCliInProcess as runCli } from "../helpers/cli-inprocess.ts";
import { newApproval } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let prefix: string;
let store: ApprovalStore;
let env: Record<string, string>;

beforeAll(() => {
  redis = connect();
  prefix = uniquePrefix("actor");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  const configPath = join(mkdtempSync(join(tmpdir(), "cg-actor-")), "clawgate.yaml");
  writeFileSync(configPath, `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }\n`);
  env = { REDIS_URL, CLAWGATE_CONFIG: configPath, CLAWGATE_ACTOR: "", USER: "someone-else", LOGNAME: "someone-else" };
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("CLI decision identity", () => {
  it("records the OS user (from the uid, not $USER) and the host", async () => {
    const rec = await store.create(newApproval());
    const res = await runCli(["deny", rec.id, "--reason", "not now"], env);
    expect(res.code).toBe(0);
    const want = `cli:${userInfo().username}@${hostname()}`;
    expect(res.stdout).toContain(`as ${want}`);
    expect((await store.require(rec.id)).decidedBy).toBe(want);
  });

  it("uses CLAWGATE_ACTOR instead of user@host when it is set", async () => {
    const rec = await store.create(newApproval());
    expect((await runCli(["approve", rec.id], { ...env, CLAWGATE_ACTOR: "release-bot" })).code).toBe(0);
    expect((await store.require(rec.id)).decidedBy).toBe("cli:release-bot");
  });
});
