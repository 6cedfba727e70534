import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { runCliInProcess as runCli } from "../helpers/cli-inprocess.ts";
import { silentLog, testSigner } from "../helpers/fixtures.ts";
import { TEST_KEYS_YAML } from "../helpers/serve.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let dir: string;
let env: Record<string, string>;
/** The same, with the shortest approval timeout the config allows (the timed-out case). */
let shortTimeoutEnv: Record<string, string>;
let prefix: string;
let service: ApprovalService;

async function pendingId(): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const [id] = await redis.zrange(keys(prefix).pending, "0", "0");
    if (id) return id;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("no approval was created");
}

beforeAll(() => {
  redis = connect();
  prefix = uniquePrefix("req");
  dir = mkdtempSync(join(tmpdir(), "cg-req-"));
  const config = join(dir, "clawgate.yaml");
  writeFileSync(config, `redis: { prefix: ${prefix} }\npolicy: { ask: ["exec(deploy *)"], deny: ["exec(rm -rf *)"] }\napprovals: { timeout: 4s }\n${TEST_KEYS_YAML}\n`);
  env = { CLAWGATE_CONFIG: config, REDIS_URL };
  const short = join(dir, "short-timeout.yaml");
  writeFileSync(short, `redis: { prefix: ${prefix} }\npolicy: { ask: ["exec(deploy *)"] }\napprovals: { timeout: 1s }\n${TEST_KEYS_YAML}\n`);
  shortTimeoutEnv = { ...env, CLAWGATE_CONFIG: short };
  service = new ApprovalService(new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 }), silentLog, testSigner);
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

describe("clawgate request (an ask without OpenClaw)", () => {
  it("answers policy allow and deny at once with exits 0 and 1", async () => {
    expect((await runCli(["request", "exec", "--params", '{"command":"ls"}'], env)).code).toBe(0);
    const denied = await runCli(["request", "exec", "--params", '{"command":"rm -rf /"}'], env);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('denied by policy rule "exec(rm -rf *)"');
  });

  it("--wait: the two-terminal loop — approved exits 0, denied exits 1 with the reason, timed out exits 2", async () => {
    const paramsFile = join(dir, "params.json");
    writeFileSync(paramsFile, '{"command":"deploy web"}');
    const approved = runCli(["request", "exec", "--params", `@${paramsFile}`, "--agent", "ci", "--wait"], env);
    const a = await pendingId();
    await service.decide({ id: a, decision: "allow-once", actor: "cli:other@host", via: "cli" });
    const r1 = await approved;
    expect(r1.code).toBe(0);
    expect(r1.stdout).toContain(`${a} approved by cli:other@host via cli`);

    const denied = runCli(["request", "exec", "--params", '{"command":"deploy api"}', "--wait", "--json"], env);
    const d = await pendingId();
    await service.decide({ id: d, decision: "deny", actor: "cli:other@host", via: "cli", reason: "not now" });
    const r2 = await denied;
    expect(r2.code).toBe(1);
    expect(JSON.parse(r2.stdout)).toMatchObject({ id: d, state: "denied", reason: "not now" });

    const r3 = await runCli(["request", "exec", "--params", '{"command":"deploy db"}', "--wait"], shortTimeoutEnv);
    expect(r3.code).toBe(2);
    expect(r3.stdout).toContain("timed out");
  });

  it("--wait is not released by an approval written into Redis without serve's signature", async () => {
    const waiting = runCli(["request", "exec", "--params", '{"command":"deploy forged"}', "--wait", "--json"], shortTimeoutEnv);
    const id = await pendingId();
    const k = keys(prefix);
    // What an attacker with Redis write access can do: mark it approved and announce it.
    await redis.hset(k.approval(id), { state: "approved", decision: "allow-once", decidedBy: "slack:U0BOSS", decidedVia: "slack", decidedAt: String(Date.now()) });
    await redis.zrem(k.pending, id);
    await redis.publish(k.decisions, JSON.stringify({ id, state: "approved", decision: "allow-once", decidedBy: "slack:U0BOSS", decidedVia: "slack", reason: "", decidedAt: Date.now() }));
    const r = await waiting;
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ id, state: "denied" });
    expect(JSON.parse(r.stdout).reason).toContain("without a valid signature");
  });
});
