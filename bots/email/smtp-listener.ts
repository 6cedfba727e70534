import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { Logger } from "../../src/log.ts";
import { isOurs } from "./address.ts";
import type { InboundMail } from "./inbound.ts";

export interface SmtpListenerOptions {
  host: string;
  port: number;
  local: string;
  domain: string;
  maxBytes: number;
  inbound: InboundMail;
  log: Logger;
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

/**
 * The reply domain's MX: accepts mail only for `<local>[+token]@<replyDomain>`, processes each
 * message before answering DATA, and answers 451 (try again later) when it could not be
 * processed, so the sending MTA keeps it: nothing accepted is lost.
 */
export class SmtpListener {
  private readonly server: SMTPServer;

  constructor(private readonly opts: SmtpListenerOptions) {
    this.server = new SMTPServer({
      name: opts.domain,
      banner: "clawgate reply listener",
      authOptional: true,
      disabledCommands: ["AUTH", "STARTTLS"],
      size: opts.maxBytes,
      logger: false,
      onRcptTo: (address, _session, cb) => {
        if (isOurs(address.address, opts.local, opts.domain)) return cb();
        cb(smtpError(`5.1.1 <${address.address}>: no such mailbox here`, 550));
      },
      onData: (stream, session, cb) => void this.receive(stream, session).then(() => cb(), (err: Error) => cb(err)),
    });
    this.server.on("error", (err) => opts.log.warn({ err: err.message }, "SMTP listener error"));
  }

  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    if (stream.sizeExceeded) throw smtpError(`5.3.4 message larger than ${this.opts.maxBytes} bytes`, 552);
    const mailFrom = session.envelope.mailFrom;
    try {
      await this.opts.inbound.handle(Buffer.concat(chunks), "smtp", {
        ip: session.remoteAddress,
        helo: session.hostNameAppearsAs,
        sender: mailFrom ? mailFrom.address : "",
        to: session.envelope.rcptTo.map((r) => r.address),
      });
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, "could not process an inbound mail; asking the sender to retry");
      throw smtpError("4.3.0 temporary failure, try again later", 451);
    }
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const port = (this.server.server.address() as AddressInfo).port;
    this.opts.log.info({ host: this.opts.host, port }, "email SMTP listener is up");
    return port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
