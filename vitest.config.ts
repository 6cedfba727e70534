import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Fault tests kill and restart real processes (serve, Redis, a gateway): they run with the
    // end-to-end suite (`bash e2e/run`, `npm run test:faults`), keeping `npm test` quick.
    exclude: ["test/faults/**", "**/node_modules/**"],
    globalSetup: ["test/global-setup.ts"],
    // Most suites wait on Redis, timers and child processes rather than compute: four workers
    // on two cores keep both busy (measured: 83 s with two, about 60 s with four).
    maxWorkers: 4,
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
