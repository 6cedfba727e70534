import type { Logger } from "../log.ts";
import type { ApprovalStore } from "../approvals/store.ts";

/** How long a denial may wait to be logged and recorded: it is never lost, only written with the next batch. */
const DENIAL_FLUSH_MS = 50;
/** A batch this large is written as soon as the event loop is free, whatever the clock says. */
const MAX_BATCH = 500;
/** A batch this large is written at once, inside the call that fills it: memory stays bounded even if the loop never gets free. */
const MAX_WAITING = 5_000;

export interface Denial {
  tool: string;
  agentId: string | undefined;
  reason: string;
  /** The rule that denied it (null: the mode or an unparsable call), and where the decision came from. */
  rule: string | null;
  source: string;
  at: number;
}

/**
 * Logs and records (`policy.denied`, for serve to audit) the calls the policy denies, off the
 * hook's path: serialising a log line and writing to the Redis socket cost more than deciding
 * the call, so a denied call returns first and its record follows within DENIAL_FLUSH_MS (a
 * full batch as soon as the event loop is free), all of a batch in one pipeline. `flush()`
 * writes what is left (the gate calls it on close).
 */
export class DenialRecorder {
  private batch: Denial[] = [];
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: Logger,
    private readonly store: () => ApprovalStore | undefined,
  ) {}

  add(d: Denial): void {
    this.batch.push(d);
    if (this.batch.length >= MAX_WAITING) void this.flush();
    else if (this.batch.length >= MAX_BATCH) this.soon ??= setImmediate(() => void this.flush()).unref();
    else this.timer ??= setTimeout(() => void this.flush(), DENIAL_FLUSH_MS).unref();
  }

  /** Writes every denial added so far; resolves once they are logged and Redis answered (or failed). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearImmediate(this.soon);
    this.timer = undefined;
    this.soon = undefined;
    const batch = this.batch;
    this.batch = [];
    if (batch.length > 0) {
      for (const d of batch) this.log.info({ tool: d.tool, rule: d.rule, agentId: d.agentId }, "tool call denied by policy");
      const store = this.store();
      const written = store
        ? store
            .appendEvents(batch.map((d) => ({ type: "policy.denied" as const, id: "", at: d.at, data: { tool: d.tool, agentId: d.agentId ?? "", reason: d.reason, rule: d.rule ?? d.source } })))
            .catch((err: unknown) => this.log.error({ err: (err as Error).message, denials: batch.length }, "could not record policy denials"))
        : Promise.resolve();
      this.writing = this.writing.then(() => written);
    }
    return this.writing;
  }
}
