import { z } from "zod";
import { defineChannel } from "../spec.ts";

const port = z.number().int().min(1).max(65_535);

const emailConfig = z.strictObject({
  from: z.string().min(1).describe("sender of approval mails, e.g. \"clawgate <approvals@example.com>\"; its local part is used for reply addresses"),
  replyDomain: z.string().min(1).describe("domain of the reply addresses <local>+<token>@<replyDomain> (its MX must reach one of email.inbound)"),
  tokenSecret: z
    .string()
    .min(16, "use at least 16 characters, e.g. `openssl rand -base64 32`")
    .optional()
    .describe("key that signs reply-address tokens; unset = a random key generated once and kept in Redis (shared by every serve replica)"),
  approvers: z.array(z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, "write an approver as a bare address, e.g. alice@example.com")).default([]).describe("addresses that may decide by reply; an ask emails each of them"),
  smtp: z.strictObject({
    host: z.string().min(1),
    port,
    secure: z.boolean().default(false).describe("TLS from the start (port 465); false = STARTTLS when offered"),
    user: z.string().optional(),
    pass: z.string().optional(),
  }).describe("outbound SMTP server (pooled connections)"),
  inbound: z
    .strictObject({
      imap: z
        .strictObject({
          host: z.string().min(1),
          port,
          secure: z.boolean().default(false),
          user: z.string().min(1),
          pass: z.string().min(1),
          mailbox: z.string().min(1).default("INBOX"),
        })
        .optional()
        .describe("watch this mailbox for replies (IDLE; one serve replica at a time)"),
      smtp: z
        .strictObject({ host: z.string().default("0.0.0.0"), port: z.number().int().min(0).max(65_535) })
        .optional()
        .describe("built-in SMTP listener for the reply domain's MX"),
      webhook: z
        .strictObject({ secret: z.string().min(16, "use at least 16 characters") })
        .optional()
        .describe("POST /email/inbound takes raw MIME from a provider's inbound webhook"),
      requireAuth: z
        .boolean()
        .default(true)
        .describe("replies must pass DMARC (aligned DKIM, or SPF at the SMTP listener) on every inbound path, the webhook included; set false only where the path itself proves the sender"),
    })
    .default({ requireAuth: true })
    .describe("where replies come in (any of imap, smtp, webhook)"),
});
export type EmailConfig = z.output<typeof emailConfig>;

/** Mailboxes compare case-insensitively. */
const lower = (id: string) => id.toLowerCase();

export const emailSpec = defineChannel({
  name: "email",
  label: "email",
  config: emailConfig.optional(),
  // One mail per approver, so each can answer.
  destinations: (cfg) => [...new Set(cfg.approvers.map(lower))],
  address: { pattern: /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, expected: "an email address", placeholder: "address" },
  normalizeId: lower,
  person: {},
  // A mailbox is one person's: mailing it grants its owner the right to decide.
  grants: (target) => target.includes("@"),
  requests: true,
  threads: true,
  callbacks: ["/email/inbound"],
  doctor: async (cfg) => (await import("./doctor.ts")).checkEmail(cfg),
  load: async () => (await import("./index.ts")).EmailChannel,
});
