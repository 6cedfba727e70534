// On-call escalation end to end: the real OpenClaw gateway with clawgate's plugin, a private
// Redis, `clawgate serve` (the real binary) and the Slack fake. Nobody answers tier 1 → tier 2
// DMs whoever is on call → they click Approve in the DM → the waiting tool call returns 200.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, REPO_ROOT, startGateway, type Gateway } from "./harness/gateway.ts";
import { clawgate, startPrivateRedis, startServe, type ClawgateServe, type PrivateRedis } from "./harness/services.ts";
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from "../test/fakes/slack.ts";
import { clickButton, interactionBody, signSlackRequest } from "../test/fakes/slack-signing.ts";

const SLACK_SECRET = "e2e-slack-signing-secret-0123456789";
const SLACK_IDS: Record<string, string> = { alice: "U0ALICE", bob: "U0BOB" };

describe("on-call escalation through a real OpenClaw gateway", () => {
  let redis: PrivateRedis;
  let serve: ClawgateServe;
  let gw: Gateway;
  let db: Redis;
  let slack: FakeSlack;
  let env: Record<string, string>;
  const prefix = `e2e-oncall-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-oncall-"));
  const configPath = path.join(dir, "clawgate.yaml");

  beforeAll(async () => {
    redis = await startPrivateRedis();
    slack = await startFakeSlack();
    db = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    db.on("error", () => undefined);
    const slackEnv = { SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: SLACK_SECRET };
    env = { REDIS_URL: redis.url, CLAWGATE_CONFIG: configPath, ...slackEnv };
    // The config, with second-scale delays; only carol is a Slack approver.
    writeFileSync(
      configPath,
      [
        `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }`,
        "policy:",
        "  shellTools: [exec, bash, process, e2e_exec]",
        '  ask: ["e2e_exec(git push *)"]',
        "approvals: { timeout: 40s }",
        "slack:",
        '  botToken: "${SLACK_BOT_TOKEN}"',
        '  signingSecret: "${SLACK_SIGNING_SECRET}"',
        '  channel: "C0APPROVALS"',
        '  approvers: { users: ["U0CAROL"] }',
        `  apiUrl: "${slack.apiUrl}"`,
        "people:",
        '  alice: { slack: "U0ALICE", email: "alice@example.test" }',
        '  bob:   { slack: "U0BOB",   email: "bob@example.test" }',
        "oncall:",
        "  schedules:",
        '    primary: { timezone: "Europe/Berlin", rotation: weekly, handoff: "Mon 09:00", members: [alice, bob] }',
        "escalation:",
        "  chains:",
        "    default:",
        '      - { after: 0s, notify: ["slack:C0APPROVALS"] }',
        '      - { after: 3s, notify: ["oncall:primary"] }',
        '      - { after: 60s, notify: ["email:eng-leads@example.test"] }',
        "",
      ].join("\n"),
    );
    serve = await startServe(configPath, redis.url, slackEnv);
    gw = await startGateway({
      plugins: [fixture("test-tools"), path.join(REPO_ROOT, "plugin")],
      pluginEntries: { "e2e-test-tools": { enabled: true }, clawgate: { enabled: true, config: { configPath } } },
      env: { REDIS_URL: redis.url, LOG_LEVEL: "warn" },
      // Other suites share this 2-core machine; give the gateway room to start.
      readyTimeoutMs: 180_000,
    });
  });

  afterAll(async () => {
    db?.disconnect();
    await gw?.stop();
    await serve?.stop();
    await redis?.destroy();
    await slack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("nobody answers tier 1 → tier 2 DMs the on-call person → their Approve click returns 200", async () => {
    const who = await clawgate(["oncall", "who", "--schedule", "primary", "--json"], env);
    expect(who.code, who.stderr).toBe(0);
    const person = (JSON.parse(who.stdout) as { person: string }).person;
    const user = SLACK_IDS[person] as string;
    expect(user).toBeDefined();

    const call = gw.invoke("e2e_exec", { command: "git push origin main" });
    const first = await slack.waitFor("chat.postMessage", (c) => c.args.channel === "C0APPROVALS" && !c.args.thread_ts, 20_000);
    const id = /ap_[0-9a-z]{12}/.exec(String(first.args.text))?.[0] as string;
    expect(id).toBeDefined();
    const createdAt = first.at;

    await slack.waitFor("conversations.open", (c) => c.args.users === user, 20_000);
    const dm = await slack.waitFor("chat.postMessage", (c) => String(c.args.channel).startsWith("D") && String(c.args.text).includes(id), 10_000);
    expect(dm.at - createdAt).toBeGreaterThanOrEqual(2_500);
    const note = await slack.waitFor("chat.postMessage", (c) => c.args.channel === "C0APPROVALS" && c.args.thread_ts !== undefined, 10_000);
    expect(String(note.args.text)).toContain(`Escalated to ${person} (on call for primary)`);

    const card = [...slack.messages.values()].find((m) => m.channel === dm.args.channel && JSON.stringify(m.blocks).includes(id)) as FakeSlackMessage;
    const body = interactionBody(clickButton(card, "clawgate_approve", { userId: user, responseUrl: slack.responseUrl(`e2e-oncall-${id}`) }));
    const res = await fetch(`${serve.url}/slack/events`, { method: "POST", headers: { ...signSlackRequest(SLACK_SECRET, body) }, body });
    expect(res.status).toBe(200);
    const r = await call;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const shown = JSON.parse((await clawgate(["show", id, "--json"], env)).stdout) as { state: string; decidedBy: string };
    expect(shown).toMatchObject({ state: "approved", decidedBy: `slack:${user}` });
    // Every card (channel and DM) is edited once the call is decided.
    await expect.poll(() => slack.callsTo("chat.update").length, { timeout: 10_000 }).toBe(2);
  });
});
