import { createHash } from "node:crypto";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import type { ApprovalRecord } from "../../src/approvals/record.ts";
import type { ApprovalStore } from "../../src/approvals/store.ts";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import { toChatReply } from "../../src/errors.ts";
import type { InboundDecisions } from "../../src/inbound/decisions.ts";
import type { Identity } from "../../src/inbound/identity.ts";
import type { Logger } from "../../src/log.ts";
import { answerMail } from "../../templates/email.ts";
import { bareAddress, replyAddress, tokenFrom } from "./address.ts";
import { dmarcRefusal, type DNSResolver, type Transport } from "./auth.ts";
import type { Mailer } from "./mailer.ts";
import { replyText } from "./body.ts";
import { readReply } from "./reply.ts";
import { parseToken, type ReplyTokens } from "./token.ts";

type EmailConfig = NonNullable<ClawgateConfig["email"]>;

export type InboundVia = "smtp" | "imap" | "webhook";

export type InboundOutcome =
  | { kind: "ignored"; why: string }
  | { kind: "decided"; approvalId: string; state: string }
  | { kind: "refused"; approvalId?: string; why: string }
  | { kind: "answered"; approvalId?: string; why: string };

export interface InboundDeps {
  email: EmailConfig;
  local: string;
  store: ApprovalStore;
  decisions: InboundDecisions;
  tokens: ReplyTokens;
  mailer: Mailer;
  log: Logger;
  resolver?: DNSResolver | undefined;
}

const SEEN_TTL_S = 7 * 86_400;

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  return (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.flatMap((v) => (v.address ? [v.address] : [])));
}

function headerText(mail: ParsedMail, name: string): string {
  return mail.headerLines
    .filter((h) => h.key === name)
    .map((h) => h.line.slice(h.line.indexOf(":") + 1).trim())
    .join(" ");
}

/** Why a message is an automatic one (auto-reply, bounce, list mail) that must never be answered; null for a person's mail. */
function automatic(mail: ParsedMail, envelopeFrom: string | null | undefined): string | null {
  const auto = headerText(mail, "auto-submitted").toLowerCase();
  if (auto && !auto.startsWith("no")) return `Auto-Submitted: ${auto}`;
  if (envelopeFrom === "") return "empty return path (a bounce)";
  const returnPath = headerText(mail, "return-path");
  if (/^<\s*>$/.test(returnPath)) return "empty return path (a bounce)";
  if (headerText(mail, "x-autoreply") || headerText(mail, "x-autorespond")) return "auto-reply header";
  if (/^(bulk|junk|list|auto_reply)$/i.test(headerText(mail, "precedence"))) return "Precedence: bulk";
  const from = addresses(mail.from)[0] ?? "";
  if (/^(mailer-daemon|postmaster)@/i.test(from)) return "from MAILER-DAEMON";
  if (/multipart\/report/i.test(headerText(mail, "content-type"))) return "delivery report";
  return null;
}

/**
 * One reply, whichever way it came in (SMTP listener, IMAP, webhook): parse → drop automatic
 * mail → token (valid, unexpired, issued to the sender) → DMARC unless turned off → the
 * first line, exactly one of the three answers → the one inbound decision path → answer
 * the sender. Refusals are recorded
 * through the approval service (audited) and the approval stays pending. Throws only when the
 * reply could not be processed at all (e.g. Redis down): the caller then keeps the mail for
 * another try, so nothing is lost.
 */
export class InboundMail {
  constructor(private readonly deps: InboundDeps) {}

