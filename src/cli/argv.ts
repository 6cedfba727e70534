/** The first operand after the global options: the command the user asked for. */
export function commandName(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "-c" || a === "--config" || a === "--token") i++;
    else if (a === "--") return args[i + 1];
    else if (!a.startsWith("-")) return a;
  }
  return undefined;
}

/**
 * Commands that load BullMQ or the channel SDKs run the compiled modules in dist/src; every
 * other command runs the bundle in dist/cli (scripts/build.mjs), which starts faster but has
 * its own copy of ioredis that must not meet BullMQ's.
 */
export function runsBundled(args: string[]): boolean {
  const name = commandName(args);
  return name !== "serve" && name !== "doctor";
}
