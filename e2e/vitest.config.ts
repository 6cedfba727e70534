// End-to-end suite: real OpenClaw gateway(s), real Redis. Run with `bash e2e/run`
// (or `npx vitest run --config e2e/vitest.config.ts` from the repo root after e2e/install.sh).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export default defineConfig({
  root: repoRoot,
  test: {
    // Real-process fault tests of test/faults run here too: one process tree at a time.
    include: ["e2e/**/*.test.ts", "test/faults/**/*.test.ts"],
    exclude: ["**/node_modules/**", "e2e/.tmp/**"],
    // Each gateway is a heavy Node 24 process on a 2-core machine: one file at a time,
    // one worker, tests within a file in order.
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { concurrent: false },
    testTimeout: 180_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    reporters: ["default"],
  },
});
