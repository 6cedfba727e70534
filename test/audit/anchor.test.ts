import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BadRequestError } from "../../src/errors.ts";
import { parseAnchor, parseAnchorFile, readAnchorFile, type AuditAnchor } from "../../src/audit/anchor.ts";
import { startAnchorPublisher, type AnchorPublisher } from "../../src/audit/anchorPublisher.ts";
import { GENESIS_HASH, chainHash } from "../../src/audit/chain.ts";
import { auditKeys } from "../../src/audit/keys.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { connect, deleteKeys, rewriteStream, uniquePrefix } from "./helpers.ts";

const HMAC_KEY = `anchor-tests-${randomUUID()}`;

let redis: Redis;
let prefix: string;
let dir: string;

beforeEach(async () => {
  redis = connect();
  prefix = uniquePrefix();
  dir = await mkdtemp(join(tmpdir(), "clawgate-anchor-"));
});

afterEach(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await rm(dir, { recursive: true, force: true });
});

async function chainOf(n: number): Promise<AuditLog> {
  const log = new AuditLog(redis, { prefix, hmacKey: HMAC_KEY });
  for (let i = 1; i <= n; i++) await log.append({ type: "decision", approvalId: `ap_${i}`, decision: "deny" });
  return log;
}

/**
 * What an attacker with Redis write access does: drop the newest entries and point the head at
 * the new last one. With `rebuild` the stream is recreated rather than XDELed, since XADD never
 * reuses a deleted id and so appending could not go on.
 */
async function truncateAndRollBack(keepSeq: number, rebuild = false): Promise<void> {
  const keys = auditKeys(prefix);
  if (rebuild) {
    await rewriteStream(redis, keys.stream, (seq, f) => (seq > keepSeq ? null : f));
  } else {
    const gone = await redis.xrange(keys.stream, `(0-${keepSeq}`, "+");
    await redis.xdel(keys.stream, ...gone.map(([id]) => id));
  }
  const [[, fields] = ["", []]] = await redis.xrange(keys.stream, `0-${keepSeq}`, `0-${keepSeq}`);
  await redis.hset(keys.head, "seq", String(keepSeq), "hash", fields[fields.indexOf("hash") + 1] as string);
}

describe("anchors", () => {
  it("parse SEQ:HASH and anchor-file lines, and name the bad line", () => {
    const hash = "a".repeat(40);
    expect(parseAnchor(`45:${hash}`)).toEqual({ seq: 45, hash });
    for (const bad of ["45", `0:${hash}`, `x:${hash}`, `45:${"a".repeat(39)}`, `45:${"g".repeat(40)}`]) expect(parseAnchor(bad)).toBeUndefined();
    expect(parseAnchorFile(`# anchors\n2025-01-01T00:00:00.000Z 3:${hash}\n\n7:${"b".repeat(40)}\n`)).toEqual([
      { seq: 3, hash, at: "2025-01-01T00:00:00.000Z" },
      { seq: 7, hash: "b".repeat(40) },
    ]);
    expect(() => parseAnchorFile(`3:${hash}\nnot an anchor\n`, "f")).toThrow(/f line 2 is not/);
  });

  it("reading a missing or empty anchor file is a clear error", async () => {
    await expect(readAnchorFile(join(dir, "nope"))).rejects.toThrow(/does not exist/);
    await writeFile(join(dir, "empty"), "# nothing yet\n");
    await expect(readAnchorFile(join(dir, "empty"))).rejects.toBeInstanceOf(BadRequestError);
  });
});

