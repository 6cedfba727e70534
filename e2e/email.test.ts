// Email end to end: the real OpenClaw gateway with clawgate's plugin, a private Redis, the real
// `clawgate serve` with an email block (outbound to an SMTP sink, replies through its SMTP
// listener with the issue's `requireAuth: false`), and replies as an approver's MTA sends them.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, REPO_ROOT, startGateway, type Gateway } from "./harness/gateway.ts";
import { startPrivateRedis, startServe, type ClawgateServe, type PrivateRedis } from "./harness/services.ts";
import { freePort } from "../test/email/dovecot.ts";
import { composeReply, deliverSmtp } from "../test/email/mail.ts";
import { startSink, type SmtpSink, type SunkMail } from "../test/email/sink.ts";

const ALICE = "alice@example.test";
const BOB = "bob@example.test";

describe("email approvals through a real OpenClaw gateway", () => {
  let redis: PrivateRedis;
  let serve: ClawgateServe;
  let gw: Gateway;
  let db: Redis;
  let sink: SmtpSink;
  let mx: number;
  const prefix = `e2e-mail-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(path.join(tmpdir(), "clawgate-e2e-mail-"));
  const configPath = path.join(dir, "clawgate.yaml");

  const exec = (command: string) => gw.invoke("e2e_exec", { command });

  async function pendingAfter(before: string[]): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const ids = (await db.zrange(`{${prefix}}:pending`, 0, "-1")).filter((id) => !before.includes(id));
      if (ids[0]) return ids[0];
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("no pending approval appeared");
  }

  /** Each approver's request mail for approval `id`. */
  async function mailsFor(id: string): Promise<Record<string, SunkMail>> {
    const out: Record<string, SunkMail> = {};
    for (const who of [ALICE, BOB]) out[who] = await sink.waitFor((m) => m.envelopeTo.includes(who) && (m.mail.subject ?? "").includes(id) && !m.mail.inReplyTo, 10_000);
    return out;
  }

  async function reply(request: SunkMail, from: string, text: string): Promise<number> {
    const to = request.mail.replyTo?.value[0]?.address as string;
    const raw = await composeReply({ from, to, subject: `Re: ${request.mail.subject}`, text, inReplyTo: request.mail.messageId as string, sign: false });
    await deliverSmtp(mx, raw, { from, to });
    return Date.now();
  }

  beforeAll(async () => {
    redis = await startPrivateRedis();
    sink = await startSink();
    mx = await freePort();
    db = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    db.on("error", () => undefined);
    writeFileSync(
      configPath,
      [
        `redis: { url: "\${REDIS_URL}", prefix: ${prefix} }`,
        "policy:",
        "  mode: default",
        "  shellTools: [exec, bash, process, e2e_exec]",
        '  ask: ["e2e_exec(git push *)", "e2e_exec(deploy *)"]',
        "approvals: { timeout: 30s }",
        "log: { enabled: false }",
        "email:",
        '  from: "clawgate <approvals@example.test>"',
        '  replyDomain: "example.test"',
        `  smtp: { host: "127.0.0.1", port: ${sink.port}, secure: false }`,
        `  approvers: ["${ALICE}", "${BOB}"]`,
        `  inbound: { smtp: { host: "127.0.0.1", port: ${mx} }, requireAuth: false }`,
        "",
      ].join("\n"),
    );
    serve = await startServe(configPath, redis.url);
    gw = await startGateway({
      plugins: [fixture("test-tools"), path.join(REPO_ROOT, "plugin")],
      pluginEntries: {
        "e2e-test-tools": { enabled: true },
        clawgate: { enabled: true, config: { configPath } },
      },
      env: { REDIS_URL: redis.url, LOG_LEVEL: "warn" },
      // Shared CI machines can be slow to start a gateway; the tests themselves are fast.
      readyTimeoutMs: 150_000,
    });
  });

  afterAll(async () => {
    db?.disconnect();
    await gw?.stop();
    await serve?.stop();
    await redis?.destroy();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("ask → each approver gets a mail with their own reply address → reply 'approve' → 200 within 2 s", async () => {
    const before = await db.zrange(`{${prefix}}:pending`, 0, "-1");
    const call = exec("git push origin main");
    const id = await pendingAfter(before);
    const mails = await mailsFor(id);
    const alice = mails[ALICE] as SunkMail;
    const bob = mails[BOB] as SunkMail;
    expect(alice.mail.subject).toContain("e2e_exec");
    expect(alice.mail.text).toContain("git push origin main");
    expect(alice.mail.replyTo?.value[0]?.address).not.toBe(bob.mail.replyTo?.value[0]?.address);
    const sent = await reply(alice, ALICE, "approve");
    const r = await call;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Date.now() - sent).toBeLessThan(2_000);
    const confirmation = await sink.waitFor((m) => m.envelopeTo.includes(ALICE) && (m.mail.text ?? "").startsWith("Approved:"));
    expect(confirmation.mail.text).toContain(id);
    // Bob's thread is closed with a note.
    await sink.waitFor((m) => m.envelopeTo.includes(BOB) && m.mail.inReplyTo === bob.mail.messageId);
  });

  it("reply 'deny not during the freeze' → 403 carrying that reason", async () => {
    const before = await db.zrange(`{${prefix}}:pending`, 0, "-1");
    const call = exec("deploy web --prod");
    const id = await pendingAfter(before);
    const mails = await mailsFor(id);
    await reply(mails[BOB] as SunkMail, BOB, "deny not during the freeze\n\nOn Mon, clawgate wrote:\n> approve");
    const r = await call;
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain("not during the freeze");
    expect(r.body.error.message).toContain(`denied by email:${BOB} via email`);
  });

  it("a reply whose first line is not exactly an answer ('Approve? No way.') decides nothing and is answered with how to reply", async () => {
    const before = await db.zrange(`{${prefix}}:pending`, 0, "-1");
    const call = exec("git push origin hotfix");
    const id = await pendingAfter(before);
    const mails = await mailsFor(id);
    await reply(mails[ALICE] as SunkMail, ALICE, "Approve? No way.\n\nWe are in a freeze.");
    const howTo = await sink.waitFor((m) => m.envelopeTo.includes(ALICE) && /approve always/i.test(m.mail.text ?? "") && (m.mail.text ?? "").includes(id));
    expect(howTo.mail.text).toMatch(/deny <reason>/i);
    expect(await db.hget(`{${prefix}}:approval:${id}`, "state")).toBe("pending");
    await reply(mails[BOB] as SunkMail, BOB, "deny not now");
    expect((await call).status).toBe(403);
  });
});
