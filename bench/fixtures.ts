import type { NewApproval } from "../src/approvals/store.ts";

export function newApprovalForBench(i: number): NewApproval {
  return {
    tool: "exec",
    params: { command: `deploy web-${i}` },
    agentId: "bench",
    sessionKey: "bench",
    requester: {},
    risk: { actionType: "exec", score: 40, class: "medium", reversible: true, systems: [] },
    rule: "exec(deploy *)",
    policyReason: 'needs approval: rule "exec(deploy *)" asks',
    alwaysAllowRule: `exec(deploy web-${i})`,
    timeoutMs: 60_000,
  };
}
