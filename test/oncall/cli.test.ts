import { hostname, userInfo } from "node:os";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.ts";
import { unreachableTargets } from "../../src/lifecycle/recipients.ts";
import { runCliInProcess as runCli } from "../helpers/cli-inprocess.ts";
import { connect, deleteKeys, REDIS_URL, uniquePrefix } from "../helpers/redis.ts";

/** The issue's config, as written, with the Slack block. */
const ISSUE_CONFIG = (prefix: string) => `
redis: { prefix: ${prefix} }
slack: { botToken: "xoxb-test", signingSecret: "s3cret", channel: "C0APPROVALS", approvers: { users: ["U0ALICE"] } }
people:
  alice: { slack: "U0ALICE", email: "alice@example.test" }
  bob:   { slack: "U0BOB",   email: "bob@example.test" }
oncall:
  schedules:
    primary: { timezone: "Europe/Berlin", rotation: weekly, handoff: "Mon 09:00", members: [alice, bob] }
escalation:
  chains:
    default:
      - { after: 0s,  notify: ["slack:C0APPROVALS"] }
      - { after: 5m,  notify: ["oncall:primary"] }
      - { after: 10m, notify: ["email:eng-leads@example.test"] }
`;

let redis: Redis;
let dir: string;
let file: string;
let prefix: string;
const env = () => ({ REDIS_URL, CLAWGATE_CONFIG: file });

beforeAll(() => {
  redis = connect();
  prefix = uniquePrefix("oncall-cli");
  dir = mkdtempSync(join(tmpdir(), "cg-oncall-"));
  file = join(dir, "clawgate.yaml");
  writeFileSync(file, ISSUE_CONFIG(prefix));
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

describe("the issue's config", () => {
  it("loads as written; the email tier is accepted and reported as skipped while no email channel is configured", () => {
    const { config } = loadConfig({ path: file, env: {} });
    expect(config.escalation.chains.default?.tiers.map((t) => t.after)).toEqual([0, 300_000, 600_000]);
    expect(config.oncall.schedules.primary?.rotation).toEqual({ days: 7 });
    expect(unreachableTargets(config)).toEqual([expect.objectContaining({ target: "email:eng-leads@example.test", where: "escalation.chains.default[2]" })]);
  });
});

// Each run starts the real binary (a few seconds under tsx on a busy machine).
describe("clawgate oncall", { timeout: 90_000 }, () => {
  it("who answers per schedule, in JSON and text, at a given local time", async () => {
    // Weeks from the default start (Mon 2024-01-01): the week of 2026-11-30 is week 152 → alice, the next bob.
    const a = await runCli(["oncall", "who", "--schedule", "primary", "--at", "2026-12-01 10:00", "--json"], env());
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ schedule: "primary", person: "alice", via: "rotation", from: "2026-11-30T08:00:00.000Z", until: "2026-12-07T08:00:00.000Z" });
    const b = await runCli(["oncall", "who", "--at", "2026-12-07T08:00:00Z", "--json"], env());
    expect(JSON.parse(b.stdout)).toEqual([expect.objectContaining({ schedule: "primary", person: "bob" })]);
    const text = await runCli(["oncall", "who", "--at", "2026-12-07T08:00:00Z"], env());
    expect(text.stdout).toContain("primary: bob (rotation) until 2026-12-14 09:00");
  });

  it("override add / list / remove, kept in Redis under the prefix's hash tag", async () => {
    const add = await runCli(["oncall", "override", "add", "--schedule", "primary", "--person", "bob", "--from", "2026-12-01 09:00", "--to", "2099-12-01 17:00", "--json"], env());
    expect(add.code, add.stderr).toBe(0);
    const added = JSON.parse(add.stdout) as { id: string; by: string };
    expect(added).toMatchObject({ schedule: "primary", person: "bob", from: "2026-12-01T08:00:00.000Z", by: `cli:${userInfo().username}@${hostname()}` });
    expect(await redis.hexists(`{${prefix}}:oncall:overrides`, added.id)).toBe(1);
    const who = await runCli(["oncall", "who", "--schedule", "primary", "--at", "2026-12-01 10:00", "--json"], env());
    expect(JSON.parse(who.stdout)).toMatchObject({ person: "bob", via: "override" });
    expect((await runCli(["oncall", "override", "list"], env())).stdout).toContain(`${added.id}  primary  bob`);
    expect((await runCli(["oncall", "override", "remove", added.id], env())).code).toBe(0);
    expect(JSON.parse((await runCli(["oncall", "who", "--schedule", "primary", "--at", "2026-12-01 10:00", "--json"], env())).stdout).person).toBe("alice");
    // Both changes are on the event stream, for serve to audit.
    const events = (await redis.xrange(`{${prefix}}:events`, "-", "+")).map(([, f]) => f.join(" "));
    expect(events.some((e) => e.includes("oncall.override.added") && e.includes(`${added.id}: bob covers primary`) && e.includes(`cli:${userInfo().username}@`))).toBe(true);
    expect(events.some((e) => e.includes("oncall.override.removed") && e.includes(added.id))).toBe(true);
    const again = await runCli(["oncall", "override", "remove", added.id], env());
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`no run-time override "${added.id}"`);
  });

  it("refuses bad input clearly and stores nothing", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["oncall", "who", "--schedule", "nope"], /no schedule "nope" in oncall.schedules \(have: primary\)/],
      [["oncall", "who", "--at", "yesterday-ish"], /--at: "yesterday-ish" is not a time/],
      [["oncall", "override", "add", "primary", "mallory", "--for", "1h"], /no person "mallory" in people/],
      [["oncall", "override", "add", "primary", "bob"], /exactly one of --to TIME or --for DURATION/],
      [["oncall", "override", "add", "--person", "bob", "--for", "1h"], /say which schedule and who covers it/],
      [["oncall", "override", "add", "primary", "bob", "--from", "2099-01-02 10:00", "--to", "2099-01-02 09:00"], /must end after it starts/],
    ];
    // One at a time: the in-process CLI shares this process's env and output streams.
    const results = [];
    for (const [args] of cases) results.push(await runCli(args, env()));
    results.forEach((r, i) => {
      const [args, message] = cases[i] as [string[], RegExp];
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stderr).toMatch(message);
    });
    expect(await redis.hlen(`{${prefix}}:oncall:overrides`)).toBe(0);
  });

  it("doctor warns about the email target that is skipped", async () => {
    const r = await runCli(["doctor"], env());
    expect(r.stdout).toMatch(/! escalation target email:eng-leads@example.test: escalation.chains.default\[2\]: no email block is configured/);
  });
});
