import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { InboundDecisions } from "../../src/inbound/decisions.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { newApproval, silentLog, testConfig, testSigner, savedAlwaysRules } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { ACTIONS } from "../../templates/slack.ts";
import { decodeRefEntry, encodeRefEntry, newNonce } from "../../queue/refEntry.ts";
import { startFakeSlack, type FakeSlackMessage } from "../fakes/slack.ts";
import { clickButton, interactionBody, signSlackRequest } from "../fakes/slack-signing.ts";
import { freePort } from "./dovecot.ts";
import { composeReply, deliverSmtp, dnsStub } from "./mail.ts";
import { startSink, type SmtpSink, type SunkMail } from "./sink.ts";

const ALICE = "alice@corp.test";
const BOB = "bob@corp.test";
const MALLORY = "mallory@corp.test";

let redis: Redis;
let sink: SmtpSink;
let prefix: string;
let svc: RunningService;
let store: ApprovalStore;
let mx: number;

async function startService(over: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  mx = await freePort();
  const config = testConfig(prefix, {
    ...top,
    log: { enabled: false },
    server: { port: 0 },
    email: {
      from: "clawgate <approvals@example.test>",
      replyDomain: "example.test",
      smtp: { host: "127.0.0.1", port: sink.port, secure: false },
      approvers: [ALICE, BOB],
      inbound: { smtp: { host: "127.0.0.1", port: mx } },
      ...over,
    },
  });
  svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog, dnsResolver: dnsStub });
  return config;
}

/** An ask, and the request mail each approver got. */
async function ask(over = {}) {
  const rec = await store.create(newApproval(over));
  const mails: Record<string, SunkMail> = {};
  for (const who of [ALICE, BOB]) mails[who] = await sink.waitFor((m) => m.envelopeTo.includes(who) && (m.mail.subject ?? "").includes(rec.id) && !m.mail.inReplyTo);
  return { rec, alice: mails[ALICE] as SunkMail, bob: mails[BOB] as SunkMail };
}

const replyTo = (m: SunkMail) => (m.mail.replyTo?.value[0]?.address ?? "") as string;

/** A reply to `request` from `from`, through the SMTP listener; resolves once the listener accepted it. */
async function reply(request: SunkMail, from: string, text: string, o: { to?: string; sign?: boolean; headers?: Record<string, string>; html?: string; envelopeFrom?: string } = {}) {
  const to = o.to ?? replyTo(request);
  const raw = await composeReply({
    from,
    to,
    subject: `Re: ${request.mail.subject}`,
    ...(o.html ? { html: o.html } : { text }),
    inReplyTo: request.mail.messageId as string,
    ...(o.headers ? { headers: o.headers } : {}),
    ...(o.sign === false ? { sign: false } : {}),
  });
  const messageId = /^Message-ID:\s*(\S+)/im.exec(raw.toString())?.[1] as string;
  await deliverSmtp(mx, raw, { from: o.envelopeFrom ?? from, to });
  return { messageId };
}

/** clawgate's answer to the reply with this Message-ID. */
const answerTo = (messageId: string) => sink.waitFor((m) => m.mail.inReplyTo === messageId);
const stateOf = async (id: string) => (await store.require(id)).state;

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(async () => {
  prefix = uniquePrefix("email");
  sink = await startSink();
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
});
afterEach(async () => {
  await svc?.close();
  await sink.close();
  await deleteKeys(redis, prefix);
});

