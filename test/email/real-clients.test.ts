import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { serve, type RunningService } from "../../src/server/serve.ts";
import { newApproval, silentLog, testConfig } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { freePort } from "./dovecot.ts";
import { BANNER_REPLIES, CLIENT_REPLIES, type ClientReply } from "./fixtures/clients.ts";
import { deliverSmtp, dnsStub, signRaw } from "./mail.ts";
import { startSink, type SmtpSink } from "./sink.ts";

/**
 * Replies in real clients' shapes, as full MIME, DKIM-signed by the approver's domain and
 * delivered to serve's SMTP listener: the same path (DMARC, token, parsing, decision) as in
 * production.
 */
const ALICE = "alice@corp.test";

let redis: Redis;
let sink: SmtpSink;
let prefix: string;
let svc: RunningService;
let store: ApprovalStore;
let mx: number;
let n = 0;

beforeAll(async () => {
  redis = connect();
  prefix = uniquePrefix("email-clients");
  sink = await startSink();
  store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
  mx = await freePort();
  const config = testConfig(prefix, {
    log: { enabled: false },
    server: { port: 0 },
    email: {
      from: "clawgate <approvals@example.test>",
      replyDomain: "example.test",
      smtp: { host: "127.0.0.1", port: sink.port, secure: false },
      approvers: [ALICE],
      inbound: { smtp: { host: "127.0.0.1", port: mx } },
    },
  });
  svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog, dnsResolver: dnsStub });
});
afterAll(async () => {
  await svc?.close();
  await sink?.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

async function replyAs(shape: ClientReply) {
  const rec = await store.create(newApproval({ params: { command: `git push origin shape-${++n}` } }));
  const request = await sink.waitFor((m) => m.envelopeTo.includes(ALICE) && (m.mail.subject ?? "").includes(rec.id) && !m.mail.inReplyTo);
  const to = request.mail.replyTo?.value[0]?.address as string;
  const messageId = `<shape.${n}.${Date.now()}@corp.test>`;
  const raw = shape.raw({ from: ALICE, name: "Alice Example", to, subject: request.mail.subject ?? "", inReplyTo: request.mail.messageId as string, messageId, original: request.mail.text ?? "" });
  await deliverSmtp(mx, await signRaw(raw), { from: ALICE, to });
  const answer = await sink.waitFor((m) => m.mail.inReplyTo === messageId);
  return { record: await store.require(rec.id), answer: answer.mail.text ?? "" };
}

async function check(shape: ClientReply) {
  const { record, answer } = await replyAs(shape);
  if (shape.want === "nothing") {
    expect(record.state).toBe("pending");
    expect(answer).toMatch(/nothing was decided|decided nothing/);
  } else if (shape.want.state === "approved") {
    expect({ state: record.state, decision: record.decision, answer }).toEqual({ state: "approved", decision: shape.want.decision, answer: expect.stringMatching(/^Approved/) });
  } else {
    expect({ state: record.state, reason: record.decisionReason }).toEqual({ state: "denied", reason: shape.want.reason });
    expect(answer).toContain(`The agent was told: ${shape.want.reason}`);
  }
}

describe("replies as mail clients write them, through the SMTP listener with DMARC", () => {
  it.each(CLIENT_REPLIES.map((r) => [r.name, r] as const))("%s", async (_name, shape) => check(shape));
});

describe("replies behind a gateway's external-sender banner decide as if it were not there", () => {
  it.each(BANNER_REPLIES.map((r) => [r.name, r] as const))("%s", async (_name, shape) => check(shape));
});
