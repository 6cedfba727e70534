import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { Gate } from "../../src/gate/gate.ts";
import { createLogger } from "../../src/log.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { ACTIONS } from "../../templates/slack.ts";
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from "../fakes/slack.ts";
import { clickButton, interactionBody, signSlackRequest } from "../fakes/slack-signing.ts";
import { testConfig } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

const SECRET_TOKEN = "ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmNbVc";
const COMMAND = `git push https://bob:${SECRET_TOKEN}@github.com/acme/x.git main`;
const SIGNING = "test-signing-secret-0123456789";
const API_TOKEN = "admin-token-0123456789abcdef";

let redis: Redis;
let slack: FakeSlack;
let svc: RunningService;
let gate: Gate;
let prefix: string;
let dir: string;
let printed = "";

/** Every key under the prefix, dumped as text: hashes, sets, zsets, streams, strings. */
async function dumpRedis(): Promise<string> {
  const out: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 500);
    cursor = next;
    for (const key of found) {
      const type = await redis.type(key);
      if (type === "hash") out.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === "set") out.push(JSON.stringify(await redis.smembers(key)));
      else if (type === "zset") out.push(JSON.stringify(await redis.zrange(key, "0", "-1")));
      else if (type === "stream") out.push(JSON.stringify(await redis.xrange(key, "-", "+")));
      else if (type === "list") out.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === "string") out.push(String(await redis.get(key)));
    }
  } while (cursor !== "0");
  return out.join("\n");
}

beforeAll(async () => {
  redis = connect();
  prefix = uniquePrefix("secrets");
  dir = mkdtempSync(join(tmpdir(), "cg-secrets-"));
  slack = await startFakeSlack();
  const out = new PassThrough();
  out.on("data", (d: Buffer) => (printed += d.toString()));
  const base = {
    policy: { ask: ["exec(git push *)"] },
    server: { port: 0, apiToken: API_TOKEN },
    slack: { botToken: slack.botToken, signingSecret: SIGNING, channel: "C0APPROVALS", approvers: { users: ["U0ALICE"] }, apiUrl: slack.apiUrl },
  };
  const config = testConfig(prefix, base);
  svc = await serve({ config, redisUrl: REDIS_URL, log: createLogger({ level: "debug", destination: join(dir, "serve.log") }), out });
  gate = new Gate(testConfig(prefix, { policy: base.policy }), createLogger({ level: "debug", destination: join(dir, "gate.log") }), Number.POSITIVE_INFINITY, REDIS_URL);
  await gate.start();
});
afterAll(async () => {
  await gate?.close();
  await svc?.close();
  await slack?.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

describe("secrets never leave", () => {
  it("a token in a git URL appears on no surface: Redis, audit, events, Slack, REST, logs, the log channel, the saved rule", async () => {
    const call = gate.beforeToolCall({ toolName: "exec", params: { command: COMMAND }, toolCallId: "t1" }, { agentId: "main", sessionKey: "s1" });
    const posted = await slack.waitFor("chat.postMessage", () => true, 5_000);
    const message = [...slack.messages.values()].find((m) => JSON.stringify(m.blocks).includes("git push")) as FakeSlackMessage;
    expect(posted.args.channel).toBe("C0APPROVALS");
    const [id] = await redis.zrange(keys(prefix).pending, "0", "0");
    expect(id).toBeDefined();
    // The approver clicks "Always allow": the rule saved must not carry the token either.
    const body = interactionBody(clickButton(message, ACTIONS.always, { userId: "U0ALICE", responseUrl: slack.responseUrl("r1") }));
    expect((await fetch(`${svc.url}/slack/events`, { method: "POST", headers: signSlackRequest(SIGNING, body), body })).status).toBe(200);
    expect(await call).toBeUndefined();
    await gate.afterToolCall({ toolName: "exec", params: { command: COMMAND }, toolCallId: "t1", error: new Error(`remote rejected ${COMMAND}`) });
    const rest = await (await fetch(`${svc.url}/api/v1/approvals/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).text();
    // serve has audited the decision and edited the card.
    await expect.poll(async () => (await redis.xlen(`{${prefix}}:audit`)) >= 3, { timeout: 5_000 }).toBe(true);
    await slack.waitFor("chat.update", () => true, 5_000);
    const surfaces: Record<string, string> = {
      redis: await dumpRedis(),
      slack: JSON.stringify(slack.calls) + JSON.stringify([...slack.messages.values()]),
      rest,
      logChannel: printed,
      serveLog: readFileSync(join(dir, "serve.log"), "utf8"),
      gateLog: readFileSync(join(dir, "gate.log"), "utf8"),
    };
    expect(surfaces.redis).toContain("git push");
    expect(surfaces.slack).toContain("git push");
    for (const [where, text] of Object.entries(surfaces)) {
      expect(text.includes(SECRET_TOKEN), `token found in ${where}`).toBe(false);
      expect(text.includes(`bob:${SECRET_TOKEN.slice(0, 8)}`), `credentials found in ${where}`).toBe(false);
    }
    const saved = JSON.parse((await redis.get(keys(prefix).rules)) ?? "{}") as { always?: string[] };
    const always = saved.always ?? [];
    expect(always.length).toBe(1);
    expect(always[0]).not.toContain("ghp_");
  });
});
