import type { Command } from "commander";
import { STATES, type ApprovalState } from "../../approvals/record.ts";
import { BadRequestError } from "../../errors.ts";
import type { Resolution } from "../../approvals/record.ts";
import { loadConfig } from "../../config/load.ts";
import { clientFor } from "../shared/api-client.ts";
import { withContext, type GlobalOptions } from "../shared/context.ts";
import { formatList, formatRecord } from "../shared/format.ts";

/** serve's API as the credential of this terminal (exit 5 without one, before anything is sent). */
function client(g: GlobalOptions) {
  const { config, source } = loadConfig({ path: g.config, allowMissing: true, scope: "cli" });
  return clientFor(config, source, g.token);
}

export function registerApprovalCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command("approve")
    .description("approve a pending request (the waiting tool call runs)")
    .argument("<id>", "approval id, e.g. ap_0123456789ab")
    .option("--reason <text>", "why (recorded and shown on every channel)")
    .option("--always", "also save the request's allow-always rule for every gateway")
    .action(async (id: string, o: { reason?: string; always?: boolean }) => {
      // Through serve, as the token's person: serve authorizes, signs and records the decision.
      const api = client(globals());
      const decision = o.always ? "allow-always" : "allow-once";
      const { resolution } = await api.call<{ resolution: Resolution }>("POST", `/api/v1/approvals/${encodeURIComponent(id)}/decision`, { decision, ...(o.reason ? { reason: o.reason } : {}) });
      let saved = "";
      if (o.always) {
        const { approval } = await api.call<{ approval: { alwaysAllowRule?: string } }>("GET", `/api/v1/approvals/${encodeURIComponent(id)}`);
        if (approval.alwaysAllowRule) saved = `; saved rule ${approval.alwaysAllowRule}`;
      }
      process.stdout.write(`approved ${resolution.id} (${resolution.decision}) as ${resolution.decidedBy}${saved}\n`);
    });

  program
    .command("deny")
    .description("deny a pending request; the reason is sent back to the agent")
    .argument("<id>", "approval id")
    .requiredOption("--reason <text>", "why (the agent sees it)")
    .action(async (id: string, o: { reason: string }) => {
      if (!o.reason.trim()) throw new BadRequestError("a denial needs a reason (the agent sees it): --reason TEXT");
      const { resolution } = await client(globals()).call<{ resolution: Resolution }>("POST", `/api/v1/approvals/${encodeURIComponent(id)}/decision`, { decision: "deny", reason: o.reason });
      process.stdout.write(`denied ${resolution.id} as ${resolution.decidedBy}: ${resolution.reason}\n`);
    });

  program
    .command("list")
    .description("list approvals")
    .option("--state <state>", `one of ${[...STATES, "all"].join("|")}`, "pending")
    .option("--limit <n>", "at most this many", "50")
    .option("--json", "print JSON")
    .action(async (o: { state: string; limit: string; json?: boolean }) => {
      if (![...STATES, "all"].includes(o.state)) throw new BadRequestError(`--state must be one of ${[...STATES, "all"].join(", ")}`);
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new BadRequestError("--limit must be a positive integer");
      await withContext(globals(), async (ctx) => {
        const records = await ctx.store.list({ state: o.state as ApprovalState | "all", limit });
        process.stdout.write(o.json ? `${JSON.stringify(records, null, 2)}\n` : `${formatList(records)}\n`);
      });
    });

  program
    .command("show")
    .description("show one approval")
    .argument("<id>", "approval id")
    .option("--json", "print JSON")
    .option("--full", "print long params in full instead of clipping them")
    .action(async (id: string, o: { json?: boolean; full?: boolean }) => {
      await withContext(globals(), async (ctx) => {
        const record = await ctx.store.require(id);
        const refs = await ctx.store.refs(id);
        process.stdout.write(o.json ? `${JSON.stringify({ ...record, messages: refs }, null, 2)}\n` : `${formatRecord(record, { full: o.full })}\n`);
      });
    });
}
