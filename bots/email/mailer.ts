import { UnrecoverableError } from "bullmq";
import nodemailer, { type Transporter } from "nodemailer";
import type { ClawgateConfig } from "../../src/config/schema.ts";

type SmtpConfig = NonNullable<ClawgateConfig["email"]>["smtp"];

export interface OutgoingMail {
  to: string;
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  /** RFC 3834: "auto-generated" for requests and notes, "auto-replied" for answers to a reply. */
  autoSubmitted: "auto-generated" | "auto-replied";
}

/**
 * Outbound mail over pooled SMTP connections (an unpooled send costs a connection and greeting
 * each time). SMTP 5xx answers are permanent (bullmq UnrecoverableError); 4xx and network
 * errors are left to the queue's retries.
 */
export class Mailer {
  private readonly transport: Transporter;

  constructor(
    smtp: SmtpConfig,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 3,
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? "" } } : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(m: OutgoingMail): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.from,
        to: m.to,
        ...(m.replyTo ? { replyTo: m.replyTo } : {}),
        subject: m.subject,
        text: m.text,
        html: m.html,
        messageId: m.messageId,
        ...(m.inReplyTo ? { inReplyTo: m.inReplyTo } : {}),
        ...(m.references?.length ? { references: m.references } : {}),
        headers: { "Auto-Submitted": m.autoSubmitted, "X-Auto-Response-Suppress": "All" },
      });
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      if (code && code >= 500) throw new UnrecoverableError(`SMTP refused the mail to ${m.to}: ${(err as Error).message}`);
      throw err;
    }
  }

  close(): void {
    this.transport.close();
  }
}
