import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN } from "../helpers/cli.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("clawgate serve (the binary)", () => {
  it("starts an embedded Redis under ./data when no Redis URL is set, serves, and shuts down cleanly on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cg-serve-"));
    dirs.push(dir);
    writeFileSync(join(dir, "clawgate.yaml"), 'redis: { url: "${REDIS_URL}", prefix: serve-test }\nserver: { port: 0 }\n');
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "info" };
    delete env.REDIS_URL;
    const child = spawn(process.execPath, [BIN, "serve", "--embedded-redis-if-unset"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    try {
      await expect.poll(() => out, { timeout: 20_000 }).toMatch(/listening on (http:\/\/\S+)/);
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1] as string;
      const redisUrl = readFileSync(join(dir, "data", "redis.url"), "utf8").trim();
      expect(redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      const redisPid = Number(/"url":"redis:\/\/127\.0\.0\.1:\d+","pid":(\d+)/.exec(err)?.[1]);
      expect(alive(redisPid)).toBe(true);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(existsSync(join(dir, "data", "appendonlydir"))).toBe(true);

      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(err).toContain("clawgate serve stopped");
      expect(alive(redisPid)).toBe(false);
      expect(existsSync(join(dir, "data", "redis.url"))).toBe(false);
    } finally {
      clearTimeout(killer);
      child.kill("SIGKILL");
    }
  });
});
