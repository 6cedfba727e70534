import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeSlack, type FakeSlack } from "../fakes/slack.ts";
import { runCliInProcess as cli } from "../helpers/cli-inprocess.ts";
import { REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

let slack: FakeSlack;
const prefix = uniquePrefix("doctor");

beforeAll(async () => {
  slack = await startFakeSlack({
    users: { U0ALICE: { name: "alice" }, U0BOB: { name: "bob" }, U0GONE: { name: "gone", deleted: true } },
    userGroups: { S0ONCALL: ["U0BOB"] },
    channels: {
      C0APPROVALS: { name: "approvals", is_member: true },
      C0ELSEWHERE: { name: "general", is_member: false },
      G0SECRET: { name: "secret-ops", is_private: true, is_member: false },
    },
  });
});
afterAll(() => slack.close());

function doctor(slackBlock: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), "cg-doctor-"));
  const config = join(dir, "clawgate.yaml");
  const block = { botToken: slack.botToken, signingSecret: "s3cret", apiUrl: slack.apiUrl, ...slackBlock };
  writeFileSync(config, `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }\nslack: ${JSON.stringify(block)}\nserver: { apiToken: t0k3n-0123456789 }\n`);
  return cli(["doctor"], { CLAWGATE_CONFIG: config, REDIS_URL });
}

describe("clawgate doctor: Slack", () => {
  it("is green when the bot is in the channel and every approver exists", async () => {
    const r = await doctor({ channel: "C0APPROVALS", approvers: { users: ["U0ALICE"], userGroups: ["S0ONCALL"] } });
    expect(r.stdout).toContain("✔ slack: auth.test ok");
    expect(r.stdout).toContain("✔ slack channel: the bot is a member of #approvals (C0APPROVALS)");
    expect(r.stdout).toContain("✔ slack approvers: 1 user(s) and 1 group(s) exist");
    expect(r.code).toBe(0);
    const info = slack.callsTo("conversations.info").at(-1);
    expect(info?.args).toMatchObject({ channel: "C0APPROVALS" });
    expect(info?.token).toBe(slack.botToken);
  });

  it("says how to invite the bot when it is not in the channel, and which approver ids are wrong", async () => {
    const r = await doctor({ channel: "C0ELSEWHERE", approvers: { users: ["U0ALICE", "U0NOBODY", "U0GONE"], userGroups: ["S0MISSING"] } });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("✘ slack channel: the bot is not a member of #general (C0ELSEWHERE)");
    expect(r.stdout).toContain("fix: in Slack, run /invite @<your app> in #general");
    expect(r.stdout).toContain("✘ slack approvers: user U0NOBODY does not exist in this workspace; user U0GONE is deactivated (gone); user group S0MISSING: does not exist");
  });

  it("reports a private channel without the bot as not found, and a DM target by its user", async () => {
    const hidden = await doctor({ channel: "G0SECRET", approvers: { users: ["U0ALICE"] } });
    expect(hidden.stdout).toMatch(/✘ slack channel: G0SECRET not found \(or private without the bot in it\)/);
    const dm = await doctor({ channel: "U0ALICE", approvers: { users: ["U0ALICE"] } });
    expect(dm.stdout).toContain("✔ slack channel: requests go to a DM with U0ALICE");
    const ghost = await doctor({ channel: "U0NOBODY", approvers: { users: ["U0ALICE"] } });
    expect(ghost.stdout).toContain("✘ slack channel: slack.channel is a user id for DMs, but U0NOBODY does not exist in this workspace");
  });

  it("warns (does not fail) when the token lacks the scopes to look, and stops at a refused token", async () => {
    slack.failNext("conversations.info", [{ error: "missing_scope" }]);
    const scoped = await doctor({ channel: "C0APPROVALS", approvers: { users: ["U0ALICE"] } });
    expect(scoped.stdout).toContain("! slack channel: cannot check membership of C0APPROVALS: missing_scope");
    expect(scoped.stdout).toContain("fix: add the channels:read, groups:read and users:read scopes");
    expect(scoped.code).toBe(0);
    const before = slack.callsTo("conversations.info").length;
    const refused = await doctor({ channel: "C0APPROVALS", botToken: "xoxb-wrong", approvers: { users: ["U0ALICE"] } });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain("✘ slack: auth.test: invalid_auth");
    expect(slack.callsTo("conversations.info").length).toBe(before);
  });
});

