import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { PolicyEngine } from "../../src/policy/engine.ts";
import { policySchema } from "../../src/policy/schema.ts";
import type { PolicyConfig } from "../../src/policy/schema.ts";
import type { RuntimeRules } from "../../src/policy/types.ts";

/** Validates like the real config loader does (defaults filled in by the zod schema). */
export function config(policy: unknown): PolicyConfig {
  return policySchema.parse(policy);
}

export function engine(policy: unknown, runtime?: RuntimeRules): PolicyEngine {
  return new PolicyEngine(config(policy), runtime);
}

/** The fixture every table in the brief is written against. */
export function fixtureEngine(): PolicyEngine {
  const file = readFileSync(new URL("./fixtures/policy.yaml", import.meta.url), "utf8");
  return engine((parse(file) as { policy: unknown }).policy);
}

export function runtime(overrides: Record<string, "allow" | "ask" | "deny"> = {}, alwaysAllow: string[] = []): RuntimeRules {
  return { overrides: new Map(Object.entries(overrides)), alwaysAllow };
}
