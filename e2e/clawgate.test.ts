// clawgate end to end: the real OpenClaw gateway with clawgate's plugin, a private Redis,
// `clawgate serve` and the `clawgate` CLI as users run them.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, REPO_ROOT, startGateway, type Gateway, type InvokeResult } from "./harness/gateway.ts";
import { pendingWatch } from "./harness/pending.ts";
import { clawgate, newAdminSecret, personEnv, startPrivateRedis, startServe, type ClawgateServe, type PrivateRedis } from "./harness/services.ts";
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from "../test/fakes/slack.ts";
import { clickButton, interactionBody, signSlackRequest, viewSubmissionPayload } from "../test/fakes/slack-signing.ts";

const TIMEOUT_S = 8;
const SLACK_SECRET = "e2e-slack-signing-secret-0123456789";

describe("clawgate in a real OpenClaw gateway", () => {
  let redis: PrivateRedis;
  let serve: ClawgateServe;
  let gw: Gateway;
  let db: Redis;
  let slack: FakeSlack;
  let env: Record<string, string>;
  let adminEnv: Record<string, string>;
  const adminToken = newAdminSecret();
  const prefix = `e2e-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-cfg-"));
  const configPath = path.join(dir, "clawgate.yaml");

  const exec = (command: string, opts = {}) => gw.invoke("e2e_exec", { command }, opts);
  const pendingIds = async () => pendingWatch(db, prefix).ids();
  const nextPendingId = (before: string[], call: Promise<unknown>) => pendingWatch(db, prefix).next(before, call);

  beforeAll(async () => {
    redis = await startPrivateRedis();
    slack = await startFakeSlack();
    db = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    db.on("error", () => undefined);
    // The Slack block is the issue's, as it is: secrets come from the environment.
    const slackEnv = { SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: SLACK_SECRET };
    const base = { REDIS_URL: redis.url, CLAWGATE_CONFIG: configPath, XDG_CONFIG_HOME: path.join(dir, "xdg"), ...slackEnv };
    writeFileSync(
      configPath,
      [
        `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }`,
        "policy:",
        "  mode: default",
        "  shellTools: [exec, bash, process, e2e_exec]",
        '  allow: ["read", "e2e_exec(git status)", "e2e_exec(git diff *)"]',
        '  ask:   ["e2e_exec(git push *)", "e2e_exec(deploy *)"]',
        '  deny:  ["e2e_exec(rm -rf *)", "e2e_exec(curl * | sh)"]',
        `approvals: { timeout: ${TIMEOUT_S}s, chatApprovers: { owner: true, senders: ["webchat:cli"] } }`,
        "slack:",
        '  botToken: "${SLACK_BOT_TOKEN}"',
        '  signingSecret: "${SLACK_SIGNING_SECRET}"',
        '  channel: "C0APPROVALS"',
        '  approvers: { users: ["U0ALICE"], userGroups: [] }',
        `  apiUrl: "${slack.apiUrl}"`,
        `server: { apiToken: "${adminToken}" }`,
        "",
      ].join("\n"),
    );
    serve = await startServe(configPath, redis.url, slackEnv);
    // The CLI decides through serve as the person of a token; rule changes need an admin token.
    env = await personEnv(serve, base, adminToken, "e2e-operator");
    adminEnv = { ...env, CLAWGATE_TOKEN: adminToken };
    gw = await startGateway({
      plugins: [fixture("test-tools"), path.join(REPO_ROOT, "plugin")],
      pluginEntries: {
        "e2e-test-tools": { enabled: true },
        clawgate: { enabled: true, config: { configPath } },
      },
      // No SLACK_* here: the gateway reads only redis/policy/approvals; serve does the notifying.
      env: { REDIS_URL: redis.url, LOG_LEVEL: "warn" },
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

  it("allows an allowed call with no Redis command from the gateway on its path", async () => {
    const clients = (await db.client("LIST")) as string;
    const gateAddrs = clients
      .split("\n")
      .filter((l) => /name=clawgate-gate/.test(l))
      .map((l) => /addr=(\S+)/.exec(l)?.[1])
      .filter(Boolean) as string[];
    expect(gateAddrs.length).toBeGreaterThan(0);
    const monitor = new Redis(redis.url);
    const seen: string[] = [];
    monitor.on("error", () => undefined);
    const m = await monitor.monitor();
    m.on("monitor", (_time: string, args: string[], source: string) => seen.push(`${source} ${args.join(" ")}`));
    const r = await exec("git status");
    await new Promise((res) => setTimeout(res, 300));
    m.disconnect();
    monitor.disconnect();
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.result.details).toMatchObject({ wouldRun: "git status", executed: false });
    expect(seen.filter((line) => gateAddrs.some((a) => line.startsWith(a)))).toEqual([]);
  });

  it("denies a denied call with 403 naming the rule, obfuscated or not", async () => {
    for (const command of ["rm -rf /tmp/x", "git status; /bin/rm -rf /tmp/x", "echo $(rm -rf /tmp/x)"]) {
      const r = await exec(command);
      expect(r.status, command).toBe(403);
      expect(r.body.error.message).toContain('rule "e2e_exec(rm -rf *)"');
    }
  });

  it("an ask waits, shows in `clawgate list`, and `clawgate approve` makes it return 200 within a second", async () => {
    const before = await pendingIds();
    const call = exec("git push origin main");
    const id = await nextPendingId(before, call);
    const listed = await clawgate(["list"], env);
    expect(listed.stdout).toContain(id);
    const show = JSON.parse((await clawgate(["show", id, "--json"], env)).stdout);
    expect(show).toMatchObject({ tool: "e2e_exec", state: "pending", rule: "e2e_exec(git push *)", agentId: "main" });
    const approved = await clawgate(["approve", id], env);
    expect(approved.code, approved.stderr).toBe(0);
    const approvedAt = Date.now();
    const r: InvokeResult = await call;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Date.now() - approvedAt).toBeLessThan(1_000);
    // The log channel of `clawgate serve` printed the request and the outcome.
    await expect.poll(() => serve.stdout(), { timeout: 5_000 }).toContain(`${id} approved by api:e2e-operator via api`);
    expect(serve.stdout()).toContain(`Approval needed: ${id}`);
  });

  it("`clawgate deny --reason` blocks with 403 carrying the reason", async () => {
    const before = await pendingIds();
    const call = exec("deploy web --prod");
    const id = await nextPendingId(before, call);
    expect((await clawgate(["deny", id, "--reason", "change freeze"], env)).code).toBe(0);
    const r = await call;
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain("change freeze");
    expect(r.body.error.message).toContain(id);
    expect(r.body.error.message).toContain("denied by api:e2e-operator via api");
    const late = await clawgate(["approve", id], env);
    expect(late.code).toBe(4);
    expect(late.stderr).toContain("already denied by api:e2e-operator");
  });

  it("no decision → 403 'timed out' at the deadline", async () => {
    const r = await exec("deploy api");
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/timed out after 8s/);
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 100);
  });

  it("`clawgate policy set` changes the next decision of the running gateway, and unset restores it", async () => {
    expect((await clawgate(["policy", "set", "e2e_exec(git status)", "deny"], adminEnv)).code).toBe(0);
    await expect.poll(async () => (await exec("git status")).status, { timeout: 1_000, interval: 50 }).toBe(403);
    expect((await exec("git status")).body.error.message).toContain("e2e_exec(git status)");
    expect((await clawgate(["policy", "unset", "e2e_exec(git status)"], adminEnv)).code).toBe(0);
    await expect.poll(async () => (await exec("git status")).status, { timeout: 1_000, interval: 50 }).toBe(200);
  });

  it("approve --always saves the rule: the identical call then runs without asking", async () => {
    const before = await pendingIds();
    const call = exec("deploy worker --canary");
    const id = await nextPendingId(before, call);
    expect((await clawgate(["approve", id, "--always"], env)).code).toBe(0);
    expect((await call).status).toBe(200);
    const again = await exec("deploy worker --canary");
    expect(again.status).toBe(200);
    expect(await pendingIds()).toEqual([]);
    expect(JSON.parse((await clawgate(["policy", "list", "--json"], env)).stdout).alwaysAllow).toContain("e2e_exec(deploy worker --canary)");
  });

  it("a client that disconnects cancels its approval", async () => {
    const before = await pendingIds();
    const call = exec("deploy db", { timeoutMs: 1_500 }).catch((e: Error) => e);
    const id = await nextPendingId(before, call);
    expect(await call).toBeInstanceOf(Error);
    await expect.poll(async () => JSON.parse((await clawgate(["show", id, "--json"], env)).stdout).state, { timeout: 5_000 }).toBe("cancelled");
  });

  it("the /clawgate chat command lists and approves for a configured approver", async () => {
    const before = await pendingIds();
    const call = exec("git push origin release");
    const id = await nextPendingId(before, call);
    await gw.call("chat.send", { sessionKey: "agent:main:main", message: `/clawgate approve ${id} ship it`, idempotencyKey: randomUUID() });
    const r = await call;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const rec = JSON.parse((await clawgate(["show", id, "--json"], env)).stdout);
    expect(rec).toMatchObject({ state: "approved", decidedVia: "openclaw", decidedBy: "openclaw:webchat:cli", decisionReason: "ship it" });
  });

  async function slackMessageFor(id: string): Promise<FakeSlackMessage> {
    await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks ?? "").includes(id), 10_000);
    return structuredClone([...slack.messages.values()].find((m) => JSON.stringify(m.blocks).includes(id)) as FakeSlackMessage);
  }
  async function postSlack(payload: object) {
    const body = interactionBody(payload);
    return fetch(`${serve.url}/slack/events`, { method: "POST", headers: { ...signSlackRequest(SLACK_SECRET, body) }, body });
  }

  it("Slack: the ask is posted with three buttons; a signed Approve click lets the call run; the message is edited", async () => {
    const before = await pendingIds();
    const call = exec("git push origin feature");
    const id = await nextPendingId(before, call);
    const message = await slackMessageFor(id);
    expect(message.channel).toBe("C0APPROVALS");
    const buttons = message.blocks.flatMap((b) => ((b as { elements?: Array<{ action_id?: string }> }).elements ?? []).map((e) => e.action_id)).filter(Boolean);
    expect(buttons).toEqual(["clawgate_approve", "clawgate_always", "clawgate_deny"]);
    const payload = clickButton(message, "clawgate_approve", { userId: "U0ALICE", responseUrl: slack.responseUrl(`e2e-${id}`) });
    expect((await postSlack(payload)).status).toBe(200);
    const r = await call;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    await slack.waitFor("chat.update", (c) => c.args.ts === message.ts, 10_000);
    const edited = slack.message(message.channel, message.ts) as FakeSlackMessage;
    expect(JSON.stringify(edited.blocks)).toContain("Approved by <@U0ALICE> via slack");
    expect(edited.blocks.some((b) => (b as { type: string }).type === "actions")).toBe(false);
  });

  it("Slack: Deny with a reason → 403 carrying the reason", async () => {
    const before = await pendingIds();
    const call = exec("deploy payments");
    const id = await nextPendingId(before, call);
    const message = await slackMessageFor(id);
    const opened = slack.callsTo("views.open").length;
    expect((await postSlack(clickButton(message, "clawgate_deny", { userId: "U0ALICE", responseUrl: slack.responseUrl(`e2e-deny-${id}`) }))).status).toBe(200);
    await expect.poll(() => slack.callsTo("views.open").length, { timeout: 5_000 }).toBe(opened + 1);
    const view = slack.callsTo("views.open").at(-1)?.args.view as { private_metadata: string };
    const submit = viewSubmissionPayload({
      userId: "U0ALICE",
      callbackId: "clawgate_deny_modal",
      privateMetadata: view.private_metadata,
      values: { reason: { reason_input: { type: "plain_text_input", value: "payments freeze until Monday" } } },
    });
    expect((await postSlack(submit)).status).toBe(200);
    const r = await call;
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain("payments freeze until Monday");
    expect(r.body.error.message).toContain("denied by slack:U0ALICE via slack");
  });

  it("the audit chain holds every decision and verifies", async () => {
    const v = await clawgate(["audit", "verify"], env);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/audit log OK/);
  });

  it("Redis stopped → an ask fails closed with 403 within 3 s; allow and deny still answer from memory", async () => {
    await redis.stop();
    const started = Date.now();
    const r = await exec("git push origin hotfix");
    expect(r.status).toBe(403);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(r.body.error.message).toMatch(/fails closed/);
    expect((await exec("git status")).status).toBe(200);
    expect((await exec("rm -rf /")).status).toBe(403);
  });
});