describe("AuditLog.verify({ anchor })", () => {
  it("passes when the log reaches and matches the anchor", async () => {
    const log = await chainOf(5);
    const head = await log.head();
    expect(head?.seq).toBe(5);
    expect(await log.verify({ anchor: head! })).toMatchObject({ ok: true, entries: 5, anchor: head });
    await log.append({ type: "decision" });
    expect(await log.verify({ anchor: head! })).toMatchObject({ ok: true, entries: 6 });
  });

  it("catches deleted newest entries with the head rolled back, which verifies without it, even with an HMAC key", async () => {
    const log = await chainOf(45);
    const anchor = (await log.head())!;
    await truncateAndRollBack(40);

    expect(await log.verify()).toMatchObject({ ok: true, entries: 40 });
    const result = await log.verify({ anchor });
    expect(result).toMatchObject({ ok: false, entries: 40, brokenAt: { seq: 40, streamId: "0-40", problem: "truncated" } });
    expect(!result.ok && result.brokenAt.detail).toBe(
      `the log ends at seq 40 but the anchor says 45 existed with hash ${anchor.hash}: entries 41–45 are missing`,
    );
  });

  it("catches history rewritten after a rollback: new entries past the anchor's seq do not match it", async () => {
    const log = await chainOf(5);
    const anchor = (await log.head())!;
    await truncateAndRollBack(3, true);
    // The attacker (or an honest writer after the rollback) appends new entries 4 and 5.
    await log.append({ type: "decision", decision: "allow-always" });
    await log.append({ type: "decision", decision: "allow-always" });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 5 });
    expect(await log.verify({ anchor })).toMatchObject({ ok: false, entries: 4, brokenAt: { seq: 5, problem: "anchor_mismatch" } });
  });

  it("without a key, an anchor still pins everything before it: a re-hashed edit fails at the anchor", async () => {
    const log = new AuditLog(redis, { prefix });
    for (let i = 1; i <= 4; i++) await log.append({ type: "decision", approvalId: `ap_${i}`, decision: "deny" });
    const anchor = (await log.head())!;
    // Rewrite entry 2 and recompute every later hash and the head: verifies without the anchor.
    let prev = "";
    await rewriteStream(redis, auditKeys(prefix).stream, (seq, f) => {
      const entry = seq === 2 ? (f.entry as string).replace('"deny"', '"allow-always"') : (f.entry as string);
      const p = seq === 1 ? GENESIS_HASH : prev;
      prev = chainHash(p, String(seq), f.ts as string, entry);
      return { ...f, entry, hash: prev };
    });
    await redis.hset(auditKeys(prefix).head, "hash", prev);
    expect(await log.verify()).toMatchObject({ ok: true, entries: 4 });
    expect(await log.verify({ anchor })).toMatchObject({ ok: false, brokenAt: { seq: 4, problem: "anchor_mismatch" } });
  });

  it("an emptied log with an anchor is truncated; all anchors of a file are checked", async () => {
    const log = await chainOf(3);
    const a2: AuditAnchor = { seq: 2, hash: (await log.read({ fromSeq: 2, limit: 1 }))[0]!.hash };
    const a3 = (await log.head())!;
    expect(await log.verify({ anchor: [a2, a3] })).toMatchObject({ ok: true, anchor: a3 });
    expect(await log.verify({ anchor: [{ seq: 2, hash: "f".repeat(40) }, a3] })).toMatchObject({ ok: false, brokenAt: { seq: 2, problem: "anchor_mismatch" } });
    await redis.del(auditKeys(prefix).stream, auditKeys(prefix).head);
    const result = await log.verify({ anchor: a3 });
    expect(!result.ok && result.brokenAt).toMatchObject({ problem: "truncated", detail: expect.stringContaining("the log is empty but the anchor says 3 existed") });
  });
});

/** A pino logger whose JSON lines land in `lines`, each also handed to `onLine`. */
function capturingLogger(lines: Array<Record<string, unknown>>, onLine?: (line: Record<string, unknown>) => void) {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) {
        if (l.trim() === "") continue;
        const line = JSON.parse(l) as Record<string, unknown>;
        lines.push(line);
        onLine?.(line);
      }
      cb();
    },
  });
  return pino({ level: "info" }, sink);
}

