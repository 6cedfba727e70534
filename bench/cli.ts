import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { summarize } from "./stats.ts";

const BIN = fileURLToPath(new URL("../bin/clawgate.js", import.meta.url));

export interface CliBenchRow {
  command: string;
  n: number;
  p50ms: number;
  p99ms: number;
  minms: number;
}

/**
 * Cold start of the built `clawgate` binary: a fresh `node bin/clawgate.js …` process per
 * run, timed from spawn to exit (what a person or a script waits for). `list` includes
 * connecting to Redis and one round trip.
 */
export function benchCli(runs = 15): CliBenchRow[] {
  const dir = mkdtempSync(join(tmpdir(), "cg-bench-cli-"));
  const config = join(dir, "clawgate.yaml");
  writeFileSync(config, `redis: { url: "\${REDIS_URL:-redis://127.0.0.1:6379}", prefix: bench-cli-${randomUUID().slice(0, 8)} }\n`);
  const env = { ...process.env, CLAWGATE_CONFIG: config, LOG_LEVEL: "silent" };
  const cases: Array<[string, string[]]> = [
    ["--version", ["--version"]],
    ["policy test --offline", ["policy", "test", "exec", "--params", '{"command":"git push origin main"}', "--offline"]],
    ["list (Redis)", ["list"]],
  ];
  try {
    return cases.map(([label, args]) => {
      const samples: number[] = [];
      for (let i = 0; i < runs + 2; i++) {
        const t0 = process.hrtime.bigint();
        const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8" });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r.status !== 0) throw new Error(`clawgate ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
        if (i >= 2) samples.push(ms); // the first two warm the OS file cache, as a second call would
      }
      const s = summarize(samples);
      return { command: label, n: s.n, p50ms: s.p50, p99ms: s.p99, minms: Math.min(...samples) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
