import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditBrokenError, BadRequestError } from "../../src/errors.ts";
import { GENESIS_HASH, chainHash } from "../../src/audit/chain.ts";
import type { AuditEvent } from "../../src/audit/event.ts";
import { auditKeys } from "../../src/audit/keys.ts";
import { AuditLog, type AppendResult } from "../../src/audit/log.ts";
import { bindLuaScript } from "../../src/lua/script.ts";
import { REDIS_URL, connect, deleteKeys, uniquePrefix } from "./helpers.ts";

const DAY = 86_400_000;

let redis: Redis;
let prefix: string;
const others: Redis[] = [];

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
});

afterEach(async () => {
  await deleteKeys(redis, prefix);
  for (const r of others.splice(0)) r.disconnect();
  redis.disconnect();
});

function connection(): Redis {
  const r = connect();
  others.push(r);
  return r;
}

const outcome = (writer: string, i: number): AuditEvent => ({ type: "tool.outcome", actor: writer, details: { i } });

/**
 * MONITOR on a plain socket: the server's own text, one line per command any client runs.
 * (ioredis's monitor() can trip over lines that arrive with the MONITOR reply on a busy server.)
 */
async function rawMonitor(marker: string): Promise<{ done: Promise<void>; text: () => string; close: () => void }> {
  const { hostname, port } = new URL(REDIS_URL);
  const socket = createConnection({ host: hostname, port: Number(port || 6379) });
  let text = "";
  let markerSeen: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (markerSeen = resolve));
  const started = new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if (text.startsWith("+OK\r\n")) resolve();
      if (text.includes(marker)) markerSeen();
    });
  });
  socket.write("MONITOR\r\n");
  await started;
  return { done, text: () => text, close: () => socket.destroy() };
}

/** Every entry as (writer, i), in seq order; fails unless seqs run 1..n with no gap. */
async function entriesOf(log: AuditLog): Promise<string[]> {
  const records = await log.read({ limit: 10_000 });
  expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
  return records.map((r) => `${r.event.actor}:${String((r.event.details as { i: number }).i)}`);
}

