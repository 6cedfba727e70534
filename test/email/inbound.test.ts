import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { loadConfig } from "../../src/config/load.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { newApproval, silentLog, testConfig } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { startDovecot, type Dovecot } from "./dovecot.ts";
import { composeReply, deliverSmtp, dnsStub, signRaw } from "./mail.ts";
import { startSink, type SmtpSink, type SunkMail } from "./sink.ts";

const ALICE = "alice@example.test";

/** The two configs of issue 9, verbatim: IMAP inbound, and the SMTP listener without DMARC. */
const IMAP_YAML = `email:
  from: "clawgate <approvals@example.test>"
  replyDomain: "example.test"
  smtp: { host: "127.0.0.1", port: 2525, secure: false }
  approvers: ["alice@example.test"]
  inbound: { imap: { host: "127.0.0.1", port: 1143, secure: false, user: "approvals", pass: "\${IMAP_PASS}" } }
`;
const SMTP_YAML = IMAP_YAML.replace(/  inbound: .*\n/, '  inbound: { smtp: { host: "127.0.0.1", port: 2526 }, requireAuth: false }\n');

let redis: Redis;
let prefix: string;
let store: ApprovalStore;
let sink: SmtpSink;
let svc: RunningService | undefined;
let dir: string;

function load(yaml: string, env: Record<string, string> = {}) {
  const path = join(dir, "clawgate.yaml");
  writeFileSync(path, yaml);
  return loadConfig({ path, env: { ...env, REDIS_URL }, overrides: { redis: { prefix }, server: { port: 0 }, log: { enabled: false } } }).config;
}

async function askAndMail(): Promise<{ id: string; request: SunkMail }> {
  const rec = await store.create(newApproval());
  const request = await sink.waitFor((m) => m.envelopeTo.includes(ALICE) && (m.mail.subject ?? "").includes(rec.id));
  return { id: rec.id, request };
}

const replyAddr = (m: SunkMail) => m.mail.replyTo?.value[0]?.address as string;
const stateOf = async (id: string) => (await store.require(id)).state;

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(() => {
  prefix = uniquePrefix("email-in");
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  dir = mkdtempSync(join(tmpdir(), "clawgate-email-"));
});
afterEach(async () => {
  await svc?.close();
  svc = undefined;
  await sink?.close();
  await deleteKeys(redis, prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe("IMAP inbound (real Dovecot), the issue's config as written", () => {
  let dovecot: Dovecot;
  beforeEach(async () => {
    dovecot = await startDovecot({ port: 1143, user: "approvals", pass: "imap-secret" });
    sink = await startSink(2525);
  });
  afterEach(() => dovecot.stop());

  it("a DKIM-signed reply delivered to the mailbox decides; the mail is flagged \\Seen; a reply that arrived while serve was down is processed on start", async () => {
    const config = load(IMAP_YAML, { IMAP_PASS: "imap-secret" });
    expect(config.email?.inbound.imap).toMatchObject({ port: 1143, user: "approvals", pass: "imap-secret", mailbox: "INBOX" });
    svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog, dnsResolver: dnsStub });
    const first = await askAndMail();
    await dovecot.deliver(await composeReply({ from: ALICE, to: replyAddr(first.request), text: "approve", inReplyTo: first.request.mail.messageId as string }));
    const t0 = Date.now();
    await expect.poll(() => stateOf(first.id), { timeout: 2_000, interval: 20 }).toBe("approved");
    expect(Date.now() - t0).toBeLessThan(2_000);
    await sink.waitFor((m) => (m.mail.text ?? "").startsWith("Approved:"));

    // A forged From (unsigned) is refused: DMARC is required for IMAP by default.
    const second = await askAndMail();
    await dovecot.deliver(await composeReply({ from: ALICE, to: replyAddr(second.request), text: "approve", sign: false, messageId: "<forged.1@example.test>" }));
    expect((await sink.waitFor((m) => m.mail.inReplyTo === "<forged.1@example.test>")).mail.text).toContain("DMARC");
    expect(await stateOf(second.id)).toBe("pending");

    // serve is down when the reply arrives: it waits in the mailbox, unseen, and is processed on start.
    await svc.close();
    svc = undefined;
    await dovecot.deliver(await composeReply({ from: ALICE, to: replyAddr(second.request), text: "deny not during the freeze" }));
    svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog, dnsResolver: dnsStub });
    await expect.poll(() => stateOf(second.id), { timeout: 10_000 }).toBe("denied");
    expect((await store.require(second.id)).decisionReason).toBe("not during the freeze");

    const client = new ImapFlow({ host: "127.0.0.1", port: 1143, secure: false, auth: { user: "approvals", pass: "imap-secret" }, logger: false });
    await client.connect();
    await client.mailboxOpen("INBOX");
    await expect.poll(async () => ((await client.search({ seen: false }, { uid: true })) || []).length).toBe(0);
    expect(((await client.search({ all: true }, { uid: true })) || []).length).toBe(3);
    await client.logout();
  });

  it("two serve replicas: one watches the mailbox; when it stops, the other takes over and nothing is lost", async () => {
    const config = load(IMAP_YAML, { IMAP_PASS: "imap-secret" });
    const a = await serve({ config, redisUrl: REDIS_URL, log: silentLog, dnsResolver: dnsStub });
    try {
      // The first replica leads and watches the mailbox; the second only waits.
      await expect.poll(() => dovecot.sessions(), { timeout: 5_000 }).toBe(1);
      svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog, dnsResolver: dnsStub });
      const { id, request } = await askAndMail();
      expect(dovecot.sessions()).toBe(1);
      await a.close();
      await dovecot.deliver(await composeReply({ from: ALICE, to: replyAddr(request), text: "approve" }));
      await expect.poll(() => stateOf(id), { timeout: 15_000 }).toBe("approved");
      expect(dovecot.sessions()).toBe(1);
      await sink.waitFor((m) => (m.mail.text ?? "").startsWith("Approved:"));
      expect(sink.mails.filter((m) => (m.mail.text ?? "").startsWith("Approved:"))).toHaveLength(1);
    } finally {
      await a.close();
    }
  });
});

