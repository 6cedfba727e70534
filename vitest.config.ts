import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Fault tests kill and restart real processes (serve, Redis, a gateway): they run with the
    // end-to-end suite (`bash e2e/run`, `npm run test:faults`), keeping `npm test` quick.
    exclude: ["test/faults/**", "**/node_modules/**"],
    globalSetup: ["test/global-setup.ts"],
    // Most suites wait on Redis, timers and child processes rather than compute: four workers
    // on two cores keep both busy (measured: 83 s with two, about 60 s with four; six is slower).
    maxWorkers: 4,
    // Files share a worker's module cache instead of each importing src/ (and the GopherJS shell
    // parser, Slack's and Discord's SDKs) afresh: about a third less CPU for the suite. Safe
    // because no test file mocks modules or leaves globals changed: each uses its own Redis key
    // prefix, ports and temp dirs, and the in-process CLI restores env and stdio.
    isolate: false,
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
