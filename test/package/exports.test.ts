import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

describe("package exports", () => {
  it("`clawgate` and `clawgate/client` resolve by name to the built modules a dependent imports", async () => {
    // Node resolves a package's own name through its "exports" map, as it does for a dependent.
    const script = [
      'const main = await import("clawgate");',
      'const client = await import("clawgate/client");',
      "console.log(JSON.stringify({ main: Object.keys(main).sort(), client: Object.keys(client).sort() }));",
    ].join("\n");
    const { stdout } = await execFileAsync(process.execPath, ["--input-type=module", "-e", script], { cwd: root });
    const { main, client } = JSON.parse(stdout) as { main: string[]; client: string[] };
    expect(main).toEqual(expect.arrayContaining(["loadConfig", "buildConfig", "PolicyEngine", "parseRule", "ClawgateError", "toExitCode", "createLogger", "loggerFromOpenClaw", "resolveRedisAddress"]));
    expect(client).toContain("requestApproval");
  });
});
