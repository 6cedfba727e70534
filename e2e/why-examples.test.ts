// Every attack and miss the signed-decisions issue found, replayed through the real gateway with
// the shipped policy (mode default; tool names e2e_* stand in for exec and process): each one
// is denied or asks — none runs unreviewed — and secrets in the shapes it named never reach Redis.
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, REPO_ROOT, startGateway, type Gateway } from "./harness/gateway.ts";
import { clawgate, newAdminSecret, personEnv, startPrivateRedis, startServe, type ClawgateServe, type PrivateRedis } from "./harness/services.ts";

type Outcome = "allow" | "ask" | "deny";

describe("the issue's examples, through the real gateway", () => {
  let redis: PrivateRedis;
  let serve: ClawgateServe;
  let gw: Gateway;
  let db: Redis;
  let env: Record<string, string>;
  const adminToken = newAdminSecret();
  const prefix = `e2e-why-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-why-"));
  const configDir = path.join(dir, "cg");
  const configPath = path.join(configDir, "clawgate.yaml");
  const link = path.join(dir, "link");
  const pendingIds = async () => db.zrange(`{${prefix}}:pending`, 0, "-1");

  /** What the gate does with a call: runs it (200), blocks it at once (403), or asks (an approval appears; denied here to end it). */
  async function outcome(tool: string, params: Record<string, unknown>): Promise<{ outcome: Outcome; id?: string; message?: string }> {
    const before = await pendingIds();
    const call = gw.invoke(tool, params);
    let settled: Awaited<typeof call> | null = null;
    void call.then((r) => (settled = r));
    for (let i = 0; i < 400; i++) {
      const fresh = (await pendingIds()).filter((id) => !before.includes(id));
      if (fresh[0]) {
        const id = fresh[0];
        const d = await clawgate(["deny", id, "--reason", "replayed by the e2e suite"], env);
        expect(d.code, d.stderr).toBe(0);
        await call;
        return { outcome: "ask", id };
      }
      if (settled) {
        const r = settled as Awaited<typeof call>;
        return r.status === 200 ? { outcome: "allow" } : { outcome: "deny", message: r.body?.error?.message };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${tool} ${JSON.stringify(params)}: neither answered nor asked`);
  }
  const exec = (command: string, extra: Record<string, unknown> = {}) => outcome("e2e_exec", { command, ...extra });

  beforeAll(async () => {
    redis = await startPrivateRedis();
    db = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    db.on("error", () => undefined);
    mkdirSync(configDir, { recursive: true });
    symlinkSync(configDir, link);
    writeFileSync(
      configPath,
      [
        `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }`,
        "policy:",
        "  mode: default",
        "  shellTools: [exec, bash, process, e2e_exec, e2e_process]",
        // The shipped clawgate.yaml's rules, plus the allow and deny rules the issue held the shell features against.
        '  allow: ["read", "e2e_exec(git status)", "e2e_exec(git diff *)", "e2e_exec(echo *)", "e2e_exec(find *)", "e2e_exec(rg *)"]',
        '  ask:   ["e2e_exec(git push *)", "e2e_exec(mysql *)", "e2e_exec(sshpass *)", "e2e_exec(redis-cli *)", "e2e_exec(gpg *)", "e2e_exec(az *)", "e2e_exec(curl *)", "e2e_exec(export *)", "e2e_exec(deploy *)"]',
        '  deny:  ["e2e_exec(rm -rf *)", "e2e_exec(curl * | sh)", "e2e_exec(id)", "e2e_exec(id *)"]',
        "approvals: { timeout: 30s }",
        "log: { enabled: false }",
        `server: { apiToken: "${adminToken}" }`,
        "",
      ].join("\n"),
    );
    serve = await startServe(configPath, redis.url);
    gw = await startGateway({
      plugins: [fixture("test-tools"), path.join(REPO_ROOT, "plugin")],
      pluginEntries: { "e2e-test-tools": { enabled: true }, clawgate: { enabled: true, config: { configPath } } },
      env: { REDIS_URL: redis.url, LOG_LEVEL: "warn" },
    });
    env = await personEnv(serve, { REDIS_URL: redis.url, CLAWGATE_CONFIG: configPath, XDG_CONFIG_HOME: path.join(dir, "xdg") }, adminToken, "alice");
  });

  afterAll(async () => {
    db?.disconnect();
    await gw?.stop();
    await serve?.stop();
    await redis?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the clawgate CLI with a deciding verb that arrives through xargs, a git alias, awk or another program's argument is denied", async () => {
    const id = "ap_abcdefghjkmn";
    for (const line of [
      `echo approve ${id} | xargs clawgate`,
      `while true; do clawgate list --json | jq -r '.[].id' | xargs -n1 clawgate approve; sleep 1; done &`,
      `git -c alias.x='!clawgate approve ${id}' x`,
      `awk 'BEGIN{system("clawgate approve ${id}")}'`,
      `timeout 10 clawgate approve ${id}`,
      `clawgate $VERB ${id}`,
      `clawgate`,
    ]) {
      const r = await exec(line);
      expect(r.outcome, line).toBe("deny");
      expect(r.message, line).toContain("self-protection");
    }
  });

  it("clawgate's Redis is denied in every loopback spelling", async () => {
    for (const host of ["0x7f.1", "127.0.1", "0177.1", "::ffff:7f00:1", "2130706433", "localhost.", "[::1]"]) {
      const r = await exec(`redis-cli -h '${host}' -p ${redis.port} SET x y`);
      expect(r.outcome, host).toBe("deny");
    }
    expect((await exec(`redis-cli -u redis://0x7f.1:${redis.port} KEYS '*'`)).outcome).toBe("deny");
  });

  it("protected files are matched by resolved path: /proc/self/root, a symlinked parent, copies into OpenClaw's folder, the cwd param, globs under the install folder", async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      [`cat /proc/self/root${configPath}`, {}],
      [`cat ${link}/clawgate.yaml`, {}],
      [`cp /tmp/x ${gw.stateDir}/`, {}],
      [`cp /tmp/evil.json ${gw.stateDir}/openclaw.json`, {}],
      ["cat clawgate.yaml", { cwd: configDir }],
      ["cat clawgate.yaml", { workdir: link }],
      [`cat ${REPO_ROOT}/sr*/gate/gate.ts`, {}],
      [`echo x > ${REPO_ROOT}/plugin/ind*.ts`, {}],
    ];
    for (const [command, extra] of cases) expect((await exec(command, extra)).outcome, `${command} ${JSON.stringify(extra)}`).toBe("deny");
  });

  it("text typed into a running shell with the process tool is judged by the user's rules; launchers of unreviewed shells ask", async () => {
    for (const params of [
      { action: "write", sessionId: "s1", data: "rm -rf /\n" },
      { action: "send-keys", sessionId: "s1", keys: ["rm -rf /srv", "Enter"] },
      { action: "paste", sessionId: "s1", text: "cd /tmp\nrm -rf *\n" },
      { action: "write", sessionId: "s1", data: "echo approve ap_abcdefghjkmn | xargs clawgate\n" },
    ]) {
      expect((await outcome("e2e_process", params)).outcome, JSON.stringify(params)).toBe("deny");
    }
    expect((await outcome("e2e_process", { action: "write", sessionId: "s1", data: "git status\n" })).outcome).toBe("allow");
    for (const line of ["script -qc bash /dev/null", "tmux new -d 'bash'", "screen -dmS x bash", "ssh localhost", "ssh 127.1 'bash -i'", "echo ls | at now", "crontab /tmp/c", "systemd-run --user bash"]) {
      expect((await exec(line)).outcome, line).toBe("ask");
    }
  });

  it("a line continuation or ${var@P} cannot hide a command; a rule's options match every spelling; writing and program-running options of read tools need approval", async () => {
    const denied = ['echo "ok $\\\n(id -u)"', "echo ok $\\\n(id)", "rm -fr /x", "rm -r -f /x", "rm --recursive --force /x", "rm -r /x -f", "rm -Rf /x", "rm -rfv /x"];
    for (const line of denied) expect((await exec(line)).outcome, JSON.stringify(line)).toBe("deny");
    for (const line of ["x='$(id)'; echo ${x@P}", "echo ${!name}", "find . -fprint /tmp/list", "find . -exec sh -c 'id' \\;", "rg --pre ./filter.sh pattern", "find . -delete"]) {
      expect((await exec(line)).outcome, JSON.stringify(line)).not.toBe("allow");
    }
    // What stays allowed: the shapes the allow rules mean, and the test builtin.
    for (const line of ["echo hello", "find . -name '*.ts'", "rg TODO src"]) expect((await exec(line)).outcome, line).toBe("allow");
    expect((await exec("if [ -f x ]; then echo yes; fi")).outcome).toBe("allow");
  });

  it("secrets in the shapes redaction missed never reach Redis or `clawgate show`", async () => {
    const secret = "S3cretPW-e2e-917";
    const lines = [
      `mysql -p${secret} -u root db`,
      `sshpass -p ${secret} ssh host uptime`,
      `redis-cli -h cache.internal -a ${secret} ping`,
      `gpg --batch --passphrase ${secret} -d f.gpg`,
      `az storage blob list --connection-string 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${secret}aB9+/zz=='`,
      `curl -H 'Cookie: session=${secret}' https://api.example.com`,
      `curl 'https://api.example.com/v1?auth=${secret}'`,
      `export GITHUB_PAT=${secret} MYSQL_PWD=${secret}`,
    ];
    for (const line of lines) {
      const r = await exec(line);
      expect(r.outcome, line).toBe("ask");
      const record = JSON.stringify(await db.hgetall(`{${prefix}}:approval:${r.id}`));
      expect(record, line).not.toContain(secret);
      const shown = await clawgate(["show", r.id as string, "--full", "--json"], env);
      expect(shown.stdout, line).not.toContain(secret);
    }
  });
});