describe("email channel (SMTP listener, DMARC required)", () => {
  it("mails each approver with their own reply address; an approver's 'approve' decides and is confirmed", async () => {
    await startService();
    const { rec, alice, bob } = await ask();
    expect(alice.mail.subject).toContain("exec");
    expect(alice.mail.text).toContain("git push origin main");
    expect(alice.mail.html).toContain("git push origin main");
    expect(replyTo(alice)).toMatch(/^approvals\+[0-9a-z]{12}-[0-9a-z]{26}@example\.test$/);
    expect(replyTo(alice)).not.toBe(replyTo(bob));
    expect(alice.mail.messageId).toMatch(new RegExp(`${rec.id}.*@example\\.test>$`));

    const t0 = Date.now();
    const { messageId } = await reply(alice, ALICE, "Approve\n\nOn Monday clawgate wrote:\n> deny everything");
    expect(await stateOf(rec.id)).toBe("approved");
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await store.require(rec.id)).toMatchObject({ decision: "allow-once", decidedBy: `email:${ALICE}`, decidedVia: "email" });
    const answer = await answerTo(messageId);
    expect(answer.envelopeTo).toEqual([ALICE]);
    expect(answer.mail.text).toMatch(/^Approved: /);
    expect(answer.mail.headers.get("auto-submitted")).toBe("auto-replied");

    // Bob did not decide: his thread gets a closing note; Alice got her confirmation instead.
    const note = await sink.waitFor((m) => m.envelopeTo.includes(BOB) && m.mail.inReplyTo === bob.mail.messageId);
    expect(note.mail.text).toContain(`approved by email:${ALICE} via email`);
    expect(sink.mails.filter((m) => m.envelopeTo.includes(ALICE) && m.mail.inReplyTo === alice.mail.messageId)).toHaveLength(0);

    // A second reply after the decision changes nothing and is answered.
    const again = await reply(bob, BOB, "deny too late");
    expect((await answerTo(again.messageId)).mail.text).toContain("already approved");
    expect(await stateOf(rec.id)).toBe("approved");
  });

  it("'deny <reason>' denies with that reason; a quoted approve under it does not count", async () => {
    await startService();
    const { rec, alice } = await ask();
    const { messageId } = await reply(alice, ALICE, "deny not during the freeze\n\nOn Tue, 1 Dec 2026 at 10:00, clawgate <approvals@example.test> wrote:\n> approve\n");
    expect(await store.require(rec.id)).toMatchObject({ state: "denied", decisionReason: "not during the freeze", decidedBy: `email:${ALICE}` });
    expect((await answerTo(messageId)).mail.text).toContain("not during the freeze");
  });

  it("'approve always' allows always", async () => {
    await startService();
    const { rec, bob } = await ask();
    await reply(bob, BOB, "APPROVE ALWAYS");
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decision: "allow-always" });
    expect(await savedAlwaysRules(redis, prefix)).toEqual(["exec(git push origin main)"]);
  });

  it("an HTML-only reply in another charset decides", async () => {
    await startService();
    const { rec, alice } = await ask();
    const { messageId } = await reply(alice, ALICE, "", { html: "<div dir='ltr'>deny pas pendant le gel — café</div><blockquote>approve</blockquote>" });
    expect(await store.require(rec.id)).toMatchObject({ state: "denied", decisionReason: "pas pendant le gel — café" });
    expect((await answerTo(messageId)).mail.text).toContain("Denied");
  });

  it("anything else is answered with how to reply, and decides nothing", async () => {
    await startService();
    const { rec, alice } = await ask();
    const { messageId } = await reply(alice, ALICE, "looks fine to me I guess");
    const answer = await answerTo(messageId);
    expect(answer.mail.text).toContain("did not understand");
    expect(answer.mail.text).toContain("approve always");
    expect(await stateOf(rec.id)).toBe("pending");
  });

  it("a first line that only starts like an answer decides nothing: each is answered with the three forms", async () => {
    await startService();
    const { rec, alice } = await ask();
    const lines = ["Approve? No way.", "approve - wait no", "approved", "yes", "approve always please", "deny", "Don't approve"];
    for (const line of lines) {
      const { messageId } = await reply(alice, ALICE, `${line}\n\nOn Monday clawgate wrote:\n> approve`);
      const text = (await answerTo(messageId)).mail.text ?? "";
      expect(text, line).toMatch(/nothing was decided|decided nothing/);
      expect(text, line).toContain("exactly one of these as the first line");
      for (const form of ["  approve\n", "  approve always\n", "  deny <reason>\n"]) expect(text, line).toContain(form);
      expect(await stateOf(rec.id), line).toBe("pending");
    }
    expect(sink.mails.filter((m) => (m.mail.text ?? "").startsWith("Approved"))).toHaveLength(0);
    // The first line exactly, with case, spaces and a trailing mark that do not matter, decides.
    await reply(alice, ALICE, "\n\n  Approve Always!  \nthanks");
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decision: "allow-always" });
  });

  it("a deny reason a mail client wrapped is read to the end of its paragraph", async () => {
    await startService();
    const { rec, alice } = await ask();
    await reply(alice, ALICE, "deny not during the freeze, which\nends on Friday\n\nAlice");
    expect(await store.require(rec.id)).toMatchObject({ state: "denied", decisionReason: "not during the freeze, which ends on Friday" });
  });

  it("refuses a non-approver, a token issued to someone else and a forged From; audits each; stays pending", async () => {
    await startService();
    const { rec, alice, bob } = await ask();

    const a = await reply(alice, MALLORY, "approve");
    expect((await answerTo(a.messageId)).mail.text).toContain("you are not an approver for this request");

    // Bob answering through Alice's reply address.
    const b = await reply(alice, BOB, "approve");
    expect((await answerTo(b.messageId)).mail.text).toContain("issued to another recipient");

    // Alice's address in From, but not signed by corp.test: DMARC (p=reject) fails.
    const c = await reply(alice, ALICE, "approve", { sign: false });
    expect((await answerTo(c.messageId)).mail.text).toContain("failed DMARC");

    expect(await stateOf(rec.id)).toBe("pending");
    await expect
      .poll(async () => (await new AuditLog(redis, { prefix }).read({ limit: 50 })).filter((e) => e.event.type === "refusal").map((e) => e.event.actor), { timeout: 3_000 })
      .toEqual(expect.arrayContaining([`email:${MALLORY}`, `email:${BOB}`, `email:${ALICE}`]));

    // And Bob's own address still works.
    await reply(bob, BOB, "approve");
    expect(await stateOf(rec.id)).toBe("approved");
  });

  it("tier 0 mails exactly the configured approvers", async () => {
    await startService({ approvers: [ALICE] });
    const rec = await store.create(newApproval());
    await sink.waitFor((m) => m.envelopeTo.includes(ALICE) && (m.mail.subject ?? "").includes(rec.id));
    expect(sink.mails.some((m) => m.envelopeTo.includes(BOB))).toBe(false);
  });

  it("someone an escalation tier mailed (not in email.approvers) may decide with their own reply address", async () => {
    const CAROL = "carol@corp.test";
    await startService({}, { escalation: { tiers: [{ after: "1s", notify: [`email:${CAROL}`] }] } });
    const { rec, alice } = await ask();
    // Before the tier fires Carol is nobody here, even with a reply address of someone else's.
    const early = await reply(alice, CAROL, "approve");
    expect((await answerTo(early.messageId)).mail.text).toContain("you are not an approver for this request");
    const escalated = await sink.waitFor((m) => m.envelopeTo.includes(CAROL) && (m.mail.subject ?? "").includes(rec.id) && m.mail.inReplyTo === undefined);
    expect(escalated.mail.text).toContain("Escalated: approval still needed");
    await reply(escalated, CAROL, "approve");
    expect(await store.require(rec.id)).toMatchObject({ state: "approved", decidedBy: `email:${CAROL}` });
  });

  it("ignores auto-replies and bounces without answering them", async () => {
    await startService();
    const { rec, alice } = await ask();
    const before = sink.mails.length;
    await reply(alice, ALICE, "approve", { headers: { "Auto-Submitted": "auto-replied" } });
    await reply(alice, ALICE, "approve", { envelopeFrom: "" });
    expect(await stateOf(rec.id)).toBe("pending");
    // The listener answers the SMTP transaction only after processing: any answer would be here.
    expect(sink.mails.length).toBe(before);
  });

  it("a reply after expiry decides nothing and is answered", async () => {
    await startService();
    const { rec, alice } = await ask({ timeoutMs: 1_000 });
    await expect.poll(() => stateOf(rec.id), { timeout: 5_000 }).toBe("expired");
    const { messageId } = await reply(alice, ALICE, "approve");
    expect((await answerTo(messageId)).mail.text).toMatch(/timed out with no decision/);
    expect(await stateOf(rec.id)).toBe("expired");
  });

  it("a decision made elsewhere (CLI) sends a closing note into every recipient's thread", async () => {
    const config = await startService();
    const { rec, alice, bob } = await ask();
    const decisions = new InboundDecisions(new ApprovalService(store, silentLog, testSigner), config);
    await decisions.decide({ identity: { channel: "cli", id: "ops@host" }, approvalId: rec.id, decision: "deny", reason: "change freeze", isChannelApprover: true });
    for (const m of [alice, bob]) {
      const note = await sink.waitFor((x) => x.mail.inReplyTo === m.mail.messageId);
      expect(note.mail.text).toContain("denied by cli:ops@host via cli: change freeze");
      expect((note.mail.references as string[] | string | undefined) ?? "").toContain(m.mail.messageId as string);
    }
  });

  it("a mail whose reference was lost in a crash still gets its closing note once the approval ends, and is not sent again", async () => {
    const rec = await store.create(newApproval());
    // An earlier serve wrote Alice's posting intent, the SMTP server accepted her mail (sent-marker
    // written), and it died before saving the reference. Then the approval was decided elsewhere.
    const nonce = newNonce();
    const sent = { messageId: `<clawgate.${rec.id}.lost@example.test>`, to: ALICE };
    expect(await store.swapPendingRef(rec.id, `email|${ALICE}|0`, null, encodeRefEntry({ s: "posting", nonce, at: await store.now() }))).toBe("set");
    await redis.set(`${store.k.tag}:email:sent:${nonce}`, JSON.stringify(sent), "PX", 3_600_000);
    await new ApprovalService(store, silentLog, testSigner).decide({ id: rec.id, decision: "deny", actor: "cli:ops", via: "cli", reason: "change freeze" });
    await startService();
    const note = await sink.waitFor((m) => m.mail.inReplyTo === sent.messageId);
    expect(note.envelopeTo).toEqual([ALICE]);
    expect(note.mail.text).toContain("denied by cli:ops via cli: change freeze");
    await expect.poll(async () => decodeRefEntry(await store.ref(rec.id, `email|${ALICE}|0`)), { timeout: 2_000 }).toEqual({ s: "posted", ref: sent, closed: true });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sink.mails.map((m) => m.mail.inReplyTo)).toEqual([sent.messageId]);
  });

  it("a decision in Slack sends a closing note into each email thread", async () => {
    const slack = await startFakeSlack();
    const SECRET = "test-signing-secret-0123456789";
    try {
      await startService({}, { slack: { botToken: slack.botToken, signingSecret: SECRET, channel: "C0APPROVALS", approvers: { users: ["U0ALICE"], userGroups: [] }, apiUrl: slack.apiUrl } });
      const { rec, alice, bob } = await ask();
      await slack.waitFor("chat.postMessage", (c) => JSON.stringify(c.args.blocks ?? "").includes(rec.id));
      const message = [...slack.messages.values()].find((m) => JSON.stringify(m.blocks).includes(rec.id)) as FakeSlackMessage;
      const payload = clickButton(message, ACTIONS.approve, { userId: "U0ALICE", responseUrl: slack.responseUrl("r1", { channel: message.channel, ts: message.ts }) });
      const body = interactionBody(payload);
      const res = await fetch(`${svc.url}/slack/events`, { method: "POST", headers: { ...signSlackRequest(SECRET, body) }, body });
      expect(res.status).toBe(200);
      for (const m of [alice, bob]) {
        const note = await sink.waitFor((x) => x.mail.inReplyTo === m.mail.messageId);
        expect(note.mail.text).toContain(`${rec.id} (exec) approved by slack:U0ALICE via slack`);
      }
    } finally {
      await svc.close();
      await slack.close();
    }
  });
});
