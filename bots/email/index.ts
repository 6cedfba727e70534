import { createHash } from "node:crypto";
import { z } from "zod";
import type { Recipient } from "../../src/approvals/events.ts";
import type { ApprovalStore } from "../../src/approvals/store.ts";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import type { Logger } from "../../src/log.ts";
import type { Router } from "../../src/http/router.ts";
import { Leader } from "../../src/redis/leader.ts";
import { closingMail, requestMail } from "../../templates/email.ts";
import { assertMaySend, type ApprovalContext, type ChannelAdapter, type ChannelDeps, type ChannelPacing, type MessageRef, type NotifyKind, type PostMarker } from "../../src/channel/adapter.ts";
import { localPart, replyAddress } from "./address.ts";
import { ImapWatcher } from "./imap.ts";
import { InboundMail } from "./inbound.ts";
import { Mailer } from "./mailer.ts";
import { SmtpListener } from "./smtp-listener.ts";
import { ReplyTokens } from "./token.ts";
import { webhookHandler } from "./webhook.ts";

type EmailConfig = NonNullable<ClawgateConfig["email"]>;

const emailRefSchema = z.object({
  messageId: z.string().min(1),
  to: z.string().min(1),
  /** A reminder or escalation note in the request's thread: gets no closing note of its own. */
  thread: z.boolean().optional(),
});
type EmailRef = z.infer<typeof emailRefSchema>;

/** Replies to the SMTP listener may carry quoted history and attachments. */
const SMTP_MAX_BYTES = 10_000_000;

const short = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

/**
 * Email: one mail per recipient (text + HTML) whose Reply-To is a signed address
 * `<local>+<token>@<replyDomain>` bound to the approval and that recipient; replies come
 * back through the SMTP listener, an IMAP mailbox or a provider webhook and go through the
 * one inbound decision path. SMTP cannot be read back, so `find` relies on a sent-marker
 * written right after the server accepted the mail, and every mail's Message-ID is derived
 * from the approval and ref key: a re-send after a crash repeats the Message-ID, and mail
 * clients and most MTAs drop the duplicate.
 */
export class EmailChannel implements ChannelAdapter {
  readonly name = "email";
  // One SMTP server takes requests and closing notes alike: 20 mails a second between them.
  readonly pacing: ChannelPacing = {
    buckets: { smtp: { intervalMs: 50, burst: 20 } },
    post: () => ({ bucket: "smtp", key: "smtp" }),
    edit: (ref) => ((ref as EmailRef).thread ? null : { bucket: "smtp", key: "smtp" }),
  };
  readonly refSchema = emailRefSchema;
  private readonly cfg: EmailConfig;
  private readonly store: ApprovalStore;
  private readonly mailer: Mailer;
  private readonly local: string;
  private readonly log: Logger;
  private tokens: ReplyTokens | null = null;
  private inbound: InboundMail | null = null;
  private listener: SmtpListener | null = null;
  private imap: ImapWatcher | null = null;
  /** The SMTP listener's port once started (port 0 in config = any free port). */
  smtpPort: number | null = null;

  constructor(private readonly deps: ChannelDeps) {
    this.cfg = deps.config.email as EmailConfig;
    this.store = deps.decisions.service.store;
    this.local = localPart(this.cfg.from);
    this.log = deps.log.child({ channel: "email" });
    this.mailer = new Mailer(this.cfg.smtp, this.cfg.from);
  }

  private async ready(): Promise<{ tokens: ReplyTokens; inbound: InboundMail }> {
    this.tokens ??= await ReplyTokens.load(this.store.redis, `${this.store.k.tag}:email:tokenkey`, this.cfg.tokenSecret);
    this.inbound ??= new InboundMail({
      email: this.cfg,
      local: this.local,
      store: this.store,
      decisions: this.deps.decisions,
      tokens: this.tokens,
      mailer: this.mailer,
      log: this.log,
      resolver: this.deps.dnsResolver,
    });
    return { tokens: this.tokens, inbound: this.inbound };
  }

