// Redis is transport and storage, not authority: with full write access to clawgate's Redis an
// attacker can deny, expire or cancel, but never release a waiting call or loosen the gate. Each
// attack below is made with plain Redis commands against the real gateway's Redis, then the
// gateway is asked what it does. The CLI decides only through serve, as the person of a token.
import { createPrivateKey, randomUUID } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../src/audit/log.ts";
import { rulesPayload } from "../src/trust/payloads.ts";
import { generateKey } from "../src/trust/keys.ts";
import { KeySigner } from "../src/trust/signature.ts";
import { fixture, REPO_ROOT, startGateway, type Gateway, type InvokeResult } from "./harness/gateway.ts";
import { pendingWatch } from "./harness/pending.ts";
import { clawgate, newAdminSecret, personEnv, startPrivateRedis, startServe, type ClawgateServe, type PrivateRedis } from "./harness/services.ts";

const TIMEOUT_S = 6;

describe("signed decisions: Redis write access releases nothing and loosens nothing", () => {
  let redis: PrivateRedis;
  let serve: ClawgateServe;
  let gw: Gateway;
  let db: Redis;
  let env: Record<string, string>;
  let adminEnv: Record<string, string>;
  let bare: Record<string, string>;
  const adminToken = newAdminSecret();
  const prefix = `e2e-sig-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-sig-"));
  const configPath = path.join(dir, "clawgate.yaml");
  // Shared by both gateway runs, so the restarted one finds what the first accepted.
  const stateDir = path.join(dir, "openclaw-state");
  const k = {
    approval: (id: string) => `{${prefix}}:approval:${id}`,
    pending: `{${prefix}}:pending`,
    decision: (id: string) => `{${prefix}}:decision:${id}`,
    decisions: `{${prefix}}:decisions`,
    rules: `{${prefix}}:rules`,
    history: `{${prefix}}:rules:history`,
    rulesChannel: `{${prefix}}:rules:changed`,
  };

  const exec = (command: string, opts = {}) => gw.invoke("e2e_exec", { command }, opts);
  const ask = (command: string): Promise<{ id: string; call: Promise<InvokeResult> }> => pendingWatch(db, prefix).ask(() => exec(command));
  /** Whether `call` is still waiting after `ms`. */
  async function stillWaiting(call: Promise<unknown>, ms: number): Promise<boolean> {
    return Promise.race([call.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);
  }
  /** What `redis-cli` as root can do to an approval: mark it approved and announce it. */
  async function forgeApproval(id: string, fields: Record<string, string> = {}): Promise<void> {
    const decided = { state: "approved", decision: "allow-once", decidedBy: "slack:U0BOSS", decidedVia: "slack", decisionReason: "", decidedAt: String(Date.now()), ...fields };
    await db.hset(k.approval(id), decided);
    await db.zrem(k.pending, id);
    const message = JSON.stringify({ id, state: "approved", decision: decided.decision, decidedBy: decided.decidedBy, decidedVia: decided.decidedVia, reason: "", decidedAt: Number(decided.decidedAt), sig: fields.sig ?? "" });
    await db.publish(k.decisions, message);
    await db.publish(k.decision(id), message);
  }
  const forgeryCount = async () => {
    const text = await (await fetch(`${serve.url}/metrics`)).text();
    return [...text.matchAll(/^clawgate_forgeries_total\{kind="(\w+)"\} (\d+)/gm)].reduce((n, m) => n + Number(m[2]), 0);
  };

  async function gateway(): Promise<Gateway> {
    return startGateway({
      plugins: [fixture("test-tools"), path.join(REPO_ROOT, "plugin")],
      pluginEntries: { "e2e-test-tools": { enabled: true }, clawgate: { enabled: true, config: { configPath } } },
      env: { REDIS_URL: redis.url, LOG_LEVEL: "warn", OPENCLAW_STATE_DIR: stateDir },
    });
  }

  beforeAll(async () => {
    redis = await startPrivateRedis();
    db = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    db.on("error", () => undefined);
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(
      configPath,
      [
        `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }`,
        "policy:",
        "  shellTools: [exec, bash, process, e2e_exec]",
        '  allow: ["e2e_exec(git status)", "e2e_exec(ls *)"]',
        '  ask:   ["e2e_exec(git push *)", "e2e_exec(deploy *)"]',
        '  deny:  ["e2e_exec(rm -rf *)"]',
        `approvals: { timeout: ${TIMEOUT_S}s }`,
        "log: { enabled: false }",
        `server: { apiToken: "${adminToken}" }`,
        "",
      ].join("\n"),
    );
    // serve makes its decision key in data/keys next to the config; the gateway, reading the same
    // config, trusts the public half found there (and only it).
    serve = await startServe(configPath, redis.url);
    gw = await gateway();
    bare = { REDIS_URL: redis.url, CLAWGATE_CONFIG: configPath, CLAWGATE_URL: serve.url, XDG_CONFIG_HOME: path.join(dir, "xdg") };
    env = await personEnv(serve, bare, adminToken, "alice");
    adminEnv = { ...bare, CLAWGATE_TOKEN: adminToken };
  });

  afterAll(async () => {
    db?.disconnect();
    await gw?.stop();
    await serve?.stop();
    await redis?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a genuine approval through serve still releases the call at once", async () => {
    const { id, call } = await ask("git push origin main");
    const r = await clawgate(["approve", id], env);
    expect(r.code, r.stderr).toBe(0);
    expect((await call).status).toBe(200);
    expect(await db.hget(k.approval(id), "decidedBy")).toBe("api:alice");
  });

  it("marking a record approved (and publishing it) releases nothing: the call waits out its deadline, blocked, and the forgery is audited and counted", async () => {
    const before = await forgeryCount();
    const { id, call } = await ask("deploy web");
    await forgeApproval(id);
    expect(await stillWaiting(call, 1_500)).toBe(true);
    const r = await call;
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain("without a valid signature was ignored");
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 200);
    await expect.poll(forgeryCount, { timeout: 5_000 }).toBeGreaterThan(before);
    const audit = new AuditLog(db, { prefix });
    await expect.poll(async () => (await audit.read({ limit: 200 })).some((e) => e.event.type === "forgery" && e.event.approvalId === id), { timeout: 5_000 }).toBe(true);
  });

  it("a published resolution alone releases nothing, and a genuine decision afterwards still does", async () => {
    const { id, call } = await ask("deploy api");
    const forged = JSON.stringify({ id, state: "approved", decision: "allow-once", decidedBy: "slack:U0BOSS", decidedVia: "slack", reason: "", decidedAt: Date.now() });
    await db.publish(k.decisions, forged);
    await db.publish(k.decision(id), forged);
    expect(await stillWaiting(call, 1_500)).toBe(true);
    expect((await clawgate(["approve", id], env)).code).toBe(0);
    expect((await call).status).toBe(200);
  });

  it("copying another approval's signed decision onto this one releases nothing", async () => {
    const first = await ask("git push origin a");
    expect((await clawgate(["approve", first.id], env)).code).toBe(0);
    expect((await first.call).status).toBe(200);
    const signed = await db.hgetall(k.approval(first.id));
    const { id, call } = await ask("git push origin b");
    const copied = { decision: signed.decision ?? "", decidedBy: signed.decidedBy ?? "", decidedVia: signed.decidedVia ?? "", decidedAt: signed.decidedAt ?? "", sig: `${signed.sig ?? ""}${signed["sig~1"] ?? ""}` };
    await forgeApproval(id, { ...copied, "sig~1": "" });
    expect(await stillWaiting(call, 1_500)).toBe(true);
    expect((await call).status).toBe(403);
  });

  it("an allow override or always-allow rule written to Redis — unsigned, re-signed by another key, or in the old keys — loosens nothing", async () => {
    expect((await clawgate(["policy", "set", "e2e_exec(git pull *)", "deny"], adminEnv)).code).toBe(0);
    const genuine = JSON.parse((await db.get(k.rules)) as string) as { v: number; at: number; by: string; overrides: Array<[string, string]>; always: string[]; sig: string };
    const loosened = { ...genuine, v: genuine.v + 1, overrides: [...genuine.overrides, ["e2e_exec(git push *)", "allow"]], always: ["e2e_exec(deploy *)"] };
    const mallory = generateKey();
    const signer = new KeySigner(mallory.info.id, "decision", createPrivateKey(mallory.privatePem));
    const resigned = { ...loosened, v: genuine.v + 2 };
    resigned.sig = signer.sign(rulesPayload({ prefix, version: resigned.v, at: resigned.at, by: resigned.by, overrides: resigned.overrides as Array<[string, string]>, always: resigned.always }));
    const attempts: Array<() => Promise<unknown>> = [
      () => db.set(k.rules, JSON.stringify(loosened)),
      () => db.set(k.rules, JSON.stringify(resigned)),
      () => db.hset(`{${prefix}}:rules:overrides`, "e2e_exec(git push *)", "allow").then(() => db.sadd(`{${prefix}}:rules:always`, "e2e_exec(deploy *)")),
    ];
    for (const attempt of attempts) {
      await attempt();
      await db.publish(k.rulesChannel, "rules");
      await new Promise((r) => setTimeout(r, 300));
      // Still asks (not allowed), and the genuine runtime deny still holds.
      const { id, call } = await ask("git push origin main");
      expect((await clawgate(["deny", id, "--reason", "checked"], env)).code).toBe(0);
      expect((await call).status).toBe(403);
      expect((await exec("git pull origin main")).status).toBe(403);
    }
    expect(gw.logs()).toContain("runtime rules refused");
    // The gateway put the genuine snapshot back over each forgery: nothing is left to repair.
    const listed = JSON.parse((await clawgate(["policy", "list", "--json"], adminEnv)).stdout);
    expect(listed).toMatchObject({ verified: true, overrides: { "e2e_exec(git pull *)": "deny" }, alwaysAllow: [] });
    const repair = await clawgate(["policy", "repair"], adminEnv);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toContain("nothing to repair");
  });

  it("an allow-always rule changed in Redis after the request was made is not honoured, and serve withdraws it", async () => {
    const { id, call } = await ask("deploy billing");
    const offered = await db.hget(k.approval(id), "alwaysAllowRule");
    expect(offered).toBe("e2e_exec(deploy billing)");
    // After the card went out, the attacker widens the rule a person will click "Always allow" on.
    await db.hset(k.approval(id), "alwaysAllowRule", "e2e_exec(*)");
    const r = await clawgate(["approve", id, "--always"], env);
    expect(r.code, r.stderr).toBe(0);
    // The gate offered another rule: this approval is not for its call.
    expect(await stillWaiting(call, 1_500)).toBe(true);
    // serve withdraws the rule the gate never offered, and audits it.
    await expect.poll(async () => JSON.parse((await clawgate(["policy", "list", "--json"], adminEnv)).stdout).alwaysAllow, { timeout: 5_000 }).not.toContain("e2e_exec(*)");
    const audit = new AuditLog(db, { prefix });
    await expect.poll(async () => (await audit.read({ limit: 500 })).some((e) => e.event.type === "rules.changed" && String(e.event.reason).includes("withdrawn")), { timeout: 5_000 }).toBe(true);
    expect((await call).status).toBe(403);
    // And it lets nothing through afterwards.
    const next = await ask("deploy payroll");
    expect((await clawgate(["deny", next.id, "--reason", "checked"], env)).code).toBe(0);
    expect((await next.call).status).toBe(403);
  });

  it("deleting a runtime deny, or replaying an older rule snapshot, loosens nothing — not even after the gateway restarts", async () => {
    expect((await clawgate(["policy", "set", "e2e_exec(ls /secret*)", "deny"], adminEnv)).code).toBe(0);
    await expect.poll(async () => (await exec("ls /secret/x")).status, { timeout: 2_000, interval: 50 }).toBe(403);
    const older = (await db.get(k.rules)) as string;
    expect((await clawgate(["policy", "set", "e2e_exec(ls /vault*)", "deny"], adminEnv)).code).toBe(0);
    await expect.poll(async () => (await exec("ls /vault/x")).status, { timeout: 2_000, interval: 50 }).toBe(403);

    // Replay the older snapshot (genuinely signed, but older than one the gate applied).
    await db.set(k.rules, older);
    await db.publish(k.rulesChannel, "rules");
    await new Promise((r) => setTimeout(r, 300));
    expect((await exec("ls /vault/x")).status).toBe(403);
    // Delete the rules and their history outright.
    await db.del(k.rules, k.history);
    await db.publish(k.rulesChannel, "rules");
    await new Promise((r) => setTimeout(r, 300));
    expect((await exec("ls /vault/x")).status).toBe(403);
    expect((await exec("ls /secret/x")).status).toBe(403);

    // A new gateway process: it remembers the newest rules it accepted.
    await gw.stop();
    gw = await gateway();
    expect((await exec("ls /vault/x")).status).toBe(403);
    expect((await exec("ls /secret/x")).status).toBe(403);
    expect((await exec("ls /tmp")).status).toBe(200);
    // The gates put the genuine rules back; the next genuine change builds on them, outranks
    // everything a gate saw, and drops none of the earlier denies.
    await expect.poll(async () => JSON.parse((await clawgate(["policy", "list", "--json"], adminEnv)).stdout).overrides, { timeout: 3_000 }).toMatchObject({ "e2e_exec(ls /vault*)": "deny" });
    expect((await clawgate(["policy", "set", "e2e_exec(ls /tmp*)", "deny"], adminEnv)).code).toBe(0);
    await expect.poll(async () => (await exec("ls /tmp")).status, { timeout: 2_000, interval: 50 }).toBe(403);
    expect((await exec("ls /vault/x")).status).toBe(403);
    expect((await exec("ls /secret/x")).status).toBe(403);
  });

  it("on the gateway's host without a token, `clawgate approve` in any spelling exits 5 and changes nothing; with one it decides as that person", async () => {
    const { id, call } = await ask("deploy worker");
    const bin = path.join(REPO_ROOT, "bin", "clawgate.js");
    const shim = path.join(dir, "bin");
    mkdirSync(shim, { recursive: true });
    writeFileSync(path.join(shim, "clawgate"), `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`, { mode: 0o755 });
    const shell = (line: string) => clawgate(["--version"], bare).then(() => runShell(line, { ...bare, PATH: `${shim}:${process.env.PATH}` }));
    const spellings = [
      `clawgate approve ${id}`,
      `clawgate approve ${id} --always`,
      `echo approve ${id} | xargs clawgate`,
      `V=approve; clawgate $V ${id}`,
      `CLAWGATE_ACTOR=alice clawgate approve ${id}`,
      `"${process.execPath}" "${bin}" approve ${id}`,
      `curl -s -X POST ${serve.url}/api/v1/approvals/${id}/decision -d '{"decision":"allow-once"}' | grep -q '"ok":true'`,
    ];
    for (const line of spellings) {
      const r = await shell(line);
      expect(r.code, `${line}: ${r.stderr}`).not.toBe(0);
      if (line.includes("clawgate") && !line.includes("xargs")) expect(r.code, line).toBe(5);
    }
    expect(await db.hget(k.approval(id), "state")).toBe("pending");
    expect(await stillWaiting(call, 200)).toBe(true);
    const ok = await clawgate(["approve", id], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("as api:alice");
    expect((await call).status).toBe(200);
  });
});

async function runShell(line: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const { spawn } = await import("node:child_process");
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", line], { env: { ...process.env, CLAWGATE_TOKEN: "", ...env, LOG_LEVEL: "silent" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
