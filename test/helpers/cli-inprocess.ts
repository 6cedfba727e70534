import { main } from "../../src/cli/main.ts";
import type { CliResult } from "./cli.ts";

type Write = typeof process.stdout.write;

/**
 * Runs the CLI in this process — `main(argv)` with `env` applied to process.env and stdout /
 * stderr captured — for tests where the process boundary is not what is tested (it costs
 * ~0.5 s per spawned call on this machine). Calls must not overlap: env and the streams are
 * process-wide. Tests of the binary itself (exit, signals, bin → dist) use runCli.
 */
export async function runCliInProcess(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const vars = { LOG_LEVEL: "silent", ...env };
  const saved = new Map(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let stdout = "";
  let stderr = "";
  const capture = (append: (s: string) => void): Write =>
    ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown) => {
      append(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const done = typeof encoding === "function" ? encoding : cb;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    }) as Write;
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = capture((s) => (stdout += s));
  process.stderr.write = capture((s) => (stderr += s));
  try {
    const code = await main(["node", "clawgate", ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