describe("AuditLog.append (hash in Node, compare-and-set in Redis)", () => {
  it("writers on separate connections racing each other keep one unbroken chain holding every entry", async () => {
    const hmacKey = `race-key-${randomUUID()}`;
    const writers = ["w0", "w1", "w2", "w3"].map((name) => ({ name, log: new AuditLog(connection(), { prefix, hmacKey }) }));
    const perWriter = 60;
    const results = await Promise.all(writers.flatMap(({ name, log }) => Array.from({ length: perWriter }, (_, i) => log.append(outcome(name, i)))));

    expect(new Set(results.map((r) => r.seq)).size).toBe(results.length);
    const entries = await entriesOf(writers[0]!.log);
    expect(entries).toHaveLength(4 * perWriter);
    expect(new Set(entries).size).toBe(entries.length);
    const verdict = await new AuditLog(redis, { prefix, hmacKey }).verify();
    expect(verdict).toEqual({ ok: true, entries: 4 * perWriter, head: results.find((r) => r.seq === 4 * perWriter)?.hash });
  });

  it("separate processes appending at once never fork the chain or lose an entry", async () => {
    const hmacKey = `process-key-${randomUUID()}`;
    const script = fileURLToPath(new URL("./fixtures/appender.ts", import.meta.url));
    const run = (writer: string) =>
      new Promise<AppendResult[]>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", script, prefix, writer, "40", hmacKey], {
          env: { ...process.env, REDIS_URL },
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.on("error", reject);
        child.on("close", (code) => {
          clearTimeout(timer);
          if (code !== 0) reject(new Error(`appender ${writer} exited ${code}`));
          else resolve(out.trim().split("\n").map((l) => JSON.parse(l) as AppendResult));
        });
      });
    const results = (await Promise.all(["p0", "p1", "p2"].map(run))).flat();

    expect(results).toHaveLength(120);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    const log = new AuditLog(redis, { prefix, hmacKey });
    const entries = await entriesOf(log);
    expect(new Set(entries)).toEqual(new Set(["p0", "p1", "p2"].flatMap((w) => Array.from({ length: 40 }, (_, i) => `${w}:${i}`))));
    expect(await log.verify()).toMatchObject({ ok: true, entries: 120 });
  });

  it("a writer whose view of the head is stale loses the race, rehashes and appends after the winner", async () => {
    const a = new AuditLog(redis, { prefix });
    const b = new AuditLog(connection(), { prefix });
    await a.append(outcome("a", 1));
    await b.append(outcome("b", 1));
    await b.append(outcome("b", 2));
    // a still believes the head is entry 1; the script must refuse that and a must retry on entry 3.
    const third = await a.append(outcome("a", 2));
    expect(third.seq).toBe(4);
    expect(await entriesOf(a)).toEqual(["a:1", "b:1", "b:2", "a:2"]);
    expect(await a.verify()).toMatchObject({ ok: true, entries: 4, head: third.hash });
  });

  it("never sends the HMAC key to Redis: MONITOR sees no trace of it while appending, reading and verifying", async () => {
    const hmacKey = `never-in-redis-${randomUUID()}`;
    const marker = `monitor-done-${randomUUID()}`;
    const monitor = await rawMonitor(marker);
    try {
      const conn = connection();
      const log = new AuditLog(conn, { prefix, hmacKey });
      for (let i = 0; i < 3; i++) await log.append(outcome("m", i), { dedupeKey: `m:${i}` });
      await log.append(outcome("m", 0), { dedupeKey: "m:0" });
      await new AuditLog(connection(), { prefix, hmacKey }).append(outcome("m2", 0));
      expect(await log.verify()).toMatchObject({ ok: true, entries: 4 });
      await log.head();
      await log.read();
      await conn.echo(marker);
      await monitor.done;
    } finally {
      monitor.close();
    }
    const lines = monitor.text().split("\r\n");
    // The appends really went through this monitor: their scripts ran with our prefix.
    expect(lines.filter((line) => /"(evalsha|eval)"/i.test(line) && line.includes(`{${prefix}}:audit`)).length).toBeGreaterThanOrEqual(5);
    for (const form of [hmacKey, Buffer.from(hmacKey).toString("hex"), Buffer.from(hmacKey).toString("base64")]) {
      expect(monitor.text()).not.toContain(form);
    }
  });

  it("keeps chains written by the old Lua-hashing script verifying, and extends them", async () => {
    const oldSource = readFileSync(new URL("./fixtures/appendAudit-2.lua", import.meta.url), "utf8");
    const old = bindLuaScript(redis, "appendAudit-2", oldSource);
    const keys = auditKeys(prefix);
    for (const hmacKey of ["", `old-chain-key-${randomUUID()}`]) {
      await deleteKeys(redis, prefix);
      for (let i = 0; i < 3; i++) {
        await old.run([keys.stream, keys.head], [JSON.stringify({ actor: "old", details: { i }, type: "tool.outcome" }), String(1_700_000_000_000 + i), hmacKey]);
      }
      const log = new AuditLog(redis, hmacKey === "" ? { prefix } : { prefix, hmacKey });
      expect(await log.verify()).toMatchObject({ ok: true, entries: 3 });
      expect((await log.append(outcome("new", 0))).seq).toBe(4);
      expect(await log.verify()).toMatchObject({ ok: true, entries: 4 });
    }
  });

  it("stores exactly the documented hash, so entries can be checked by hand", async () => {
    const hmacKey = `by-hand-${randomUUID()}`;
    const log = new AuditLog(redis, { prefix, hmacKey, now: () => 1_700_000_000_123 });
    const first = await log.append(outcome("h", 1));
    const [record] = await redis.xrange(auditKeys(prefix).stream, "0-1", "0-1");
    const fields = record?.[1] ?? [];
    const entry = fields[fields.indexOf("entry") + 1] as string;
    expect(first.hash).toBe(chainHash(GENESIS_HASH, "1", "1700000000123", entry, hmacKey));
    expect(await log.head()).toEqual({ seq: 1, hash: first.hash });
  });
});