describe("startAnchorPublisher", () => {
  let publisher: AnchorPublisher | undefined;
  afterEach(async () => {
    await publisher?.stop();
    publisher = undefined;
  });

  /** Resolves with the first anchor published for which `pred` holds. */
  function nextAnchor(anchors: AuditAnchor[], waiters: Array<() => void>, pred: (a: AuditAnchor) => boolean): Promise<AuditAnchor> {
    return new Promise((resolve) => {
      const check = () => {
        const hit = anchors.find(pred);
        if (hit) resolve(hit);
        else waiters.push(check);
      };
      check();
    });
  }

  it("logs each anchor, calls onAnchor, and appends a line to the file when the head moved", async () => {
    const log = await chainOf(3);
    const file = join(dir, "sub", "anchors.log");
    const lines: Array<Record<string, unknown>> = [];
    const anchors: AuditAnchor[] = [];
    const waiters: Array<() => void> = [];
    publisher = startAnchorPublisher(log, {
      intervalMs: 10,
      file,
      log: capturingLogger(lines),
      onAnchor: (a) => {
        anchors.push(a);
        for (const w of waiters.splice(0)) w();
      },
    });
    const first = await nextAnchor(anchors, waiters, (a) => a.seq === 3);
    expect(first).toMatchObject({ seq: 3, hash: (await log.head())!.hash });
    await log.append({ type: "decision" });
    await log.append({ type: "decision" });
    const fifth = await nextAnchor(anchors, waiters, (a) => a.seq === 5);
    // Several intervals with no new entry must not grow the file.
    const count = anchors.length;
    await nextAnchor(anchors, waiters, () => anchors.length >= count + 3);
    await publisher.stop();

    const inFile = parseAnchorFile(await readFile(file, "utf8"));
    expect(inFile.map((a) => a.seq)).toEqual([3, 5]);
    expect(inFile[1]).toMatchObject({ seq: 5, hash: fifth.hash, at: fifth.at });
    expect(Date.parse(inFile[1]!.at!)).not.toBeNaN();
    const logged = lines.filter((l) => l.msg === "audit anchor");
    expect(logged.length).toBe(anchors.length);
    expect(logged.at(-1)).toMatchObject({ seq: 5, hash: fifth.hash });
    expect(await log.verify({ anchor: await readAnchorFile(file) })).toMatchObject({ ok: true, anchor: { seq: 5 } });
  });

  it("after a rollback, publishes nothing that would hide it and logs an error, also after a restart", async () => {
    const log = await chainOf(6);
    const file = join(dir, "anchors.log");
    const anchors: AuditAnchor[] = [];
    const waiters: Array<() => void> = [];
    const onAnchor = (a: AuditAnchor) => {
      anchors.push(a);
      for (const w of waiters.splice(0)) w();
    };
    publisher = startAnchorPublisher(log, { intervalMs: 10, file, log: capturingLogger([]), onAnchor });
    await nextAnchor(anchors, waiters, (a) => a.seq === 6);
    await publisher.stop();

    await truncateAndRollBack(4, true);
    await log.append({ type: "decision", decision: "allow-always" });

    // A restarted publisher reads the newest anchor back from the file and refuses the new head.
    const lines: Array<Record<string, unknown>> = [];
    await new Promise<void>((resolve) => {
      const logger = capturingLogger(lines, (line) => line.level === 50 && resolve());
      publisher = startAnchorPublisher(log, { intervalMs: 10, file, log: logger, onAnchor });
    });
    await publisher.stop();
    const error = lines.find((l) => l.level === 50);
    expect(String(error?.msg)).toContain("the audit head is at seq 5, behind anchor 6:");
    expect(anchors.every((a) => a.seq === 6)).toBe(true);
    expect(parseAnchorFile(await readFile(file, "utf8")).map((a) => a.seq)).toEqual([6]);
    expect(await log.verify({ anchor: await readAnchorFile(file) })).toMatchObject({ ok: false, brokenAt: { problem: "truncated", seq: 5 } });
  });
});
