import { buildConfig } from "../../src/config/load.ts";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import type { Risk } from "../../src/policy/types.ts";
import type { NewApproval } from "../../src/approvals/store.ts";
import { createLogger } from "../../src/log.ts";
import { createPrivateKey } from "node:crypto";
import { generateKey } from "../../src/trust/keys.ts";
import { KeySigner } from "../../src/trust/signature.ts";
import { keyringFor } from "../../src/trust/keyring.ts";
import type { Redis } from "ioredis";
import { keys } from "../../src/approvals/keys.ts";
import { RuntimeRulesStore } from "../../src/approvals/runtime-rules.ts";

/**
 * The keys every test process signs and verifies with, made fresh per process: serve's decision
 * key and a gateway's chat key, listed in testConfig's `keys` so no test reads a keys folder.
 */
const decisionKey = generateKey();
const chatKey = generateKey();
export const TEST_KEYS = {
  decisionPem: decisionKey.privatePem,
  decisionPublic: decisionKey.info.text,
  chatPem: chatKey.privatePem,
  chatPublic: chatKey.info.text,
};
/** serve's signer in tests (ApprovalService / InboundDecisions that approve). */
export const testSigner = new KeySigner(decisionKey.info.id, "decision", createPrivateKey(decisionKey.privatePem));
/** A gateway's chat signer in tests. */
export const testChatSigner = new KeySigner(chatKey.info.id, "chat", createPrivateKey(chatKey.privatePem));
/** The `keys` block of testConfig: signing and chat keys inline, both public halves trusted. */
export const TEST_KEYS_CONFIG = {
  signing: decisionKey.privatePem,
  gateway: chatKey.privatePem,
  trusted: [decisionKey.info.text, { key: chatKey.info.text, use: "chat" }],
};

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
  return buildConfig({ redis: { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", prefix }, keys: TEST_KEYS_CONFIG, ...over }, {});
}

/** The public keys testConfig trusts, as a process would hold them. */
export const testKeys = keyringFor({ keys: { dir: "", ...TEST_KEYS_CONFIG } as ClawgateConfig["keys"] }, { configSource: null });

/** The allow-always rules of the signed runtime rules snapshot under `prefix` (verified as a gate would). */
export async function savedAlwaysRules(redis: Redis, prefix: string): Promise<string[]> {
  const loaded = await new RuntimeRulesStore(redis, keys(prefix), prefix).load(testKeys);
  if (loaded.kind === "forged") throw new Error(`runtime rules fail verification: ${loaded.why}`);
  return loaded.kind === "ok" ? [...loaded.snapshot.alwaysAllow] : [];
}
