import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { enabledChannels, loadChannels } from "../../bots/registry.ts";
import { createRedis, waitReady } from "../../queue/connection.ts";
import { JobProducer } from "../../queue/producer.ts";
import { startWorkers } from "../../queue/workers.ts";
import { AuditLog } from "../audit/log.ts";
import { keys } from "../approvals/keys.ts";
import type { Resolution } from "../approvals/record.ts";
import { ApprovalService } from "../approvals/service.ts";
import { ApprovalStore } from "../approvals/store.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { RedisUnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { createAuthenticator, requireStaticToken } from "../auth/authenticate.ts";
import { TokenStore } from "../auth/tokens.ts";
import { registerApi } from "./api.ts";
import { createHttpServer, Router, sendJson } from "./http.ts";
import { createMetrics } from "./metrics.ts";

export interface ServeOptions {
  config: ClawgateConfig;
  redisUrl: string;
  log: Logger;
  /** Where the log channel prints; stdout by default. */
  out?: NodeJS.WritableStream;
}

export interface RunningService {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** `clawgate serve`: HTTP (health, metrics, REST API, channel callbacks) and every BullMQ worker. */
export async function serve(opts: ServeOptions): Promise<RunningService> {
  const { config, log } = opts;
  const redis = createRedis(opts.redisUrl, "command", { commandTimeoutMs: config.redis.commandTimeout, logger: log, name: "clawgate-serve" });
  const bull = createRedis(opts.redisUrl, "bullmq", { logger: log, name: "clawgate-serve-bullmq" });
  const sub = createRedis(opts.redisUrl, "subscriber", { logger: log, name: "clawgate-serve-sub" });
  try {
    await waitReady(redis, 10_000);
  } catch (err) {
    redis.disconnect();
    bull.disconnect();
    sub.disconnect();
    throw new RedisUnavailableError(`cannot reach Redis at ${opts.redisUrl.replace(/\/\/[^@/]*@/, "//***@")}: ${(err as Error).message}`);
  }

  const k = keys(config.redis.prefix);
  const store = new ApprovalStore(redis, {
    prefix: config.redis.prefix,
    keepForMs: config.approvals.keepFor,
    retryGrantMs: config.approvals.retryGrant,
    maxParamsBytes: config.approvals.maxParamsBytes,
  });
  const audit = new AuditLog(redis, { prefix: config.redis.prefix, hmacKey: config.audit.hmacKey, logger: log });
  const producer = new JobProducer(redis, config.redis.prefix);
  const service = new ApprovalService(store, { audit, producer, channels: enabledChannels(config), log });
  const channels = await loadChannels({ config, log, service, ...(opts.out ? { out: opts.out } : {}) });
  for (const c of channels) await c.start?.();

  const metrics = createMetrics(() => redis.zcard(k.pending));
  // Every final transition is published; count them here rather than in each decider.
  await sub.psubscribe(k.decisionPattern);
  sub.on("pmessage", (_pattern: string, _channel: string, message: string) => {
    try {
      const r = JSON.parse(message) as Resolution;
      metrics.resolved.inc({ state: r.state, via: r.decidedVia || "clawgate" });
      void store.get(r.id).then((rec) => {
        if (rec) metrics.latency.observe({ state: r.state }, Math.max(0, (r.decidedAt - rec.createdAt) / 1000));
      });
    } catch (err) {
      log.warn({ err: (err as Error).message }, "unreadable decision message");
    }
  });

  const workers = startWorkers({
    config,
    connection: bull,
    service,
    producer,
    channels,
    log,
    onJob: (queue, outcome) => metrics.jobs.inc({ queue, outcome }),
  });

  let ready = true;
  const router = new Router()
    .on("GET", "/healthz", (_req, res) => sendJson(res, 200, { ok: true }))
    .on("GET", "/readyz", async (_req, res) => {
      const redisOk = await redis.ping().then(
        () => true,
        () => false,
      );
      sendJson(res, ready && redisOk ? 200 : 503, { ok: ready && redisOk, redis: redisOk, channels: channels.map((c) => c.name) });
    })
    .on("GET", "/metrics", async (req, res) => {
      requireStaticToken(req, config.server.metricsToken, "server.metricsToken");
      const text = await metrics.registry.metrics();
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(text);
    });
  const authenticate = createAuthenticator({ tokens: new TokenStore(redis, config.redis.prefix), adminToken: config.server.apiToken });
  registerApi(router, { service, authenticate, maxBodyBytes: config.server.maxBodyBytes });
  for (const c of channels) c.routes?.(router);

  const server = createHttpServer(router, config.server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.server.port, config.server.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address}:${addr.port}`;
  log.info({ url, channels: channels.map((c) => c.name) }, "clawgate serve is up");

  let closing: Promise<void> | null = null;
  return {
    url,
    server,
    close() {
      closing ??= (async () => {
        ready = false;
        // Stop taking requests, let in-flight jobs finish, then drop connections.
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await stopped;
        await workers.close();
        for (const c of channels) await c.stop?.();
        await producer.close();
        sub.disconnect();
        bull.disconnect();
        redis.disconnect();
        log.info("clawgate serve stopped");
      })();
      return closing;
    },
  };
}
