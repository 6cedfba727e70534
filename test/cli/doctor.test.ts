import { mkdtempSync, writeFileSync } from "node:fs";
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
