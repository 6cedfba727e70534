import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface SunkMail {
  envelopeTo: string[];
  mail: ParsedMail;
  raw: Buffer;
}

/** An SMTP server capturing what clawgate sends (the outbound relay of a real deployment). */
export interface SmtpSink {
  port: number;
  mails: SunkMail[];
  waitFor(pred: (m: SunkMail) => boolean, timeoutMs?: number): Promise<SunkMail>;
  close(): Promise<void>;
}

export async function startSink(listenPort = 0): Promise<SmtpSink> {
  const mails: SunkMail[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        void simpleParser(raw).then((mail) => {
          mails.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address.toLowerCase()), mail, raw });
          for (const w of waiters.splice(0)) w();
          cb();
        }, cb);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    async waitFor(pred, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = mails.find(pred);
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching mail within ${timeoutMs} ms; got: ${mails.map((m) => `${m.envelopeTo.join(",")}: ${m.mail.subject}`).join(" | ")}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => (clearTimeout(t), resolve()));
        });
      }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
