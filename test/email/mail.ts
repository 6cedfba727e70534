import { generateKeyPairSync } from "node:crypto";
import nodemailer from "nodemailer";

/**
 * How approvers' mail looks to clawgate in tests: composed by nodemailer, DKIM-signed by the
 * approvers' domain with a key generated here, and a DNS stand-in that publishes that key,
 * SPF and DMARC — what mailauth would otherwise look up in real DNS.
 */
export const APPROVER_DOMAIN = "corp.test";
const SELECTOR = "s1";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const privateKey = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const publicKey = keys.publicKey.export({ type: "spki", format: "der" }).toString("base64");

/** The approvers' domains (corp.test, and example.test of the issue's sample config) publish the key, SPF and DMARC. */
const DNS: Record<string, string[][]> = {};
for (const d of [APPROVER_DOMAIN, "example.test"]) {
  DNS[`${SELECTOR}._domainkey.${d}`] = [[`v=DKIM1; k=rsa; p=${publicKey}`]];
  DNS[`_dmarc.${d}`] = [["v=DMARC1; p=reject; adkim=r; aspf=r"]];
  DNS[d] = [["v=spf1 -all"]];
}

export async function dnsStub(name: string, rrtype: string): Promise<string[][]> {
  const hit = rrtype === "TXT" ? DNS[name.toLowerCase()] : undefined;
  if (hit) return hit;
  throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: "ENOTFOUND" });
}

export interface ReplyOptions {
  from: string;
  to: string;
  subject?: string;
  text?: string;
  html?: string;
  inReplyTo?: string;
  headers?: Record<string, string>;
  /** DKIM-sign with the From domain's key (default true). */
  sign?: boolean;
  messageId?: string;
}

let n = 0;

/** A reply as a mail client would write it: raw MIME. */
export async function composeReply(o: ReplyOptions): Promise<Buffer> {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows" });
  const info = await t.sendMail({
    from: o.from,
    to: o.to,
    subject: o.subject ?? "Re: approval",
    ...(o.text !== undefined ? { text: o.text } : {}),
    ...(o.html !== undefined ? { html: o.html } : {}),
    ...(o.inReplyTo ? { inReplyTo: o.inReplyTo, references: [o.inReplyTo] } : {}),
    messageId: o.messageId ?? `<reply.${Date.now()}.${++n}@${APPROVER_DOMAIN}>`,
    ...(o.headers ? { headers: o.headers } : {}),
    ...(o.sign === false ? {} : { dkim: { domainName: o.from.slice(o.from.lastIndexOf("@") + 1).replace(/>.*$/, ""), keySelector: SELECTOR, privateKey } }),
  });
  return info.message as Buffer;
}

/** Hand-written raw MIME, DKIM-signed by the From domain as the approver's provider would. */
export async function signRaw(raw: string, fromDomain = APPROVER_DOMAIN): Promise<Buffer> {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows" });
  const info = await t.sendMail({ raw, dkim: { domainName: fromDomain, keySelector: SELECTOR, privateKey } });
  return info.message as Buffer;
}

/** Delivers raw MIME to an SMTP server as the approver's MTA would. */
export async function deliverSmtp(port: number, raw: Buffer, envelope: { from: string; to: string }): Promise<void> {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true });
  try {
    await t.sendMail({ envelope, raw });
  } finally {
    t.close();
  }
}
