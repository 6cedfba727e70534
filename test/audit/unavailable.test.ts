import { createServer } from "node:net";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisUnavailableError } from "../../src/errors.ts";
import { AuditLog } from "../../src/audit/log.ts";

/** A port that was free a moment ago: nothing listens there, so connecting is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("AuditLog without Redis", () => {
  it("rejects append, read and verify with RedisUnavailableError", async () => {
    const redis = new Redis({
      host: "127.0.0.1",
      port: await closedPort(),
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 200,
      retryStrategy: () => null,
    });
    redis.on("error", () => {}); // the refused connection is the point of the test
    try {
      const log = new AuditLog(redis, { prefix: "unreachable" });
      await expect(log.append({ type: "decision", approvalId: "ap_1" })).rejects.toBeInstanceOf(RedisUnavailableError);
      await expect(log.read()).rejects.toBeInstanceOf(RedisUnavailableError);
      await expect(log.verify()).rejects.toBeInstanceOf(RedisUnavailableError);
      await expect(log.append({ type: "decision" })).rejects.toMatchObject({ code: "redis_unavailable" });
    } finally {
      redis.disconnect();
    }
  });
});
