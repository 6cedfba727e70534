import { buildConfig } from "../../src/config/load.ts";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import type { Risk } from "../../src/policy/types.ts";
import type { NewApproval } from "../../src/approvals/store.ts";
import { createLogger } from "../../src/log.ts";

export const silentLog = createLogger({ level: "silent" });

export const RISK: Risk = { actionType: "exec", score: 40, class: "medium", reversible: true, systems: ["git"] };

export function newApproval(over: Partial<NewApproval> = {}): NewApproval {
  return {
    tool: "exec",
    params: { command: "git push origin main" },
    agentId: "main",
    sessionKey: "agent:main:s1",
    requester: { channel: "telegram", senderId: "42" },
    risk: RISK,
    rule: "exec(git push *)",
    policyReason: 'needs approval: rule "exec(git push *)" asks',
    alwaysAllowRule: "exec(git push origin main)",
    timeoutMs: 60_000,
    ...over,
  };
}

/** A validated config with the given prefix and overrides, as the loader would build it. */
export function testConfig(prefix: string, over: Record<string, unknown> = {}): ClawgateConfig {
  return buildConfig({ redis: { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", prefix }, ...over }, {});
}
