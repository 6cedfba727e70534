import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REDIS_URL } from "../helpers/redis.ts";

const run = promisify(execFile);

/**
 * A channel is its spec plus one line in bots/specs.ts: a made-up channel appended to the list
 * (test/fixtures/extra-channel.ts, in its own process) is validated, addressed, reached, probed
 * and loaded with no other edit.
 */
describe("a channel added to the spec list", () => {
  it("appears in config validation, targets, people, recipients, doctor and the registry", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "test/fixtures/extra-channel.ts"], { env: { ...process.env, REDIS_URL }, timeout: 60_000 });
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    // Its config block is part of the one schema, with its own messages and the usual strictness.
    expect(seen.valid).toEqual({ loft: "L1" });
    expect(seen.badBlock).toContain("pigeon.loft: use a loft id like L1");
    expect(seen.unknownKey).toContain('pigeon: unknown key(s) "wings"');
    expect(seen.schemaHasBlock).toEqual(["loft"]);
    // Its address syntax and its off-state are config errors naming the key.
    expect(seen.badAddress).toContain('escalation.tiers[0].notify[0]: "pigeon:attic": expected a loft (L…) or bird (B…) id after "pigeon:"');
    expect(seen.offTarget).toContain('"pigeon": no pigeon block is configured');
    expect(seen.unknownTarget).toContain('"pigeon", "pigeon:<loft or bird>"');
    // people.<id>.pigeon reaches a person there, and a decision with that id is theirs.
    expect(seen.schemaPersonField).toContain("pigeon");
    expect(seen.personWithoutIds).toContain("has no slack, discord, telegram, email or pigeon id to reach them on");
    expect(seen.reachAlice).toEqual({ channel: "pigeon", target: "B7", person: "alice", label: "alice" });
    expect(seen.personOfBird).toBe("alice");
    // It gets every request by default, its targets resolve, and only a bird (not a loft) may decide.
    expect(seen.tier0).toEqual([{ channel: "pigeon", target: "L1" }]);
    expect(seen.tier1).toEqual([
      { channel: "pigeon", target: "L1" },
      { channel: "pigeon", target: "B9" },
      { channel: "pigeon", target: "B7", person: "alice", label: "alice" },
    ]);
    expect(seen.identities).toEqual(["pigeon:B9"]);
    // Without its block, a person reached only there is reported by doctor's target check.
    expect(seen.unreachable).toEqual([{ where: "escalation.tiers[0]", target: "alice", why: 'person "alice" has no id on a configured channel; skipped' }]);
    // doctor runs its probes; serve's registry loads its adapter.
    expect(seen.doctor).toEqual([{ name: "pigeon", status: "ok", detail: "loft L1 answers" }]);
    expect(seen.adapters).toEqual(["pigeon"]);
  });

  it("loads no channel SDK when the config (every channel's block and targets) is validated, as the gate and the CLI do", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "test/fixtures/config-without-sdks.ts"], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ channels: ["slack", "discord", "email", "pagerduty"], sdks: [] });
  });
});
