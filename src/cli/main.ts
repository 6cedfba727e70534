import { Command, CommanderError } from "commander";
import { asClawgateError, toExitCode } from "../errors.ts";
import { registerApprovalCommands } from "./commands/approvals.ts";
import { registerAuditCommands } from "./commands/audit.ts";
import { registerDoctorCommand } from "./commands/doctor.ts";
import { registerOncallCommands } from "./commands/oncall.ts";
import { registerPolicyCommands } from "./commands/policy.ts";
import { registerServeCommand } from "./commands/serve.ts";
import { registerTokenCommands } from "./commands/token.ts";
import type { GlobalOptions } from "./context.ts";

export function buildProgram(): Command {
  const program = new Command("clawgate")
    .description("human approval gate for OpenClaw agent tool calls")
    .option("-c, --config <file>", "config file (default: $CLAWGATE_CONFIG, else ./clawgate.yaml)")
    .showHelpAfterError()
    .exitOverride();
  const globals = () => program.opts<GlobalOptions>();
  registerServeCommand(program, globals);
  registerApprovalCommands(program, globals);
  registerPolicyCommands(program, globals);
  registerAuditCommands(program, globals);
  registerDoctorCommand(program, globals);
  registerTokenCommands(program, globals);
  registerOncallCommands(program, globals);
  // Nested commands (oncall override add) too, so they exit through main's error handling.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const e = asClawgateError(err);
    process.stderr.write(`clawgate: ${e.message}\n`);
    return toExitCode(e);
  }
}
