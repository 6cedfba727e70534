import { ImapFlow } from "imapflow";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import type { Logger } from "../../src/log.ts";
import type { Leader } from "../../src/redis/leader.ts";
import type { InboundMail } from "./inbound.ts";

type ImapConfig = NonNullable<NonNullable<ClawgateConfig["email"]>["inbound"]["imap"]>;

const RETRY_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Watches the reply mailbox over IMAP (IDLE) on the one `serve` replica holding the
 * "email-imap" lease. A message is flagged \Seen only after it was processed; one that could
 * not be processed (Redis down…) stays unseen and is tried again (every 5 s, without holding up
 * the others), so none is lost. Any
 * connection error reconnects with backoff (0.5 s doubling to 30 s).
 */
export class ImapWatcher {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private client: ImapFlow | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly cfg: ImapConfig,
    private readonly leader: Leader,
    private readonly inbound: InboundMail,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.leader.start();
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.client?.logout().catch(() => undefined);
    await this.loop;
    await this.leader.stop();
  }

  private async run(): Promise<void> {
    let backoff = 500;
    while (!this.stopped) {
      if (!this.leader.isLeader) {
        await sleep(200);
        continue;
      }
      try {
        await this.session();
        backoff = 500;
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err: (err as Error).message, retryInMs: backoff }, "IMAP connection failed; reconnecting");
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  private async session(): Promise<void> {
    const client = new ImapFlow({
      host: this.cfg.host,
      port: this.cfg.port,
      secure: this.cfg.secure,
      auth: { user: this.cfg.user, pass: this.cfg.pass },
      logger: false,
      // Enter IDLE soon after each command so new mail is announced at once.
      autoIdleDelay: 200,
      maxIdleTime: 5 * 60_000,
    });
    this.client = client;
    let dirty = true;
    let closed = false;
    const poke = () => {
      const w = this.wake;
      this.wake = null;
      w?.();
    };
    client.on("exists", () => {
      dirty = true;
      poke();
    });
    client.on("close", () => {
      closed = true;
      poke();
    });
    client.on("error", (err: Error) => this.log.warn({ err: err.message }, "IMAP error"));
    try {
      await client.connect();
      await client.mailboxOpen(this.cfg.mailbox);
      this.log.info({ host: this.cfg.host, mailbox: this.cfg.mailbox }, "watching the IMAP mailbox for replies");
      let retryAt = 0;
      while (!this.stopped && !closed && this.leader.isLeader) {
        if (dirty || (retryAt && Date.now() >= retryAt)) {
          dirty = false;
          // Messages that failed stay unseen; try them again in a while (new mail tries at once).
          retryAt = (await this.drain(client)) > 0 ? Date.now() + RETRY_MS : 0;
          continue;
        }
        // Woken by new mail or a closed connection; otherwise re-check leadership every second.
        await Promise.race([new Promise<void>((r) => (this.wake = r)), sleep(1_000)]);
      }
      if (closed && !this.stopped) throw new Error("IMAP connection closed");
    } finally {
      this.client = null;
      if (!closed) await client.logout().catch(() => undefined);
    }
  }

  /** Processes every unseen message; returns how many failed (left unseen for a later try). */
  private async drain(client: ImapFlow): Promise<number> {
    const uids = (await client.search({ seen: false }, { uid: true })) || [];
    let failed = 0;
    for (const uid of uids) {
      if (this.stopped || !this.leader.isLeader) break;
      const msg = await client.fetchOne(String(uid), { source: true }, { uid: true });
      if (!msg || !msg.source) continue;
      try {
        await this.inbound.handle(msg.source, "imap");
      } catch (err) {
        // One message that cannot be processed now (Redis down…) must not hold up the others.
        failed++;
        this.log.warn({ uid, err: (err as Error).message }, "could not process a reply from IMAP; it stays unseen and is tried again");
        continue;
      }
      await client.messageFlagsAdd(String(uid), ["\\Seen"], { uid: true });
    }
    return failed;
  }
}
