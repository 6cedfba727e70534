import type { Command } from "commander";
import { DecisionWaiter } from "../../approvals/waiter.ts";
import { CLOSE_REASONS, describeResolution } from "../../approvals/record.ts";
import { AskFlow } from "../../asks/flow.ts";
import { PolicyEngine } from "../../policy/engine.ts";
import { selfProtectionContext } from "../../config/self-protection.ts";
import { createRedis } from "../../redis/connection.ts";
import { withContext, redisUrlOf, type GlobalOptions } from "../shared/context.ts";
import { readParamsArg } from "../shared/params-arg.ts";
import { ClawgateError } from "../../errors.ts";
import { cliTrust } from "../../trust/process.ts";

/** Exit codes of `clawgate request --wait`, as documented: 0 approved/allowed, 1 denied, 2 timed out or cancelled. */
const EXIT = { approved: 0, denied: 1, expired: 2, cancelled: 2 } as const;

export function registerRequestCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command("request")
    .description("ask for a tool call exactly as the plugin does, without OpenClaw: policy, then (on ask) an approval every channel is notified of")
    .argument("<tool>", "tool name, e.g. exec")
    .option("--params <json|@file|->", "tool params: JSON, @file, or - for stdin", "{}")
    .option("--agent <id>", "agent id (per-agent policy, shown to approvers)")
    .option("--session <key>", "session key (shown to approvers; flood caps count per session)", "cli")
    .option("--wait", "wait for the decision: exit 0 approved, 1 denied, 2 timed out (Ctrl-C cancels the approval)")
    .option("--json", "print one JSON object")
    .action(async (tool: string, o: { params: string; agent?: string; session: string; wait?: boolean; json?: boolean }) => {
      const params = await readParamsArg(o.params);
      const code = await withContext(globals(), async (ctx) => {
        // Judged exactly as a gate judges: only runtime rules signed by serve apply, and rules that
        // fail verification stop the request instead of silently dropping a runtime deny.
        const { keys } = cliTrust(ctx.config, { configSource: ctx.source });
        const loaded = await ctx.rules.load(keys);
        if (loaded.kind === "forged") throw new ClawgateError("signature_invalid", `runtime rules in Redis fail verification (${loaded.why}); nothing is judged until an operator runs \`clawgate policy repair\``);
        const engine = new PolicyEngine(ctx.config.policy, loaded.kind === "ok" ? loaded.snapshot : undefined, { protect: selfProtectionContext(ctx.config) });
        const print = (human: string, json: object) => process.stdout.write(o.json ? `${JSON.stringify(json)}\n` : `${human}\n`);
        // Waiting: subscribed before asking, so serve's sweeper sees this process alive while it waits.
        const sub = o.wait ? createRedis(redisUrlOf(ctx.config), "subscriber", { name: "clawgate-cli-sub" }) : null;
        sub?.on("error", () => undefined);
        const waiter = sub ? new DecisionWaiter(sub, ctx.store) : undefined;
        const flow = new AskFlow({
          config: ctx.config,
          service: ctx.service,
          waiter,
          keys,
          log: ctx.log,
          reasons: { aborted: CLOSE_REASONS.requesterStopped, abandoned: CLOSE_REASONS.requesterAbandoned },
        });
        // Interrupted at any point, the approval is cancelled (or tombstoned if its create is still
        // in flight), so a later approve releases nothing and serve closes every card.
        const abort = new AbortController();
        const onSignal = () => abort.abort();
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        try {
          await waiter?.subscribe();
          const call = { tool, params, agentId: o.agent, sessionKey: o.session, requester: { channel: "cli", senderId: ctx.identity.id } };
          const res = await flow.request(engine, call, { lease: waiter !== undefined, signal: abort.signal });
          if (res.decision === "allow") {
            print(`allowed by policy: ${res.policy.reason}`, { decision: "allow", rule: res.policy.rule, reason: res.policy.reason });
            return 0;
          }
          if (res.decision === "deny") {
            print(`denied by policy rule "${res.policy.rule ?? res.policy.source}": ${res.policy.reason}`, { decision: "deny", rule: res.policy.rule, reason: res.policy.reason });
            return 1;
          }
          if (res.decision === "abandoned") {
            await res.cancelled;
            print(`${res.id} cancelled (${CLOSE_REASONS.requesterAbandoned})`, { decision: "ask", id: res.id, state: "cancelled", reason: CLOSE_REASONS.requesterAbandoned });
            return EXIT.cancelled;
          }
          const a = res.approval;
          if (!waiter) {
            print(`pending ${a.id}: ${a.policyReason} (decide with: clawgate approve ${a.id} | clawgate deny ${a.id} --reason "…")`, { decision: "ask", id: a.id, deadline: a.deadline, state: "pending" });
            return 0;
          }
          if (!o.json) process.stderr.write(`waiting for a decision on ${a.id} until ${new Date(a.deadline).toISOString()} (Ctrl-C cancels it)\n`);
          const end = await flow.wait(a, { id: a.id, paramsHash: a.paramsHash, rule: a.alwaysAllowRule }, a.deadline, abort.signal);
          if (end.kind !== "final") {
            print(`${a.id} is still pending`, { decision: "ask", id: a.id, state: "pending" });
            return 2;
          }
          // An approval not signed for this call is shown as the denial it is.
          const r = end.genuine ? end.resolution : { ...end.resolution, state: "denied" as const, decision: "deny" as const, decidedBy: "clawgate", decidedVia: "clawgate", reason: "an approval without a valid signature was ignored; nothing may run" };
          print(`${a.id} ${describeResolution(r)}`, { decision: "ask", id: a.id, state: r.state, decidedBy: r.decidedBy, decidedVia: r.decidedVia, reason: r.reason });
          return EXIT[r.state];
        } finally {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
          flow.close();
          sub?.disconnect();
        }
      });
      process.exitCode = code;
    });
}
