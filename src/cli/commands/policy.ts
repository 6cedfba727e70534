import type { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { BadRequestError } from "../../errors.ts";
import { PolicyEngine, parseRule } from "../../policy/engine.ts";
import { DECISIONS, type Decision } from "../../policy/schema.ts";
import { selfProtectionContext, selfProtectionWarning } from "../../config/self-protection.ts";
import type { PolicyDecision, RuntimeRules } from "../../policy/types.ts";
import { clientFor } from "../shared/api-client.ts";
import { openContext, withContext, type GlobalOptions } from "../shared/context.ts";
import { cliTrust } from "../../trust/process.ts";
import { readParamsArg } from "../shared/params-arg.ts";

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
            const loaded = await ctx.rules.load(cliTrust(config, { configSource: source }).keys);
            if (loaded.kind === "ok") runtime = loaded.snapshot;
            else if (loaded.kind === "none") runtime = { overrides: new Map(), alwaysAllow: [] };
            else note = `note:     runtime rules not included: they fail verification (${loaded.why}); gates block every call until \`clawgate policy repair\``;
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
    .description("override a rule at runtime for every gateway (through serve, which signs the rules; needs an admin token)")
    .argument("<rule>", "rule string, e.g. 'exec(git push *)'")
    .argument("<decision>", DECISIONS.join("|"))
    .action(async (rule: string, decision: string) => {
      if (!(DECISIONS as readonly string[]).includes(decision)) throw new BadRequestError(`decision must be one of ${DECISIONS.join(", ")}`);
      parseRule(rule);
      const out = await client(globals()).call<{ changed: boolean; version: number | null }>("POST", "/api/v1/policy/rules", { rule, decision: decision as Decision });
      process.stdout.write(out.changed ? `override set: ${rule} → ${decision} (runtime rules version ${out.version}; running gateways apply it within a second)\n` : `override already set: ${rule} → ${decision}\n`);
    });

  policy
    .command("unset")
    .description("remove a runtime override or a saved allow-always rule (through serve; needs an admin token)")
    .argument("<rule>", "the exact rule string")
    .action(async (rule: string) => {
      const out = await client(globals()).call<{ version: number }>("POST", "/api/v1/policy/rules/unset", { rule });
      process.stdout.write(`removed: ${rule} (runtime rules version ${out.version})\n`);
    });

  policy
    .command("repair")
    .description("re-sign the runtime rules after they were tampered with in Redis (rebuilt from the newest genuine version; needs an admin token)")
    .action(async () => {
      const out = await client(globals()).call<{ repaired: boolean; version: number | null; note?: string }>("POST", "/api/v1/policy/repair", {});
      process.stdout.write(out.repaired ? `runtime rules re-signed as version ${out.version}${out.note ? ` (${out.note})` : ""}\n` : "runtime rules verify; nothing to repair\n");
    });

  policy
    .command("list")
    .description("list runtime overrides and saved allow-always rules, and whether their signature verifies")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      await withContext(globals(), async (ctx) => {
        const loaded = await ctx.rules.load(cliTrust(ctx.config, { configSource: ctx.source }).keys);
        if (loaded.kind === "forged") {
          if (o.json) process.stdout.write(`${JSON.stringify({ verified: false, version: loaded.version, problem: loaded.why, overrides: {}, alwaysAllow: [] })}\n`);
          else process.stdout.write(`runtime rules in Redis FAIL verification (${loaded.why}): no gate applies them, and gates that never loaded a genuine version block every call. Run \`clawgate policy repair\`.\n`);
          return;
        }
        const r = loaded.kind === "ok" ? loaded.snapshot : null;
        const overrides = Object.fromEntries(r?.overrides ?? []);
        const always = r?.alwaysAllow ?? [];
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ verified: true, version: r?.version ?? 0, ...(r ? { by: r.by, at: r.at } : {}), overrides, alwaysAllow: always })}\n`);
          return;
        }
        const head = r ? `version ${r.version}, signed, last changed by ${r.by} at ${new Date(r.at).toISOString()}` : "none set";
        const lines = [`runtime rules: ${head}`, "overrides:", ...Object.entries(overrides).map(([rule, d]) => `  ${d.padEnd(5)} ${rule}`), "allow-always:", ...always.map((rule) => `  ${rule}`)];
        process.stdout.write(`${lines.join("\n")}\n`);
      });
    });
}

function client(g: GlobalOptions) {
  const { config, source } = loadConfig({ path: g.config, allowMissing: true, scope: "cli" });
  return clientFor(config, source, g.token);
}
