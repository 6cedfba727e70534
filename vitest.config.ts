import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Fault tests kill and restart real processes (serve, Redis, a gateway): they run with the
    // end-to-end suite (`bash e2e/run`, `npm run test:faults`), keeping `npm test` quick.
    exclude: ["test/faults/**", "**/node_modules/**"],
    globalSetup: ["test/global-setup.ts"],
    // Two cores: keep Redis-backed suites from starving each other.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