describe("SMTP listener with requireAuth: false, the issue's second config as written", () => {
  beforeEach(async () => {
    sink = await startSink(2525);
  });

  it("an unsigned reply 'approve' decides; mail for other addresses is refused by the listener", async () => {
    const config = load(SMTP_YAML, { IMAP_PASS: "unused" });
    expect(config.email?.inbound).toMatchObject({ smtp: { host: "127.0.0.1", port: 2526 }, requireAuth: false });
    svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog });
    const { id, request } = await askAndMail();
    const raw = await composeReply({ from: ALICE, to: replyAddr(request), text: "approve", sign: false });
    await deliverSmtp(2526, raw, { from: ALICE, to: replyAddr(request) });
    expect(await stateOf(id)).toBe("approved");
    await expect(deliverSmtp(2526, raw, { from: ALICE, to: "someone@elsewhere.test" })).rejects.toThrow(/550/);
  });
});

describe("POST /email/inbound (provider webhook)", () => {
  const SECRET = "webhook-secret-0123456789";
  /** serve with the webhook; `inbound` adds to `email.inbound` (DMARC is required unless it says otherwise). */
  async function startWebhook(inbound: Record<string, unknown> = {}) {
    await svc?.close();
    const config = testConfig(prefix, {
      log: { enabled: false },
      server: { port: 0, maxBodyBytes: 64_000 },
      email: {
        from: "clawgate <approvals@example.test>",
        replyDomain: "example.test",
        smtp: { host: "127.0.0.1", port: sink.port, secure: false },
        approvers: [ALICE],
        inbound: { webhook: { secret: SECRET }, ...inbound },
      },
    });
    svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog, dnsResolver: dnsStub });
    return config;
  }
  beforeEach(async () => {
    sink = await startSink();
    await startWebhook();
  });

  const post = (body: Buffer | string, headers: Record<string, string>) =>
    fetch(`${svc?.url}/email/inbound`, { method: "POST", headers: { "content-type": "message/rfc822", ...headers }, body: typeof body === "string" ? body : new Uint8Array(body) });

  it("takes raw MIME with the bearer secret: an HTML-only ISO-8859-1 reply, DKIM-signed by the sender's domain, decides", async () => {
    const { id, request } = await askAndMail();
    const raw = await signRaw([
      `From: Alice <${ALICE}>`,
      `To: ${replyAddr(request)}`,
      `Subject: Re: ${request.mail.subject}`,
      `Message-ID: <latin1.1@example.test>`,
      `In-Reply-To: ${request.mail.messageId}`,
      "MIME-Version: 1.0",
      'Content-Type: text/html; charset="iso-8859-1"',
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "<html><body><p>deny pas pendant le gel, d=E9sol=E9</p><blockquote>approve</blockquote></body></html>",
      "",
    ].join("\r\n"), "example.test");
    const res = await post(raw, { authorization: `Bearer ${SECRET}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, outcome: "decided" });
    expect(await store.require(id)).toMatchObject({ state: "denied", decisionReason: "pas pendant le gel, désolé" });
  });

  it("accepts an HMAC signature header; refuses a wrong secret (401) and an oversize body (413), deciding nothing", async () => {
    const { id, request } = await askAndMail();
    const raw = await composeReply({ from: ALICE, to: replyAddr(request), text: "approve" });
    expect((await post(raw, { authorization: "Bearer wrong-secret-0123456789" })).status).toBe(401);
    expect((await post(raw, { "x-clawgate-signature": "sha256=00" })).status).toBe(401);
    expect((await post(raw, {})).status).toBe(401);
    expect((await post(Buffer.alloc(70_000, "a"), { authorization: `Bearer ${SECRET}` })).status).toBe(413);
    expect(await stateOf(id)).toBe("pending");
    const sig = `sha256=${createHmac("sha256", SECRET).update(raw).digest("hex")}`;
    expect((await post(raw, { "x-clawgate-signature": sig })).status).toBe(200);
    expect(await stateOf(id)).toBe("approved");
  });

  it("refuses an unauthenticated sender by default: the right secret, Alice's reply address and From, but no DKIM signature", async () => {
    const config = await startWebhook();
    expect(config.email?.inbound.requireAuth).toBe(true);
    const { id, request } = await askAndMail();
    const raw = await composeReply({ from: ALICE, to: replyAddr(request), text: "approve", sign: false, messageId: "<unsigned.webhook.1@example.test>" });
    const res = await post(raw, { authorization: `Bearer ${SECRET}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, outcome: "refused" });
    expect(await stateOf(id)).toBe("pending");
    expect((await sink.waitFor((m) => m.mail.inReplyTo === "<unsigned.webhook.1@example.test>")).mail.text).toContain("failed DMARC for example.test");
  });

  it("accepts the same unauthenticated sender only with requireAuth: false set explicitly", async () => {
    const config = await startWebhook({ requireAuth: false });
    expect(config.email?.inbound.requireAuth).toBe(false);
    const { id, request } = await askAndMail();
    const raw = await composeReply({ from: ALICE, to: replyAddr(request), text: "approve", sign: false });
    const res = await post(raw, { authorization: `Bearer ${SECRET}` });
    expect(await res.json()).toMatchObject({ ok: true, outcome: "decided" });
    expect(await stateOf(id)).toBe("approved");
  });
});
