import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../src/approvals/store.ts";
import { keys } from "../../src/approvals/keys.ts";
import { runCliInProcess as runCli } from "../helpers/cli-inprocess.ts";
import { newApproval } from "../helpers/fixtures.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { startTestServe, TEST_KEYS_YAML, type TestServe } from "../helpers/serve.ts";

let redis: Redis;
let prefix: string;
let env: Record<string, string>;
let bare: Record<string, string>;
let svc: TestServe;

beforeAll(async () => {
  redis = connect();
  prefix = uniquePrefix("token");
  const dir = mkdtempSync(join(tmpdir(), "cg-token-"));
  const configPath = join(dir, "clawgate.yaml");
  writeFileSync(configPath, [`redis: { url: "\${REDIS_URL}", prefix: ${prefix} }`, "people: { alice: { name: Alice }, bob: { name: Bob } }", TEST_KEYS_YAML, ""].join("\n"));
  svc = await startTestServe(configPath);
  bare = { REDIS_URL, CLAWGATE_CONFIG: configPath, CLAWGATE_URL: svc.url, XDG_CONFIG_HOME: join(dir, "xdg") };
  // Tokens are made by serve (it signs them), through its API, with an admin token.
  env = { ...bare, CLAWGATE_TOKEN: await svc.token("bootstrap", "admin") };
});
afterAll(async () => {
  await svc.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

/**
 * Every key under the test's prefix with its stored values (whatever the type), in a stable
 * order. What serve keeps doing meanwhile (auditing events, a token's last use) is left out.
 */
async function everyStoredValue(opts: { tokensOnly?: boolean } = {}): Promise<string[]> {
  const byKey = new Map<string, string[]>();
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 500);
    for (const key of found) {
      if (opts.tokensOnly && !/:tokens(:byhash)?$/.test(key)) continue;
      const type = await redis.type(key);
      let values: string[] = [];
      if (type === "string") values = [(await redis.get(key)) ?? ""];
      else if (type === "hash") values = Object.entries(await redis.hgetall(key)).map(([f, v]) => `${f}=${v}`);
      else if (type === "set") values = await redis.smembers(key);
      else if (type === "zset") values = await redis.zrange(key, "0", "-1");
      else if (type === "list") values = await redis.lrange(key, 0, -1);
      else if (type === "stream") values = [JSON.stringify(await redis.xrange(key, "-", "+"))];
      byKey.set(key, values.sort());
    }
    cursor = next;
  } while (cursor !== "0");
  return [...byKey.keys()].sort().flatMap((k) => [k, ...(byKey.get(k) as string[])]);
}

