import type { AuditEvent } from "../audit/event.ts";
import { AuditBrokenError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { compareIds } from "./consumer.ts";
import type { AuditSink } from "./handlers.ts";

export interface HeldAuditState {
  broken: string | null;
  waiting: number;
}

/**
 * serve's audit appends, kept in event order through a broken head. When the log refuses an
 * append (AuditBrokenError: its head was rolled back, deleted or garbled), that is reported
 * once, loudly, and from then on every event's append is held: the consumer parks the event
 * (pending in the stream, never dead-lettered) and retries the oldest one until the head is
 * repaired; only the oldest waiting event may try, so the ones that waited go in in their order,
 * and events that arrive meanwhile queue behind them. The dedupe key is the event's stream id,
 * which is also what orders them.
 */
export class HeldAudit implements AuditSink {
  private broken: string | null = null;
  /** Stream ids of events whose append is held, until each goes through. */
  private readonly waiting = new Set<string>();

  constructor(
    private readonly log: Pick<{ append(event: AuditEvent, opts?: { dedupeKey?: string }): Promise<unknown> }, "append">,
    private readonly logger: Logger,
    private readonly onChange: (s: HeldAuditState) => void = () => undefined,
  ) {}

  get state(): HeldAuditState {
    return { broken: this.broken, waiting: this.waiting.size };
  }

  async append(event: AuditEvent, opts: { dedupeKey?: string } = {}): Promise<unknown> {
    const key = opts.dedupeKey;
    if (this.broken && key !== undefined && !this.isOldest(key)) {
      this.hold(key);
      throw new AuditBrokenError(`audit append held behind older events: ${this.broken}`);
    }
    let result: unknown;
    try {
      result = await this.log.append(event, opts);
    } catch (err) {
      if (err instanceof AuditBrokenError && key !== undefined) this.fail(key, err);
      throw err;
    }
    if (key !== undefined) this.settled(key);
    return result;
  }

  /** The event left for good (appended, or dead-lettered for another reason): nothing waits on it. */
  settled(key: string): void {
    const was = this.waiting.delete(key);
    if (this.broken && this.waiting.size === 0) {
      this.broken = null;
      this.logger.warn("audit log repaired: appends resumed, and the events that waited were appended in their order");
    } else if (!was) return;
    this.onChange(this.state);
  }

  private isOldest(key: string): boolean {
    for (const k of this.waiting) if (compareIds(k, key) < 0) return false;
    return true;
  }

  private hold(key: string): void {
    this.waiting.add(key);
    this.onChange(this.state);
  }

  private fail(key: string, err: AuditBrokenError): void {
    this.waiting.add(key);
    if (!this.broken) {
      this.logger.error(
        { err: err.message },
        "audit log broken: serve cannot append to it, so every event's audit entry waits (nothing is dropped); they are appended in order once the log is repaired: run `clawgate audit verify`, then `clawgate audit repair`",
      );
    }
    this.broken = err.message;
    this.onChange(this.state);
  }
}
