import { createPrivateKey } from "node:crypto";
import { generateKey } from "../src/trust/keys.ts";
import { KeySigner } from "../src/trust/signature.ts";
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

/**
 * The keys a bench signs and verifies with, as serve and a gate hold them: the decision key's
 * private half for the deciding side, its public half in the gate's `keys.trusted`.
 */
const key = generateKey();
export const benchSigner = new KeySigner(key.info.id, "decision", createPrivateKey(key.privatePem));
export const BENCH_KEYS = { trusted: [key.info.text] };