describe("clawgate doctor: isolation", () => {
  function configIn(dir: string, extra = ""): string {
    const config = join(dir, "clawgate.yaml");
    writeFileSync(config, `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }\n${extra}`);
    return config;
  }

  it("finds serve's decision key, refuses one others can read, and one a gateway's config can load", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cg-doctor-keys-"));
    const config = configIn(dir);
    const made = await cli(["keys", "create", "--json"], { CLAWGATE_CONFIG: config });
    expect(made.code, made.stderr).toBe(0);
    const key = JSON.parse(made.stdout) as { id: string; keyPath: string; publicKey: string };
    const ok = await cli(["doctor"], { CLAWGATE_CONFIG: config, REDIS_URL });
    expect(ok.stdout).toContain(`✔ decision key: serve signs with ${key.id}`);
    expect(ok.stdout).toContain(`! trusted keys: 1 trusted: ${key.id} (decision) from the .pub files`);
    chmodSync(key.keyPath, 0o644);
    const loose = await cli(["doctor"], { CLAWGATE_CONFIG: config, REDIS_URL });
    expect(loose.code).toBe(2);
    expect(loose.stdout).toContain("✘ decision key:");
    expect(loose.stdout).toContain(`fix: chmod 600 ${key.keyPath}`);
    const gateway = await cli(["doctor", "--gateway"], { CLAWGATE_CONFIG: config, REDIS_URL });
    expect(gateway.code).toBe(2);
    expect(gateway.stdout).toContain(`✘ decision key: this gateway's config can load serve's decision key ${key.id}`);
    // A gateway configured as documented: only the public key, inline.
    const gwDir = mkdtempSync(join(tmpdir(), "cg-doctor-gw-"));
    const gwConfig = configIn(gwDir, `keys: { trusted: ["${key.publicKey}"] }\n`);
    const clean = await cli(["doctor", "--gateway"], { CLAWGATE_CONFIG: gwConfig, REDIS_URL });
    expect(clean.stdout).toContain("✔ decision key: this gateway holds no decision key");
    expect(clean.stdout).toContain(`✔ trusted keys: 1 trusted: ${key.id} (decision) from keys.trusted`);
  });

  it("says when Redis answers without a password, and is quiet when it demands one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cg-doctor-auth-"));
    const open = await cli(["doctor"], { CLAWGATE_CONFIG: configIn(dir), REDIS_URL });
    expect(open.stdout).toContain("! redis auth: Redis answers without a password");
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", "doctor-pw"], { stdio: "ignore" });
    try {
      const url = `redis://:doctor-pw@127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        const r = await cli(["doctor"], { CLAWGATE_CONFIG: configIn(dir), REDIS_URL: url });
        if (r.stdout.includes("✔ redis:")) {
          expect(r.stdout).toContain("✔ redis auth: Redis refuses clients without a password");
          return;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error("the password-protected redis-server did not come up");
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("checks where OpenClaw runs the agent's commands", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cg-doctor-oc-"));
    const config = configIn(dir);
    const cases: Array<[object, string]> = [
      [{ gateway: { mode: "local" } }, "! openclaw exec:"],
      [{ tools: { exec: { host: "gateway" } }, agents: { defaults: { sandbox: { mode: "all" } } } }, "! openclaw exec:"],
      [{ agents: { defaults: { sandbox: { mode: "all" } } } }, "✔ openclaw exec: "],
      [{ tools: { exec: { host: "node" } } }, "✔ openclaw exec: "],
    ];
    for (const [oc, want] of cases) {
      const file = join(dir, "openclaw.json");
      writeFileSync(file, JSON.stringify(oc));
      const r = await cli(["doctor", "--openclaw-config", file], { CLAWGATE_CONFIG: config, REDIS_URL });
      expect(r.stdout, JSON.stringify(oc)).toContain(want);
    }
  });
});

describe("clawgate doctor: email replies", () => {
  function doctorEmail(inbound: Record<string, unknown>) {
    const dir = mkdtempSync(join(tmpdir(), "cg-doctor-"));
    const config = join(dir, "clawgate.yaml");
    const email = { from: "clawgate <approvals@example.test>", replyDomain: "example.test", smtp: { host: "127.0.0.1", port: 9 }, approvers: ["alice@example.test"], inbound };
    writeFileSync(config, `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }\nemail: ${JSON.stringify(email)}\nserver: { apiToken: t0k3n-0123456789 }\n`);
    return cli(["doctor"], { CLAWGATE_CONFIG: config, REDIS_URL });
  }

  it("says DMARC is required on every inbound path by default, and warns while requireAuth is false", async () => {
    const on = await doctorEmail({ webhook: { secret: "webhook-secret-0123456789" } });
    expect(on.stdout).toContain("✔ email replies: replies must pass DMARC on every inbound path (SMTP listener, IMAP, webhook)");
    const off = await doctorEmail({ webhook: { secret: "webhook-secret-0123456789" }, requireAuth: false });
    expect(off.stdout).toContain("! email replies: email.inbound.requireAuth is false: replies decide without DMARC");
    expect(off.stdout).toContain("fix: remove it (DMARC is required by default)");
  });
});
