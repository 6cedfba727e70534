import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../src/approvals/keys.ts";
import { ApprovalService } from "../../src/approvals/service.ts";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { BIN } from "../helpers/cli.ts";
import { silentLog, testSigner } from "../helpers/fixtures.ts";
import { TEST_KEYS_YAML } from "../helpers/serve.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

/**
 * `clawgate request --wait` interrupted (Ctrl-C, SIGTERM) must leave nothing a later approval
 * could release: the approval is cancelled — with a tombstone if its create is still in flight —
 * and the cancellation is an event, so serve edits every card.
 */

let redis: Redis;
let dir: string;
let prefix: string;
let service: ApprovalService;
const children: ChildProcess[] = [];

beforeAll(() => {
  redis = connect();
  prefix = uniquePrefix("reqint");
  dir = mkdtempSync(join(tmpdir(), "cg-reqint-"));
  writeFileSync(join(dir, "clawgate.yaml"), `redis: { prefix: ${prefix} }\npolicy: { ask: ["exec(deploy *)"] }\napprovals: { timeout: 1m }\n${TEST_KEYS_YAML}\n`);
  service = new ApprovalService(new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 }), silentLog, testSigner);
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

/** The real binary, left running: the test signals it. */
function request(command: string, redisUrl = REDIS_URL) {
  const child = spawn(process.execPath, [BIN, "request", "exec", "--params", JSON.stringify({ command }), "--wait", "--json"], {
    env: { ...process.env, LOG_LEVEL: "silent", CLAWGATE_CONFIG: join(dir, "clawgate.yaml"), REDIS_URL: redisUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string }>((resolve) => child.once("exit", (code) => resolve({ code, stdout })));
  // Bounded: a CLI that ignores its signal fails the test instead of hanging it.
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  void exited.then(() => clearTimeout(timer));
  return { child, exited };
}

async function until<T>(what: string, check: () => Promise<T | null | undefined> | T | null | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function eventsOf(id: string): Promise<string[]> {
  const entries = await redis.xrange(keys(prefix).events, "-", "+");
  return entries.filter(([, f]) => f[f.indexOf("id") + 1] === id).map(([, f]) => f[f.indexOf("type") + 1] as string);
}

/** A later approval of `id` releases nothing: it is refused as already cancelled. */
async function expectApproveRefused(id: string): Promise<void> {
  await expect(service.decide({ id, decision: "allow-once", actor: "cli:boss@host", via: "cli" })).rejects.toMatchObject({ code: "approval_already_decided" });
  expect(await service.store.get(id)).toMatchObject({ state: "cancelled", decidedBy: "clawgate" });
}

describe("clawgate request --wait interrupted", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} while waiting cancels the approval, announces it for serve, and a later approve releases nothing`, async () => {
      const cli = request(`deploy ${signal.toLowerCase()}`);
      const id = await until("the approval", async () => (await redis.zrange(keys(prefix).pending, "0", "0"))[0]);
      // Leased: serve would cancel it on its own only after the CLI stopped renewing.
      expect(await redis.zscore(keys(prefix).leases, id)).not.toBeNull();

      cli.child.kill(signal);
      const out = await cli.exited;
      expect(out.code).toBe(2);
      expect(JSON.parse(out.stdout)).toMatchObject({ id, state: "cancelled", reason: "the requester stopped waiting" });
      // The event serve edits every card from, appended by the same script that cancelled it.
      expect(await eventsOf(id)).toEqual(["approval.created", "approval.cancelled"]);
      expect(await redis.zscore(keys(prefix).pending, id)).toBeNull();
      expect(await redis.zscore(keys(prefix).leases, id)).toBeNull();
      await expectApproveRefused(id);
    });
  }

  it("Ctrl-C while the create is still in flight cancels the approval by the id it chose, so nothing is left to approve", async () => {
    const proxy = await holdingProxy("deploy held-create");
    try {
      const cli = request("deploy held-create", proxy.url);
      // The create script has reached the proxy and is held there: Redis has not seen it.
      await proxy.held;
      cli.child.kill("SIGINT");
      // The CLI now sends its cancel (with a tombstone) for the id it chose; then Redis gets both, in order.
      await until("the cancel to be sent", () => (proxy.heldBytes().includes("the requester stopped before the request was created") ? true : null));
      proxy.release();
      const out = await cli.exited;
      expect(out.code).toBe(2);
      const printed = JSON.parse(out.stdout) as { id: string; state: string; reason: string };
      expect(printed).toMatchObject({ state: "cancelled", reason: "the requester stopped before the request was created" });
      expect(await redis.zscore(keys(prefix).pending, printed.id)).toBeNull();
      expect(await eventsOf(printed.id)).toEqual(["approval.created", "approval.cancelled"]);
      await expectApproveRefused(printed.id);
    } finally {
      await proxy.close();
    }
  });
});

/**
 * A TCP proxy to the test Redis that holds a connection's outgoing bytes from the first chunk
 * containing `marker` until `release()`: a create sent but not yet run, as on a slow link.
 */
async function holdingProxy(marker: string) {
  const upstream = new URL(REDIS_URL);
  const sockets: Socket[] = [];
  let heldChunks: Buffer[] | null = null;
  let flush: (() => void) | null = null;
  let onHeld: () => void = () => undefined;
  const held = new Promise<void>((r) => (onHeld = r));
  const server: Server = createServer((client) => {
    const up = createConnection({ host: upstream.hostname, port: Number(upstream.port || 6379) });
    sockets.push(client, up);
    let holding = false;
    client.on("data", (d: Buffer) => {
      if (!holding && heldChunks === null && d.includes(marker)) {
        holding = true;
        heldChunks = [];
        flush = () => {
          for (const c of heldChunks ?? []) up.write(c);
          holding = false;
        };
        onHeld();
      }
      if (holding) heldChunks?.push(d);
      else up.write(d);
    });
    up.on("data", (d: Buffer) => client.write(d));
    const end = () => {
      client.destroy();
      up.destroy();
    };
    client.on("error", end).on("close", end);
    up.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    held,
    heldBytes: () => Buffer.concat(heldChunks ?? []).toString(),
    release: () => flush?.(),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