  async handle(raw: Buffer, via: InboundVia, transport: Transport & { to?: string[] } = {}): Promise<InboundOutcome> {
    const { store, log } = this.deps;
    const mail = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true });
    const msgId = mail.messageId ?? "";
    const seenKey = msgId ? `${store.k.tag}:email:seen:${createHash("sha256").update(msgId).digest("hex").slice(0, 32)}` : null;
    if (seenKey && (await store.redis.exists(seenKey))) return { kind: "ignored", why: "already processed (same Message-ID)" };
    const out = await this.process(raw, mail, transport);
    if (seenKey) await store.redis.set(seenKey, "1", "EX", SEEN_TTL_S);
    log.info({ via, messageId: msgId, outcome: out.kind, ...("why" in out ? { why: out.why } : {}), ...("approvalId" in out ? { approvalId: out.approvalId } : {}) }, "email reply processed");
    return out;
  }

  private async process(raw: Buffer, mail: ParsedMail, transport: Transport & { to?: string[] }): Promise<InboundOutcome> {
    const { email, local, store, decisions, tokens } = this.deps;
    const auto = automatic(mail, transport.sender);
    if (auto) return { kind: "ignored", why: auto };
    const sender = bareAddress(addresses(mail.from)[0] ?? "");
    if (!sender.includes("@")) return { kind: "ignored", why: "no From address" };
    const recipients = [...(transport.to ?? []), ...addresses(mail.to), ...addresses(mail.cc), headerText(mail, "delivered-to"), headerText(mail, "x-original-to")].filter(Boolean);
    const rawToken = tokenFrom(recipients, local, email.replyDomain);
    const subject = mail.subject ?? "clawgate";
    const answer = (line: string, approvalId?: string, help = false) => this.answer(mail, sender, subject, line, help, approvalId);
    if (!rawToken) return { kind: "ignored", why: "not sent to a reply address" };
    const token = parseToken(rawToken);
    const record = token ? await store.get(token.approvalId) : null;
    const identity: Identity = { channel: "email", id: sender };
    const actor = decisions.actorOf(identity);
    const refuse = async (why: string, id?: string): Promise<InboundOutcome> => {
      if (id) {
        try {
          await decisions.service.refuse({ id, actor, via: "email", why });
        } catch (err) {
          await answer(toChatReply(err), id);
          return { kind: "refused", approvalId: id, why };
        }
      }
      await answer(`clawgate refused your reply: ${why}`, id);
      return { kind: "refused", ...(id ? { approvalId: id } : {}), why };
    };
    if (!token || !record) return refuse("this reply address is not valid (unknown or damaged token); reply to the approval mail itself");
    const approvers = new Set(email.approvers.map((a) => a.toLowerCase()));
    const isChannelApprover = (i: Identity) => approvers.has(i.id.toLowerCase());
    if (record.state === "pending") {
      // Who the sender is matters before which address they used: a non-approver is told so
      // (the pipeline has recorded the refusal).
      const checked = await decisions.check({ identity, approvalId: record.id, decision: "deny", isChannelApprover });
      if (checked.kind === "refused") {
        await answer(`clawgate refused your reply: ${checked.why}`, record.id);
        return { kind: "refused", approvalId: record.id, why: checked.why };
      }
    }
    if (!tokens.valid(token, sender, record.deadline)) {
      const issuedTo = await this.issuedTo(record, token);
      return refuse(
        issuedTo ? "this reply address was issued to another recipient; reply to the mail clawgate sent to you" : "this reply address was not issued to you (or was tampered with)",
        record.id,
      );
    }
    if (record.state === "pending" && Date.now() > record.deadline) return refuse("this request has expired; the reply address is no longer valid", record.id);
    // Every path, the webhook included: a provider's secret says the provider sent the
    // request, not that the approver sent the mail inside it.
    if (email.inbound.requireAuth !== false) {
      const why = await dmarcRefusal(raw, sender.slice(sender.lastIndexOf("@") + 1), transport, this.deps.resolver);
      if (why) return refuse(why, record.id);
    }
    const verb = readReply(await replyText(mail));
    if ("error" in verb) {
      await answer(verb.error, record.id, true);
      return { kind: "answered", approvalId: record.id, why: verb.error };
    }
    const out = await decisions.run({ identity, approvalId: record.id, decision: verb.decision, reason: verb.reason, isChannelApprover });
    if (out.kind === "decided") {
      await answer(confirmation(record, out.resolution.state, verb.decision, out.resolution.reason), record.id);
      return { kind: "decided", approvalId: record.id, state: out.resolution.state };
    }
    await answer(toChatReply(out.error), record.id);
    return { kind: out.kind === "refused" ? "refused" : "answered", approvalId: record.id, why: out.error.message };
  }

  /** Another recipient's address this token was issued to, if any (only for a clearer refusal). */
  private async issuedTo(record: ApprovalRecord, token: { approvalId: string; sig: string }): Promise<string | null> {
    const fields = await this.deps.store.redis.hkeys(this.deps.store.k.refs(record.id));
    for (const f of fields) {
      const [channel, target] = f.split("|");
      if (channel === "email" && target && this.deps.tokens.valid(token, target, record.deadline)) return target;
    }
    return null;
  }

  /** Answers go to the sender in the reply's thread, marked auto-replied so responders do not answer back. */
  private async answer(mail: ParsedMail, to: string, subject: string, line: string, help: boolean, approvalId?: string): Promise<void> {
    const { email, local, tokens, log } = this.deps;
    const body = answerMail(subject, line, help);
    const refs = [...(Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : []), ...(mail.messageId ? [mail.messageId] : [])];
    let replyTo: string | undefined;
    if (approvalId) {
      const record = await this.deps.store.get(approvalId);
      if (record?.state === "pending") replyTo = replyAddress(local, tokens.issue(record.id, to, record.deadline), email.replyDomain);
    }
    try {
      await this.deps.mailer.send({
        to,
        ...(replyTo ? { replyTo } : {}),
        subject: body.subject,
        text: body.text,
        html: body.html,
        messageId: `<clawgate.answer.${createHash("sha256").update(`${mail.messageId ?? ""}|${line}`).digest("hex").slice(0, 24)}@${email.replyDomain}>`,
        ...(mail.messageId ? { inReplyTo: mail.messageId } : {}),
        references: refs,
        autoSubmitted: "auto-replied",
      });
    } catch (err) {
      // The decision (or refusal) stands either way; only the courtesy answer is lost.
      log.warn({ to, approvalId, err: (err as Error).message }, "could not send the answer to an email reply");
    }
  }
}

function confirmation(record: ApprovalRecord, state: string, decision: string, reason: string | undefined): string {
  if (state === "denied") return `Denied: ${record.id} (${record.tool}). The agent was told: ${reason ?? ""}`;
  if (decision === "allow-always") return `Approved always: ${record.id} (${record.tool}).${record.alwaysAllowRule ? ` From now on ${record.alwaysAllowRule} is allowed without asking.` : ""}`;
  return `Approved: ${record.id} (${record.tool}). The call goes ahead.`;
}
