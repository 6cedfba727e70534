import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { AuditBrokenError } from "../errors.ts";
import { formatAnchorLine, newestAnchor, parseAnchorFile, type AuditAnchor } from "./anchor.ts";
import type { AuditLog } from "./log.ts";

export interface AnchorPublisherOptions {
  /** `audit.anchorInterval` in ms. */
  intervalMs: number;
  /** `audit.anchorFile`: anchors are appended here as `<ISO time> <seq>:<hash>` lines, one per new head. */
  file?: string | undefined;
  /** Every anchor is logged as one `audit anchor` line with `seq` and `hash`. */
  log: Logger;
  /** Called with every anchor published, e.g. to set a metrics gauge. */
  onAnchor?: (anchor: AuditAnchor) => void;
  now?: () => number;
}

export interface AnchorPublisher {
  /** Stops the timer and waits for a publish in progress. */
  stop(): Promise<void>;
}

/**
 * Publishes the audit head outside Redis every `intervalMs` (first at once): a log line, the
 * `onAnchor` callback and, with `file`, a line in the anchor file when the head has moved.
 * Someone who can write to Redis can delete the newest entries and roll the head back, leaving
 * a chain that verifies; a published anchor is what they cannot take back.
 *
 * Before publishing, the new head must extend the previous anchor (the one published last, or
 * the newest in `file` after a restart). If it does not, the log was rolled back or rewritten:
 * that is logged as an error and nothing is published, so the anchors keep pointing at the
 * history that existed and `clawgate audit verify --anchor FILE` fails.
 */
export function startAnchorPublisher(audit: Pick<AuditLog, "head" | "read">, opts: AnchorPublisherOptions): AnchorPublisher {
  const { intervalMs, file, log, onAnchor, now = Date.now } = opts;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError(`anchor interval must be a positive number of ms, got ${intervalMs}`);
  let last: AuditAnchor | undefined;
  let fileRead = file === undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function publish(): Promise<void> {
    if (!fileRead && file !== undefined) {
      fileRead = true;
      try {
        last = await newestInFile(file);
      } catch (err) {
        // Still publish: the log line and the callback are anchors too.
        log.error({ err }, `cannot read the newest anchor from ${file}; publishing without checking against it`);
      }
    }
    const head = await audit.head();
    const problem = await rollbackProblem(audit, last, head);
    if (problem !== undefined) {
      log.error({ anchor: last, head }, `audit anchor not published: ${problem}; run \`clawgate audit verify --anchor ${file ?? `${last?.seq}:${last?.hash}`}\``);
      return;
    }
    if (head === null) return;
    const anchor: AuditAnchor = { seq: head.seq, hash: head.hash, at: new Date(now()).toISOString() };
    log.info({ seq: anchor.seq, hash: anchor.hash }, "audit anchor");
    try {
      onAnchor?.(anchor);
    } catch (err) {
      log.error({ err }, "audit anchor callback failed");
    }
    if (file !== undefined && (last === undefined || last.seq !== anchor.seq)) {
      await mkdir(dirname(file), { recursive: true });
      await appendFile(file, formatAnchorLine(anchor));
    }
    last = anchor;
  }

  const loop = (): void => {
    running = publish()
      .catch((err: unknown) => {
        // A broken log is what anchors exist to expose; Redis being away is routine.
        if (err instanceof AuditBrokenError) log.error({ err }, `audit anchor not published: ${err.message}`);
        else log.warn({ err }, "audit anchor not published; retrying at the next interval");
      })
      .finally(() => {
        if (stopped) return;
        timer = setTimeout(loop, intervalMs);
        // Anchoring alone must not keep a process alive.
        timer.unref();
      });
  };
  loop();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

async function newestInFile(file: string): Promise<AuditAnchor | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return newestAnchor(parseAnchorFile(text, `anchor file ${file}`));
}

/** Why `head` does not extend `last`, if it does not. */
async function rollbackProblem(
  audit: Pick<AuditLog, "read">,
  last: AuditAnchor | undefined,
  head: { seq: number; hash: string } | null,
): Promise<string | undefined> {
  if (last === undefined) return undefined;
  const was = `anchor ${last.seq}:${last.hash}`;
  if (head === null) return `the audit log is empty but ${was} was published`;
  if (head.seq < last.seq) return `the audit head is at seq ${head.seq}, behind ${was}: the newest entries were deleted and the head rolled back`;
  if (head.seq === last.seq) return head.hash === last.hash ? undefined : `the audit head hash ${head.hash} differs from ${was}`;
  const [entry] = await audit.read({ fromSeq: last.seq, limit: 1 });
  if (entry === undefined || entry.seq !== last.seq) return `entry ${last.seq} of ${was} is gone from the audit log`;
  if (entry.hash !== last.hash) return `entry ${last.seq} now has hash ${entry.hash}, not the ${was}: the log was rewritten`;
  return undefined;
}
