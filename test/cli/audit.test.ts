import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatAnchorLine } from "../../src/audit/anchor.ts";
import { auditKeys } from "../../src/audit/keys.ts";
import { AuditLog } from "../../src/audit/log.ts";
import { runCliInProcess as runCli } from "../helpers/cli-inprocess.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

const HMAC_KEY = `cli-audit-${randomUUID()}`;

let redis: Redis;
let prefix: string;
let dir: string;
let env: Record<string, string>;
let log: AuditLog;

beforeAll(() => {
  redis = connect();
  prefix = uniquePrefix("cli-audit");
  dir = mkdtempSync(join(tmpdir(), "cg-cli-audit-"));
  const configPath = join(dir, "clawgate.yaml");
  writeFileSync(configPath, [`redis: { url: "\${REDIS_URL}", prefix: ${prefix} }`, `audit: { hmacKey: "\${AUDIT_KEY}" }`, ""].join("\n"));
  env = { REDIS_URL, CLAWGATE_CONFIG: configPath, AUDIT_KEY: HMAC_KEY };
  log = new AuditLog(redis, { prefix, hmacKey: HMAC_KEY });
});

afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe("clawgate audit verify --anchor", () => {
  it("passes against the current head, and fails with exit 7 once the newest entries are gone and the head rolled back", async () => {
    for (let i = 1; i <= 45; i++) await log.append({ type: "decision", approvalId: `ap_${i}`, decision: "deny" });

    const head = await runCli(["audit", "head"], env);
    expect(head.code).toBe(0);
    const anchor = head.stdout.trim();
    expect(anchor).toMatch(/^45:[0-9a-f]{40}$/);
    const anchorFile = join(dir, "anchors.log");
    writeFileSync(anchorFile, formatAnchorLine({ seq: 10, hash: (await log.read({ fromSeq: 10, limit: 1 }))[0]!.hash }) + formatAnchorLine({ seq: 45, hash: anchor.split(":")[1]!, at: "2030-01-01T00:00:00.000Z" }));

    const ok = await runCli(["audit", "verify", "--anchor", anchorFile], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`audit log OK: 45 entries, head ${anchor.split(":")[1]}; matches anchor ${anchor}`);

    // The attacker: delete entries 41–45 and point the head at entry 40.
    const keys = auditKeys(prefix);
    const gone = await redis.xrange(keys.stream, "(0-40", "+");
    await redis.xdel(keys.stream, ...gone.map(([id]) => id));
    const [[, fields] = ["", []]] = await redis.xrange(keys.stream, "0-40", "0-40");
    await redis.hset(keys.head, "seq", "40", "hash", fields[fields.indexOf("hash") + 1] as string);

    const viaFile = await runCli(["audit", "verify", "--anchor", anchorFile], env);
    expect(viaFile.code).toBe(7);
    expect(viaFile.stderr).toContain(
      `truncated: the log ends at seq 40 but the anchor published 2030-01-01T00:00:00.000Z says 45 existed with hash ${anchor.split(":")[1]}: entries 41–45 are missing`,
    );

    const viaArg = await runCli(["audit", "verify", "--anchor", anchor, "--json"], env);
    expect(viaArg.code).toBe(7);
    expect(JSON.parse(viaArg.stdout)).toMatchObject({ ok: false, entries: 40, brokenAt: { seq: 40, problem: "truncated" } });
    expect(viaArg.stderr).toContain("the log ends at seq 40 but the anchor says 45 existed");
  });

  it("a bad --anchor is a usage error (exit 2) that says what it expected", async () => {
    const badHash = await runCli(["audit", "verify", "--anchor", "45:abc"], env);
    expect(badHash.code).toBe(2);
    expect(badHash.stderr).toContain("is neither SEQ:HASH");
    const missing = await runCli(["audit", "verify", "--anchor", join(dir, "no-such-file")], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("does not exist");
  });
});