  routes(router: Router): void {
    const hook = this.cfg.inbound.webhook;
    if (!hook) return;
    router.on("POST", "/email/inbound", webhookHandler(hook.secret, this.deps.config.server.maxBodyBytes, () => this.inbound as InboundMail));
  }

  async start(): Promise<void> {
    const { inbound } = await this.ready();
    const smtp = this.cfg.inbound.smtp;
    if (smtp) {
      this.listener = new SmtpListener({ host: smtp.host, port: smtp.port, local: this.local, domain: this.cfg.replyDomain, maxBytes: SMTP_MAX_BYTES, inbound, log: this.log });
      this.smtpPort = await this.listener.listen();
    }
    const imap = this.cfg.inbound.imap;
    if (imap) {
      const leader = new Leader(this.store.redis, { key: this.store.k.leader("email-imap"), log: this.log });
      this.imap = new ImapWatcher(imap, leader, inbound, this.log);
      this.imap.start();
    }
  }

  async stop(): Promise<void> {
    await this.imap?.stop();
    await this.listener?.close();
    this.mailer.close();
  }

  private sentKey(nonce: string): string {
    return `${this.store.k.tag}:email:sent:${nonce}`;
  }

  async post(ctx: ApprovalContext, recipient: Recipient, kind: NotifyKind, _tier: number, marker: PostMarker): Promise<MessageRef> {
    const { tokens } = await this.ready();
    const record = ctx.record;
    const to = recipient.target.toLowerCase();
    const parent = kind === "request" ? undefined : (ctx.refs.find((r) => r.target === recipient.target && !(r.ref as EmailRef).thread)?.ref as EmailRef | undefined);
    const body = requestMail(record, kind);
    const messageId = `<clawgate.${record.id}.${short(marker.refKey)}@${this.cfg.replyDomain}>`;
    assertMaySend(marker);
    await this.mailer.send({
      to,
      replyTo: replyAddress(this.local, tokens.issue(record.id, to, record.deadline), this.cfg.replyDomain),
      subject: parent ? `Re: ${body.subject}` : body.subject,
      text: body.text,
      html: body.html,
      messageId,
      ...(parent ? { inReplyTo: parent.messageId, references: [parent.messageId] } : {}),
      autoSubmitted: "auto-generated",
    });
    const ref: EmailRef = { messageId, to, ...(parent ? { thread: true } : {}) };
    const ttl = Math.max(60_000, record.deadline - Date.now() + 3_600_000);
    await this.store.redis.set(this.sentKey(marker.nonce), JSON.stringify(ref), "PX", ttl);
    return ref;
  }

  /** SMTP has no read-back: the sent-marker post() wrote once the server accepted the mail. */
  async find(_ctx: ApprovalContext, _recipient: Recipient, _kind: NotifyKind, _tier: number, marker: PostMarker): Promise<MessageRef | null> {
    const raw = await this.store.redis.get(this.sentKey(marker.nonce));
    if (!raw) return null;
    const ref = emailRefSchema.safeParse(JSON.parse(raw));
    return ref.success ? ref.data : null;
  }

  /**
   * A closing note in each recipient's thread. The approver who decided by email already got
   * a confirmation; a note is sent once per recipient (a marker guards retries of the job).
   */
  async update(ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    const r = ref as EmailRef;
    const record = ctx.record;
    if (r.thread || record.state === "pending") return;
    if (record.decidedVia === "email" && record.decidedBy === `email:${r.to}`) return;
    const mark = `${this.store.k.tag}:email:closed:${record.id}:${r.to}`;
    if (!(await this.store.redis.set(mark, "1", "EX", 30 * 86_400, "NX"))) return;
    const note = closingMail(record);
    try {
      await this.mailer.send({
        to: r.to,
        subject: note.subject,
        text: note.text,
        html: note.html,
        messageId: `<clawgate.${record.id}.closed.${short(r.to)}@${this.cfg.replyDomain}>`,
        inReplyTo: r.messageId,
        references: [r.messageId],
        autoSubmitted: "auto-generated",
      });
    } catch (err) {
      await this.store.redis.del(mark);
      throw err;
    }
  }
}
