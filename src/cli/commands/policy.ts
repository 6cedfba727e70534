import type { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { BadRequestError, PolicyRuleNotFoundError } from "../../errors.ts";
import { PolicyEngine, parseRule } from "../../policy/engine.ts";
import { DECISIONS, type Decision } from "../../policy/schema.ts";
import { selfProtectionContext, selfProtectionWarning } from "../../policy/self-protection/context.ts";
import type { PolicyDecision, RuntimeRules } from "../../policy/types.ts";
import { openContext, withContext, type GlobalOptions } from "../context.ts";
import { readParamsArg } from "../params-arg.ts";

function formatDecision(d: PolicyDecision, runtimeNote: string): string {
  const lines = [
    `decision: ${d.decision}`,
    `rule:     ${d.rule ?? "(none)"} [${d.source}]`,
    `risk:     ${d.risk.class} ${d.risk.score}/100 (${d.risk.actionType}, ${d.risk.reversible ? "reversible" : "irreversible"}${d.risk.systems.length ? `, ${d.risk.systems.join(", ")}` : ""})`,
    `why:      ${d.reason}`,
  ];
  if (d.decision === "ask") lines.push(`always:   ${d.alwaysAllowRule ?? "(allow-always not offered)"}`);
  if (d.parts.length > 1) for (const [i, p] of d.parts.entries()) lines.push(`  part ${i + 1}: ${p.decision.padEnd(5)} ${p.content}${p.rule ? `  ← ${p.rule}` : ""}${p.note ? ` (${p.note})` : ""}`);
  if (runtimeNote) lines.push(runtimeNote);
  return lines.join("\n");
}

export function registerPolicyCommands(program: Command, globals: () => GlobalOptions): void {
  const policy = program.command("policy").description("test and change the policy");

  policy
    .command("test")
    .description("show what the policy decides for a tool call, and why")
    .argument("<tool>", "tool name, e.g. exec")
    .option("--params <json|@file|->", "tool params: JSON, @file with JSON, or - to read JSON from stdin, e.g. '{\"command\":\"git push\"}'")
    .option("--agent <id>", "agent id (per-agent overrides)")
    .option("--offline", "ignore runtime rules held in Redis")
    .option("--json", "print one JSON object")
    .action(async (tool: string, o: { params?: string; agent?: string; offline?: boolean; json?: boolean }) => {
      const params = o.params === undefined ? {} : await readParamsArg(o.params);
      const { config, source } = loadConfig({ path: globals().config, allowMissing: true, scope: "cli" });
      const warning = selfProtectionWarning(config);
      if (warning) process.stderr.write(`warning: ${warning}\n`);
      let runtime: RuntimeRules | null = null;
      let note = "";
      if (!o.offline) {
        try {
          const ctx = await openContext(globals());
          try {
            runtime = await ctx.rules.load();
          } finally {
            await ctx.close();
          }
        } catch (err) {
          note = `note:     runtime rules not included (${(err as Error).message})`;
        }
      }
      // The same engine the gate runs, self-protection included (rule "builtin:self-protection").
      const engine = new PolicyEngine(config.policy, runtime ?? undefined, { protect: selfProtectionContext(config, { configPath: source }) });
      const d = engine.evaluate({ toolName: tool, params, agentId: o.agent });
      if (o.json) process.stdout.write(`${JSON.stringify({ ...d, runtimeRules: runtime !== null })}\n`);
      else process.stdout.write(`${formatDecision(d, note)}\n`);
    });

  policy
    .command("set")
    .description("override a rule at runtime for every gateway (kept in Redis)")
    .argument("<rule>", "rule string, e.g. 'exec(git push *)'")
    .argument("<decision>", DECISIONS.join("|"))
    .action(async (rule: string, decision: string) => {
      if (!(DECISIONS as readonly string[]).includes(decision)) throw new BadRequestError(`decision must be one of ${DECISIONS.join(", ")}`);
      parseRule(rule);
      await withContext(globals(), async (ctx) => {
        await ctx.rules.setOverride(rule, decision as Decision);
        await ctx.store.appendEvent("policy.override.set", "", { actor: ctx.actor, decision, rule });
        process.stdout.write(`override set: ${rule} → ${decision} (running gateways apply it within a second)\n`);
      });
    });

  policy
    .command("unset")
    .description("remove a runtime override or a saved allow-always rule")
    .argument("<rule>", "the exact rule string")
    .action(async (rule: string) => {
      await withContext(globals(), async (ctx) => {
        const removed = await ctx.rules.unset(rule);
        if (!removed) throw new PolicyRuleNotFoundError(rule);
        await ctx.store.appendEvent("policy.override.unset", "", { actor: ctx.actor, rule });
        process.stdout.write(`removed: ${rule}\n`);
      });
    });

  policy
    .command("list")
    .description("list runtime overrides and saved allow-always rules")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      await withContext(globals(), async (ctx) => {
        const r = await ctx.rules.load();
        const overrides = Object.fromEntries(r.overrides);
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ overrides, alwaysAllow: r.alwaysAllow })}\n`);
          return;
        }
        const lines = ["overrides:", ...Object.entries(overrides).map(([rule, d]) => `  ${d.padEnd(5)} ${rule}`), "allow-always:", ...r.alwaysAllow.map((rule) => `  ${rule}`)];
        process.stdout.write(`${lines.join("\n")}\n`);
      });
    });
}
