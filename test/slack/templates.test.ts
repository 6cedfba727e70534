import { describe, expect, it } from "vitest";
import type { ApprovalRecord } from "../../src/approvals/record.ts";
import { ACTIONS, PARAMS_PREVIEW, denyModal, outcomeMessage, paramsModal, requestMessage } from "../../templates/slack.ts";

function record(over: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: "ap_0123456789ab",
    tool: "exec",
    params: JSON.stringify({ command: "git push origin main", token: "[REDACTED]" }),
    paramsHash: "h",
    agentId: "main",
    sessionKey: "agent:main:s1",
    requester: { channel: "telegram", senderId: "42" },
    risk: { actionType: "exec", score: 55, class: "high", reversible: true, systems: ["git"] },
    rule: "exec(git push *)",
    policyReason: 'needs approval: rule "exec(git push *)" asks',
    alwaysAllowRule: "exec(git push origin main)",
    tier: 0,
    createdAt: 1_700_000_000_000,
    deadline: 1_700_000_120_000,
    state: "pending",
    decision: "",
    decidedBy: "",
    decidedVia: "",
    decisionReason: "",
    decidedAt: null,
    grantKey: "",
    outcome: "",
    sig: "",
    ...over,
  };
}

type Block = { type: string; elements?: Array<Record<string, unknown>>; fields?: Array<{ text: string }>; text?: { text: string }; accessory?: Record<string, unknown> };
const actions = (blocks: unknown[]) => ((blocks as Block[]).find((b) => b.type === "actions")?.elements ?? []) as Array<{ action_id: string; value: string; confirm?: { text: { text: string } } }>;
const allText = (blocks: unknown[]) => JSON.stringify(blocks);

describe("Slack templates", () => {
  it("request shows severity, tool, agent, session, requester, risk, rule, params, deadline and three buttons", () => {
    const { text, blocks } = requestMessage(record());
    expect(text).toContain("ap_0123456789ab");
    const t = allText(blocks);
    for (const s of ["exec", "main", "agent:main:s1", "telegram:42", "high (55/100", "exec(git push *)", "git push origin main", "<!date^1700000120^"]) expect(t).toContain(s);
    expect(actions(blocks).map((a) => a.action_id)).toEqual([ACTIONS.approve, ACTIONS.always, ACTIONS.deny]);
    expect(actions(blocks).every((a) => a.value === "ap_0123456789ab")).toBe(true);
    const always = actions(blocks)[1];
    expect(always?.confirm?.text.text).toContain("exec(git push origin main)");
    expect(t).toContain("*Always allow* saves `exec(git push origin main)`");
  });

  it("offers no Always allow when no rule may be saved (dangerous or not understood)", () => {
    const { blocks } = requestMessage(record({ alwaysAllowRule: "" }));
    expect(actions(blocks).map((a) => a.action_id)).toEqual([ACTIONS.approve, ACTIONS.deny]);
  });

  it("cuts long params with a button that opens them in full, in a modal within Block Kit limits", () => {
    const long = record({ params: JSON.stringify({ command: `echo ${"x".repeat(10_000)}` }) });
    const { blocks } = requestMessage(long);
    const params = (blocks as Block[]).find((b) => (b as { block_id?: string }).block_id === "params") as Block;
    expect(params.text?.text.length).toBeLessThan(PARAMS_PREVIEW + 100);
    expect(params.accessory).toMatchObject({ action_id: ACTIONS.viewParams, value: "ap_0123456789ab" });
    const modal = paramsModal(long) as { blocks: Block[] };
    expect(modal.blocks.length).toBeLessThanOrEqual(100);
    for (const b of modal.blocks) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3_000);
    expect(modal.blocks.map((b) => b.text?.text ?? "").join("").replace(/```/g, "")).toContain("x".repeat(9_000));
    expect(actions(requestMessage(record()).blocks).length).toBe(3);
    expect(((requestMessage(record()).blocks as Block[]).find((b) => (b as { block_id?: string }).block_id === "params") as Block).accessory).toBeUndefined();
  });

  it("escapes Slack control characters and cannot be broken out of the code block", () => {
    const evil = record({ params: JSON.stringify({ command: "echo <!channel> ``` <@U1> & done" }) });
    const t = allText(requestMessage(evil).blocks);
    expect(t).not.toContain("<!channel>");
    expect(t).toContain("&lt;!channel&gt;");
    expect(t).not.toMatch(/echo .*```.*done/);
  });

  it("the outcome shows who, how and why, mentions Slack users, and has no buttons", () => {
    const decided = record({ state: "denied", decision: "deny", decidedBy: "slack:U0ALICE", decidedVia: "slack", decisionReason: "change freeze", decidedAt: 1_700_000_060_000 });
    const { text, blocks } = outcomeMessage(decided);
    expect(text).toContain("denied by slack:U0ALICE via slack: change freeze");
    const t = allText(blocks);
    expect(t).toContain("Denied by <@U0ALICE> via slack: change freeze");
    expect(t).toContain("<!date^1700000060^");
    expect((blocks as Block[]).some((b) => b.type === "actions")).toBe(false);
    expect(allText(outcomeMessage(record({ state: "expired", decidedAt: 1 })).blocks)).toContain("Timed out");
    expect(allText(outcomeMessage(record({ state: "approved", decision: "allow-always", decidedBy: "cli:bob", decidedVia: "cli", decidedAt: 1 })).blocks)).toContain("Saved rule: `exec(git push origin main)`");
  });

  it("the deny modal asks for a reason and carries the approval id", () => {
    const modal = denyModal(record(), JSON.stringify({ id: "ap_0123456789ab" })) as Record<string, unknown>;
    expect(modal).toMatchObject({ type: "modal", callback_id: "clawgate_deny_modal", private_metadata: '{"id":"ap_0123456789ab"}' });
    expect(JSON.stringify(modal)).toContain("plain_text_input");
  });
});
