import { describe, expect, it } from "vitest";
import type { ApprovalRecord } from "../../src/approvals/record.ts";
import { CUSTOM, PARAMS_PREVIEW, alwaysConfirm, denyModal, outcomeMessage, paramsMessage, requestMessage } from "../../templates/discord.ts";
import { validateMessage } from "../fakes/discord.ts";

function record(over: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: "ap_0123456789abcdef",
    tool: "exec",
    params: JSON.stringify({ command: "git push origin main" }),
    paramsHash: "h",
    agentId: "main",
    sessionKey: "agent:main:s1",
    requester: { channel: "telegram", senderId: "42" },
    risk: { actionType: "exec", score: 40, class: "medium", reversible: true, systems: ["git"] },
    rule: "exec(git push *)",
    policyReason: 'needs approval: rule "exec(git push *)" asks',
    alwaysAllowRule: "exec(git push origin main)",
    createdAt: Date.now(),
    deadline: Date.now() + 60_000,
    state: "pending",
    decision: "",
    decidedBy: "",
    decidedVia: "",
    decisionReason: "",
    decidedAt: null,
    grantKey: "g",
    outcome: "",
    sig: "",
    tier: 0,
    ...over,
  };
}

describe("Discord templates", () => {
  it("stay within Discord's limits however long the tool, rule, reason and params are", () => {
    const huge = record({ tool: "t".repeat(500), rule: "r".repeat(5_000), alwaysAllowRule: "a".repeat(5_000), policyReason: "p".repeat(10_000), params: JSON.stringify({ x: "y".repeat(50_000) }), agentId: "g".repeat(3_000) });
    expect(validateMessage(requestMessage(huge, "ref") as never)).toBeNull();
    expect(validateMessage(outcomeMessage({ ...huge, state: "denied", decision: "deny", decidedBy: "discord:444444444444444444", decidedVia: "discord", decisionReason: "z".repeat(5_000), decidedAt: Date.now() }) as never)).toBeNull();
    expect(validateMessage(paramsMessage(huge) as never)).toBeNull();
    expect(validateMessage(alwaysConfirm(huge) as never)).toBeNull();
    expect(denyModal(huge).title.length).toBeLessThanOrEqual(45);
  });

  it("offers Always allow only where the policy permits it, and Show full params only for long params", () => {
    const plain = requestMessage(record({ alwaysAllowRule: "" }), "ref");
    expect(plain.components[0]?.components.map((c) => ("custom_id" in c ? c.custom_id : ""))).toEqual([`${CUSTOM.approve}:ap_0123456789abcdef`, `${CUSTOM.deny}:ap_0123456789abcdef`]);
    const long = requestMessage(record({ params: JSON.stringify({ command: "x".repeat(PARAMS_PREVIEW * 2) }) }), "ref");
    expect(long.components[0]?.components.map((c) => ("custom_id" in c ? c.custom_id : ""))).toContain(`${CUSTOM.params}:ap_0123456789abcdef`);
  });

  it("cannot be made to ping or break out of code blocks by what an agent or a person wrote", () => {
    const msg = requestMessage(record({ params: JSON.stringify({ command: "echo ``` @everyone" }), agentId: "@here", policyReason: "<@&1> **bold**" }), "ref");
    expect(msg.allowed_mentions).toEqual({ parse: [] });
    const text = JSON.stringify(msg.embeds);
    // Agent-chosen text sits in code spans (mentions and markdown do not render there) or is escaped.
    expect(text).toContain("`@here`");
    expect(text).not.toContain("<@&1>");
    expect(text).not.toContain("**bold**");
    expect(text).not.toContain("echo ```");
    const out = outcomeMessage(record({ state: "denied", decision: "deny", decidedBy: "cli:bob", decidedVia: "cli", decisionReason: "@everyone now", decidedAt: Date.now() }));
    expect(JSON.stringify(out.embeds)).not.toContain("@everyone");
    expect(out.allowed_mentions).toEqual({ parse: [] });
    expect(out.components).toEqual([]);
  });
});
