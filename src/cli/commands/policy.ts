import type { Command } from "commander";
import { BadRequestError, RuleNotFoundError } from "../../errors.ts";
import { PolicyEngine, parseRule } from "../../policy/engine.ts";
import { DECISIONS, type Decision } from "../../policy/schema.ts";
import type { PolicyDecision, RuntimeRules } from "../../policy/types.ts";
import { cliConfig, openContext, withContext, type GlobalOptions } from "../context.ts";

function parseParams(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`--params is not valid JSON: ${(err as Error).message}`);
  }
}

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
    .option("--params <json>", "tool params as JSON, e.g. '{\"command\":\"git push\"}'")
    .option("--agent <id>", "agent id (per-agent overrides)")
    .option("--offline", "ignore runtime rules held in Redis")
    .option("--json", "print one JSON object")
    .action(async (tool: string, o: { params?: string; agent?: string; offline?: boolean; json?: boolean }) => {
      const params = parseParams(o.params);
      const config = cliConfig(globals());
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
      const engine = new PolicyEngine(config.policy, runtime ?? undefined);
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
        await ctx.audit.append({ type: "policy.override.set", actor: ctx.actor, channel: "cli", decision, details: { rule } });
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
        if (!removed) throw new RuleNotFoundError(rule);
        await ctx.audit.append({ type: "policy.override.unset", actor: ctx.actor, channel: "cli", details: { rule } });
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