describe("clawgate token", () => {
  it("creates, lists and revokes tokens; the secret is printed once and stored only hashed", async () => {
    const person = await runCli(["token", "create", "alice-laptop", "--person", "alice"], env);
    expect(person.code).toBe(0);
    const secret = person.stdout.trim();
    expect(secret).toMatch(/^cg_[A-Za-z0-9_-]{43}$/);
    expect(person.stderr).toContain('created person token "alice-laptop" for alice');

    const agent = await runCli(["token", "create", "main-agent", "--agent", "main", "--json"], env);
    const admin = await runCli(["token", "create", "ops", "--admin"], env);
    expect(agent.code).toBe(0);
    const agentJson = JSON.parse(agent.stdout) as { name: string; kind: string; subject: string; secret: string; createdAt: number };
    expect(agentJson).toMatchObject({ name: "main-agent", kind: "agent", subject: "main" });
    expect(agentJson.secret).toMatch(/^cg_/);
    expect(agentJson.secret).not.toBe(secret);
    expect(admin.code).toBe(0);

    const values = (await everyStoredValue()).join("\n");
    for (const s of [secret, agentJson.secret]) {
      expect(values).not.toContain(s);
      expect(values).not.toContain(s.slice(3));
      expect(values).toContain(createHash("sha256").update(s).digest("hex"));
    }

    const list = await runCli(["token", "list", "--json"], env);
    const table = await runCli(["token", "list"], env);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(secret);
    expect(list.stdout).not.toContain(agentJson.secret);
    const listed = (JSON.parse(list.stdout) as Array<Record<string, unknown>>).filter((t) => t.name !== "bootstrap");
    expect(listed.map((t) => [t.name, t.kind, t.subject, t.lastUsedAt])).toEqual([
      ["alice-laptop", "person", "alice", null],
      ["main-agent", "agent", "main", null],
      ["ops", "admin", "admin:ops", null],
    ]);
    for (const t of listed) expect(Object.keys(t).sort()).toEqual(["createdAt", "kind", "lastUsedAt", "name", "subject"]);
    expect(table.stdout).toMatch(/NAME\s+KIND\s+SUBJECT\s+CREATED\s+LAST USED/);
    expect(table.stdout).toMatch(/alice-laptop\s+person\s+alice\s+\d{4}-\d\d-\d\dT\S+\s+never/);

    const revoke = await runCli(["token", "revoke", "alice-laptop"], env);
    expect(revoke).toMatchObject({ code: 0, stdout: 'revoked token "alice-laptop"\n' });
    const after = JSON.parse((await runCli(["token", "list", "--json"], env)).stdout) as Array<{ name: string }>;
    expect(after.map((t) => t.name)).toEqual(["bootstrap", "main-agent", "ops"]);
    expect((await everyStoredValue()).join("\n")).not.toContain(createHash("sha256").update(secret).digest("hex"));
  });

  it("refuses duplicate names, unknown names, bad names and a missing kind, changing nothing", async () => {
    expect((await runCli(["token", "create", "dup", "--person", "bob"], env)).code).toBe(0);
    const before = JSON.stringify(await everyStoredValue({ tokensOnly: true }));

    const dup = await runCli(["token", "create", "dup", "--person", "alice"], env);
    const unknown = await runCli(["token", "revoke", "no-such-token"], env);
    const noKind = await runCli(["token", "create", "x"], env);
    const badName = await runCli(["token", "create", "has space", "--person", "alice"], env);
    expect(dup.code).toBe(4);
    expect(dup.stderr).toContain('an API token named "dup" already exists');
    expect(dup.stdout).toBe("");

    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no API token named "no-such-token"');

    expect(noKind.code).toBe(2);
    expect(noKind.stderr).toContain("exactly one of --person ID, --agent ID or --admin");
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('token name "has space" is invalid');

    expect(JSON.stringify(await everyStoredValue({ tokensOnly: true }))).toBe(before);
    const stranger = await runCli(["token", "create", "carol", "--person", "carol"], env);
    expect(stranger.code).toBe(0);
    expect(stranger.stderr).toContain('warning: "carol" is not in the config\'s people (alice, bob)');
  });

  it("a token made by the CLI decides through the real server as its person until it is revoked", async () => {
    {
      const secret = (await runCli(["token", "create", "bob-phone", "--person", "bob"], env)).stdout.trim();
      const store = new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 });
      const decide = (id: string) =>
        fetch(`${svc.url}/api/v1/approvals/${id}/decision`, { method: "POST", headers: { authorization: `Bearer ${secret}` }, body: JSON.stringify({ decision: "allow-once" }) });
      const first = await store.create(newApproval());
      expect((await decide(first.id)).status).toBe(200);
      expect((await store.require(first.id)).decidedBy).toBe("api:bob");
      const used = (JSON.parse((await runCli(["token", "list", "--json"], env)).stdout) as Array<{ name: string; lastUsedAt: number | null }>).find((t) => t.name === "bob-phone");
      expect(used?.lastUsedAt).toBeGreaterThan(0);

      expect((await runCli(["token", "revoke", "bob-phone"], env)).code).toBe(0);
      const second = await store.create(newApproval());
      expect((await decide(second.id)).status).toBe(401);
      expect((await store.require(second.id)).state).toBe("pending");
    }
  });

  it("only an admin token manages tokens; a token record written into Redis by hand authenticates nobody", async () => {
    const person = await runCli(["token", "create", "p1", "--person", "alice"], env);
    const asPerson = { ...bare, CLAWGATE_TOKEN: person.stdout.trim() };
    const refused = await runCli(["token", "create", "mine", "--admin"], asPerson);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain("creating tokens needs an admin token");
    // An attacker with Redis write access adds an admin token for a secret they chose.
    const secret = "cg_attacker-chosen-secret-0123456789abcdefghijklmn";
    const hash = createHash("sha256").update(secret).digest("hex");
    const t = `{${prefix}}:tokens`;
    await redis.hset(`${t}:byhash`, hash, JSON.stringify({ name: "evil", kind: "admin", subject: "admin:evil", createdAt: Date.now() }));
    await redis.hset(t, "evil", hash);
    const forged = await runCli(["token", "create", "evil2", "--admin"], { ...bare, CLAWGATE_TOKEN: secret });
    expect(forged.code).toBe(5);
    expect(forged.stderr).toContain("invalid or revoked bearer token");
    // Nor does copying a genuine record (its signature binds it to its own secret's hash).
    const genuine = await redis.hget(`${t}:byhash`, createHash("sha256").update(env.CLAWGATE_TOKEN as string).digest("hex"));
    await redis.hset(`${t}:byhash`, hash, genuine as string);
    const rec = await new ApprovalStore(redis, { prefix, keepForMs: 3_600_000, retryGrantMs: 0, maxParamsBytes: 10_000 }).create(newApproval());
    const copied = await runCli(["approve", rec.id], { ...bare, CLAWGATE_TOKEN: secret });
    expect(copied.code).toBe(5);
    expect(await redis.hget(keys(prefix).approval(rec.id), "state")).toBe("pending");
  });
});
