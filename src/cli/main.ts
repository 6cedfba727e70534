import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { asClawgateError, toExitCode } from "../errors.ts";
import { commandName } from "./argv.ts";
import type { GlobalOptions } from "./shared/context.ts";

type Register = (program: Command, globals: () => GlobalOptions) => void;

/**
 * Each command module is imported only when its command runs: `clawgate list` must not pay
 * for Slack's SDK or the HTTP server at start (the CLI's cold start budget is 300 ms).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  serve: async () => (await import("./commands/serve.ts")).registerServeCommand,
  approvals: async () => (await import("./commands/approvals.ts")).registerApprovalCommands,
  policy: async () => (await import("./commands/policy.ts")).registerPolicyCommands,
  audit: async () => (await import("./commands/audit.ts")).registerAuditCommands,
  doctor: async () => (await import("./commands/doctor.ts")).registerDoctorCommand,
  token: async () => (await import("./commands/token.ts")).registerTokenCommands,
  request: async () => (await import("./commands/request.ts")).registerRequestCommand,
  oncall: async () => (await import("./commands/oncall.ts")).registerOncallCommands,
  keys: async () => (await import("./commands/keys.ts")).registerKeysCommands,
  login: async () => (await import("./commands/login.ts")).registerLoginCommand,
};
/** Verb → the module registering it, where they differ. */
const MODULE_OF: Record<string, string> = { approve: "approvals", deny: "approvals", list: "approvals", show: "approvals" };

/** package.json's version, from src/cli (tsx) or dist/src/cli (built). */
export function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "clawgate" && pkg.version) return pkg.version;
    } catch {
      /* try the next level */
    }
  }
  return "unknown";
}

export async function buildProgram(args: string[] = []): Promise<Command> {
  const program = new Command("clawgate")
    .description("human approval gate for OpenClaw agent tool calls")
    .version(packageVersion(), "-V, --version", "print the version")
    .option("-c, --config <file>", "config file (default: $CLAWGATE_CONFIG, else ./clawgate.yaml)")
    .option("--token <token>", "person or admin token for commands that act through serve (default: $CLAWGATE_TOKEN, then `clawgate login`)")
    .showHelpAfterError()
    .exitOverride();
  const globals = () => program.opts<GlobalOptions>();
  const name = commandName(args);
  const wanted = name ? (MODULE_OF[name] ?? name) : undefined;
  // Unknown or no command: load them all, so help lists everything and typos get suggestions.
  const modules = wanted && COMMANDS[wanted] ? [wanted] : !name && args.some((a) => a === "-V" || a === "--version") ? [] : Object.keys(COMMANDS);
  for (const register of await Promise.all(modules.map((m) => (COMMANDS[m] as () => Promise<Register>)()))) register(program, globals);
  // Nested commands (oncall override add, token create) too, so they exit through main's error handling.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride();
  return program;
}

/** Runs the CLI on `argv` (`process.argv`-shaped) and returns the exit code; never calls process.exit. */
export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv.slice(2));
    process.exitCode = undefined;
    await program.parseAsync(argv);
    // A command that ended normally may still report an outcome (`request --wait`: 1 denied, 2 timed out).
    const code = typeof process.exitCode === "number" ? process.exitCode : 0;
    process.exitCode = undefined;
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const e = asClawgateError(err);
    process.stderr.write(`clawgate: ${e.message}\n`);
    return toExitCode(e);
  }
}
