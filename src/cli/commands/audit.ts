import type { Command } from "commander";
import { AuditBrokenError } from "../../errors.ts";
import { withContext, type GlobalOptions } from "../context.ts";

export function registerAuditCommands(program: Command, globals: () => GlobalOptions): void {
  const audit = program.command("audit").description("the tamper-evident audit log");

  audit
    .command("verify")
    .description("check the audit chain and say where it breaks")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      await withContext(globals(), async (ctx) => {
        const result = await ctx.audit.verify();
        if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        if (result.ok) {
          if (!o.json) process.stdout.write(`audit log OK: ${result.entries} entries, head ${result.head}\n`);
          return;
        }
        const b = result.brokenAt;
        throw new AuditBrokenError(`audit log broken at entry ${b.seq} (stream id ${b.streamId}): ${b.problem}: ${b.detail}; ${result.entries} entries before it verified`, { ...b });
      });
    });

  audit
    .command("tail")
    .description("print the latest audit entries")
    .option("--limit <n>", "how many", "20")
    .action(async (o: { limit: string }) => {
      await withContext(globals(), async (ctx) => {
        const limit = Math.max(1, Number(o.limit) || 20);
        for (const e of await ctx.audit.latest(limit)) process.stdout.write(`${JSON.stringify(e)}\n`);
      });
    });
}
