import { readFile } from "node:fs/promises";
import { BadRequestError } from "../errors.ts";

/**
 * A (seq, hash) pair of the chain published outside Redis. Because every hash commits to all
 * entries before it, an anchor pins the whole log up to `seq`: deleting entries at or before
 * it, rolling the head back below it, or rewriting anything before it no longer verifies.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
  /** When it was published (ISO 8601), if known. */
  at?: string;
}

const ANCHOR = /^(\d+):([0-9a-f]{40})$/;

/** `SEQ:HASH`, e.g. `45:3f78…`, as the CLI's `--anchor` takes it. */
export function parseAnchor(text: string): AuditAnchor | undefined {
  const m = ANCHOR.exec(text.trim().toLowerCase());
  if (!m) return undefined;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq) && seq >= 1 ? { seq, hash: m[2] as string } : undefined;
}

/** One anchor-file line: `<ISO time> <seq>:<hash>`. */
export function formatAnchorLine(anchor: AuditAnchor): string {
  return `${anchor.at ?? new Date().toISOString()} ${anchor.seq}:${anchor.hash}\n`;
}

/**
 * Every anchor in an anchor file, in file order. Lines are `[<time> ]<seq>:<hash>`; blank
 * lines and `#` comments are skipped. Anything else is an error naming the line, because a
 * silently skipped anchor would weaken the check without anyone noticing.
 */
export function parseAnchorFile(text: string, source = "anchor file"): AuditAnchor[] {
  const anchors: AuditAnchor[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const parts = line.split(/\s+/);
    const anchor = parts.length <= 2 ? parseAnchor(parts.at(-1) as string) : undefined;
    if (anchor === undefined) {
      throw new BadRequestError(`${source} line ${i + 1} is not "<time> <seq>:<hash>": ${JSON.stringify(line.slice(0, 120))}`);
    }
    anchors.push(parts.length === 2 ? { ...anchor, at: parts[0] as string } : anchor);
  }
  return anchors;
}

/** Reads an anchor file; a missing or empty file is an error, since it would check nothing. */
export async function readAnchorFile(path: string): Promise<AuditAnchor[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read: ${(err as Error).message}`;
    throw new BadRequestError(`anchor file ${path} ${why}`);
  }
  const anchors = parseAnchorFile(text, `anchor file ${path}`);
  if (anchors.length === 0) throw new BadRequestError(`anchor file ${path} holds no anchors`);
  return anchors;
}

/** The anchor with the highest seq (the last one in the file on a tie). */
export function newestAnchor(anchors: readonly AuditAnchor[]): AuditAnchor | undefined {
  let newest: AuditAnchor | undefined;
  for (const a of anchors) if (newest === undefined || a.seq >= newest.seq) newest = a;
  return newest;
}
