import { describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/load.ts";
import { reachPerson, resolveTargets } from "../../src/lifecycle/recipients.ts";
import { chainFor, chainSteps } from "../../src/oncall/route.ts";
import { OnCallDirectory } from "../../src/oncall/who.ts";
import { RISK } from "../helpers/fixtures.ts";

const slack = { botToken: "x", signingSecret: "y", channel: "C0APPROVALS" };
const people = { alice: { slack: "U0ALICE", email: "alice@example.test" }, bob: { slack: "U0BOB" } };
const primary = { timezone: "Europe/Berlin", members: ["alice", "bob"] };

describe("on-call and escalation config", () => {
  it.each([
    [{ people, oncall: { schedules: { primary: { ...primary, timezone: "Mars/Olympus" } } } }, /oncall.schedules.primary.timezone: not an IANA time zone/],
    [{ people, oncall: { schedules: { primary: { ...primary, rotation: "every 5h" } } } }, /oncall.schedules.primary.rotation: "every 5h": an hourly rotation must divide the day/],
    [{ people, oncall: { schedules: { primary: { ...primary, handoff: "Monday 9am" } } } }, /oncall.schedules.primary.handoff: "Monday 9am" is not a handoff/],
    [{ people, oncall: { schedules: { primary: { ...primary, members: ["alice", "zed"] } } } }, /oncall.schedules.primary.members\[1\]: no person "zed" in people/],
    [{ people, oncall: { schedules: { primary: { ...primary, overrides: [{ person: "bob", from: "2026-12-01 17:00", to: "2026-12-01 09:00" }] } } } }, /overrides\[0\].to: must be after from/],
    [{ people: { alice: { slack: "U0A", outOfOffice: [{ from: "2026-12-24", to: "2026-12-27", delegate: "nobody" }] } } }, /people.alice.outOfOffice\[0\].delegate: no person "nobody"/],
    [{ slack, escalation: { tiers: [{ after: "1m", notify: ["slack"] }], chains: { default: [{ after: "0s", notify: ["slack"] }] } } }, /escalation.tiers: escalation.tiers is the old form of a single chain: move its tiers into escalation.chains.default/],
    [{ slack, escalation: { chains: { default: [{ after: "1m", notify: ["slack"] }] } } }, /escalation.chains.default\[0\].after: the first tier is notified with the request: use after: 0s/],
    [{ slack, escalation: { chains: { default: [{ after: "0s", notify: ["oncall:nope"] }] } } }, /escalation.chains.default\[0\].notify\[0\]: "oncall:nope": no schedule "nope"/],
    [{ slack, escalation: { chains: { default: [{ after: "0s", notify: ["pagerduty"] }] } } }, /add a pagerduty block/],
    [{ slack, escalation: { chains: { a: [{ after: "0s", notify: ["slack"] }] }, routes: [{ match: { tool: "exec" }, chain: "b" }] } }, /escalation.routes\[0\].chain: no chain "b" in escalation.chains/],
  ])("rejects %j naming the key", (raw, message) => {
    expect(() => buildConfig(raw, {})).toThrow(message);
  });

  it("a person is reached on the first preferred channel that is configured", () => {
    const c = buildConfig({ slack, people: { alice: { slack: "U0ALICE", email: "alice@example.test", prefer: ["email", "slack"] }, erin: { email: "erin@example.test" } } }, {});
    // No email channel in this deployment: slack it is; erin has no reachable channel.
    expect(reachPerson(c, "alice")).toEqual({ channel: "slack", target: "U0ALICE", person: "alice", label: "alice" });
    expect(reachPerson(c, "erin")).toBeNull();
  });

  it("routes pick the chain by tool, risk and agent, first match wins, else chains.default", () => {
    const c = buildConfig(
      {
        slack,
        people,
        oncall: { schedules: { primary } },
        escalation: {
          chains: { default: [{ after: "0s", notify: ["slack"] }], critical: [{ after: "0s", notify: ["oncall:primary"] }], deploys: [{ after: "0s", notify: ["bob"] }] },
          routes: [
            { match: { riskAtLeast: "high", agent: "prod-*" }, chain: "critical" },
            { match: { tool: "deploy*" }, chain: "deploys" },
          ],
        },
      },
      {},
    );
    const rec = (tool: string, agentId: string, cls: "low" | "medium" | "high" | "critical") => ({ tool, agentId, risk: { ...RISK, class: cls } });
    expect(chainFor(c, rec("exec", "prod-eu", "critical"), ["slack"]).name).toBe("critical");
    expect(chainFor(c, rec("deploy_app", "prod-eu", "medium"), ["slack"]).name).toBe("deploys");
    expect(chainFor(c, rec("exec", "dev", "critical"), ["slack"]).name).toBe("default");
  });

  it("a top-level routes key (as DESIGN.md lists it) is read as escalation.routes; both at once is an error", () => {
    const chains = { default: [{ after: "0s", notify: ["slack"] }], deploys: [{ after: "0s", notify: ["bob"] }] };
    const c = buildConfig({ slack, people, escalation: { chains }, routes: [{ match: { tool: "deploy*" }, chain: "deploys" }] }, {});
    expect(chainFor(c, { tool: "deploy_app", agentId: "a", risk: { ...RISK, class: "low" } }, ["slack"]).name).toBe("deploys");
    expect(() => buildConfig({ slack, people, escalation: { chains, routes: [] }, routes: [] }, {})).toThrow(/either at the top level or as escalation.routes/);
  });

  it("steps: cumulative delays, repeats continue the tier numbers, the end and reminder, nothing at or past the deadline", () => {
    const c = buildConfig(
      { slack, escalation: { chains: { default: { tiers: [{ after: "0s", notify: ["slack"] }, { after: "5m", notify: ["slack"] }], repeat: 1, repeatAfter: "10m", end: { deny: "nobody came", after: "5m" }, remindBefore: "1m" } } } },
      {},
    );
    const chain = c.escalation.chains.default as NonNullable<typeof c.escalation.chains.default>;
    const m = 60_000;
    expect(chainSteps(chain, 60 * m)).toEqual([
      { kind: "tier", tier: 0, index: 0, at: 0 },
      { kind: "tier", tier: 1, index: 1, at: 5 * m },
      { kind: "tier", tier: 2, index: 0, at: 15 * m },
      { kind: "tier", tier: 3, index: 1, at: 20 * m },
      { kind: "end", at: 25 * m, reason: "nobody came" },
      { kind: "remind", at: 59 * m },
    ]);
    expect(chainSteps(chain, 16 * m).map((s) => s.kind === "tier" ? s.tier : s.kind)).toEqual([0, 1, 2, "remind"]);
  });

  it("resolves oncall:, people and skipped channels into recipients, warning about what it skips", async () => {
    const c = buildConfig({ slack, people, oncall: { schedules: { primary: { ...primary, members: ["bob"] } } } }, {});
    const warnings: unknown[] = [];
    const log = { warn: (o: unknown) => void warnings.push(o) } as never;
    const out = await resolveTargets({ config: c, directory: new OnCallDirectory(c, null), log }, ["oncall:primary", "alice", "email:eng-leads@example.test", "discord:123456789", "slack"]);
    expect(out).toEqual([
      { channel: "slack", target: "U0BOB", person: "bob", label: "bob (on call for primary)" },
      { channel: "slack", target: "U0ALICE", person: "alice", label: "alice" },
      { channel: "slack", target: "C0APPROVALS" },
    ]);
    expect(warnings).toEqual([expect.objectContaining({ target: "email:eng-leads@example.test" }), expect.objectContaining({ target: "discord:123456789" })]);
  });
});
