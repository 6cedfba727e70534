import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import type { Command } from "commander";
import { parseAnchor, readAnchorFile, type AuditAnchor } from "../../audit/anchor.ts";
import { AuditBrokenError, BadRequestError } from "../../errors.ts";
import { withContext, type GlobalOptions } from "../shared/context.ts";

export function registerAuditCommands(program: Command, globals: () => GlobalOptions): void {
  const audit = program.command("audit").description("the tamper-evident audit log");

  audit
    .command("verify")
    .description("check the audit chain and say where it breaks")
    .option("--anchor <FILE|SEQ:HASH>", "also check against a published anchor (an anchor file: all its anchors, the newest must be reached)")
    .option("--json", "print JSON")
    .action(async (o: { anchor?: string; json?: boolean }) => {
      // Read the anchors first: a bad --anchor is a usage error, whatever state the log is in.
      const anchors = o.anchor === undefined ? undefined : await anchorsFrom(o.anchor);
      await withContext(globals(), async (ctx) => {
        const result = await ctx.audit.verify(anchors === undefined ? {} : { anchor: anchors });
        if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        if (result.ok) {
          const anchored = result.anchor === undefined ? "" : `; matches anchor ${result.anchor.seq}:${result.anchor.hash}`;
          if (!o.json) process.stdout.write(`audit log OK: ${result.entries} entries, head ${result.head}${anchored}\n`);
          return;
        }
        const b = result.brokenAt;
        throw new AuditBrokenError(`audit log broken at entry ${b.seq} (stream id ${b.streamId}): ${b.problem}: ${b.detail}; ${result.entries} entries before it verified`, { ...b });
      });
    });

  audit
    .command("repair")
    .description("point a rolled-back, deleted or garbled audit head at the last entry again, once every entry verifies (appends waiting on it resume)")
    .option("--anchor <FILE|SEQ:HASH>", "also require the log to match a published anchor")
    .option("--json", "print JSON")
    .action(async (o: { anchor?: string; json?: boolean }) => {
      const anchors = o.anchor === undefined ? undefined : await anchorsFrom(o.anchor);
      await withContext(globals(), async (ctx) => {
        const result = await ctx.audit.repair(`cli:${userInfo().username}`, anchors === undefined ? {} : { anchor: anchors });
        if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else if (!result.repaired) process.stdout.write(`audit log OK: nothing to repair (${result.head ? `head ${result.head.seq}:${result.head.hash}` : "empty"})\n`);
        else {
          process.stdout.write(
            `audit head repaired: it said seq ${result.from.seq ?? "(missing)"}, the log ends at seq ${result.last.seq} and verifies; the repair is entry ${result.head.seq}. Appends resume.\n`,
          );
        }
      });
    });

  audit
    .command("head")
    .description("print the newest entry as SEQ:HASH, an anchor to keep outside Redis")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      await withContext(globals(), async (ctx) => {
        const head = await ctx.audit.head();
        if (o.json) process.stdout.write(`${JSON.stringify(head)}\n`);
        else process.stdout.write(head === null ? "audit log is empty\n" : `${head.seq}:${head.hash}\n`);
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

/** `SEQ:HASH` is one anchor; anything else names an anchor file. */
async function anchorsFrom(arg: string): Promise<AuditAnchor[]> {
  const single = parseAnchor(arg);
  if (single !== undefined) return [single];
  if (/^\d+:/.test(arg) && !existsSync(arg)) {
    throw new BadRequestError(`--anchor ${arg} is neither SEQ:HASH (HASH = 40 hex characters, SEQ from 1) nor an anchor file`);
  }
  return readAnchorFile(arg);
}