describe("AuditLog.append with a dedupeKey", () => {
  it("appends once and answers a repeat with the first entry, even after the head moved on", async () => {
    const log = new AuditLog(redis, { prefix });
    const first = await log.append(outcome("d", 1), { dedupeKey: "1700000000000-0" });
    await log.append(outcome("d", 2));
    const again = await log.append(outcome("d", 1), { dedupeKey: "1700000000000-0" });
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ seq: first.seq, hash: first.hash, duplicate: true });
    expect(await entriesOf(log)).toEqual(["d:1", "d:2"]);
    expect(await log.verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it("appends a redelivered event once when several replicas append it at the same time", async () => {
    const replicas = [0, 1, 2].map(() => new AuditLog(connection(), { prefix }));
    const events = Array.from({ length: 50 }, (_, i) => ({ id: `17000-${i}`, event: outcome("e", i) }));
    const perReplica = await Promise.all(replicas.map((log) => Promise.all(events.map(({ id, event }) => log.append(event, { dedupeKey: id })))));

    expect(await entriesOf(replicas[0]!)).toHaveLength(50);
    for (let i = 0; i < events.length; i++) {
      const answers = perReplica.map((results) => results[i]!);
      expect(new Set(answers.map((a) => `${a.seq}:${a.hash}`)).size).toBe(1);
      expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
    }
    expect(await replicas[1]!.verify()).toMatchObject({ ok: true, entries: 50 });
  });

  it("forgets keys older than the dedupe window, trimming the index as it appends", async () => {
    let now = 1_700_000_000_000;
    const log = new AuditLog(redis, { prefix, dedupeWindowMs: DAY, now: () => now });
    const dedupe = auditKeys(prefix).dedupe;
    for (let i = 0; i < 5; i++) await log.append(outcome("w", i), { dedupeKey: `old-${i}` });
    expect(await redis.zcard(dedupe)).toBe(5);
    expect((await log.append(outcome("w", 0), { dedupeKey: "old-0" })).duplicate).toBe(true);

    now += DAY + 1;
    await log.append(outcome("w", 5), { dedupeKey: "new-5" });
    expect(await redis.zrange(dedupe, "0", "-1")).toEqual(["new-5"]);
    // Past the window the key is unknown again, so the event is recorded anew.
    const late = await log.append(outcome("w", 0), { dedupeKey: "old-0" });
    expect(late).toMatchObject({ seq: 7, duplicate: false });
    expect(await redis.zrange(dedupe, "0", "-1", "WITHSCORES")).toEqual(["new-5", "6", "old-0", "7"]);
  });

  it("refuses an empty or oversize dedupeKey and appends nothing", async () => {
    const log = new AuditLog(redis, { prefix });
    await expect(log.append(outcome("x", 1), { dedupeKey: "" })).rejects.toBeInstanceOf(BadRequestError);
    await expect(log.append(outcome("x", 1), { dedupeKey: "k".repeat(257) })).rejects.toBeInstanceOf(BadRequestError);
    expect(await redis.exists(auditKeys(prefix).stream)).toBe(0);
  });

  it("reports a dedupe key whose entry was deleted as a broken log instead of appending again", async () => {
    const log = new AuditLog(redis, { prefix });
    await log.append(outcome("g", 1), { dedupeKey: "k1" });
    await log.append(outcome("g", 2));
    await redis.xdel(auditKeys(prefix).stream, "0-1");
    await expect(log.append(outcome("g", 1), { dedupeKey: "k1" })).rejects.toBeInstanceOf(AuditBrokenError);
    expect(await redis.xlen(auditKeys(prefix).stream)).toBe(1);
  });
});
