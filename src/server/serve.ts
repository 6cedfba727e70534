import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChannelDeps } from "../channel/adapter.ts";
import { loadChannels } from "../../bots/registry.ts";
import { startAnchorPublisher } from "../audit/anchorPublisher.ts";
import { AuditLog } from "../audit/log.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import { InboundDecisions } from "../inbound/decisions.ts";
import { startLifecycle } from "../lifecycle/runtime.ts";
import type { Logger } from "../log.ts";
import { createAuthenticator, requireStaticToken } from "../auth/authenticate.ts";
import { TokenStore } from "../auth/tokens.ts";
import { openBackendReady, safeUrl } from "../backend/wiring.ts";
import { registerApi } from "./api.ts";
import { registerRequestApi } from "./api-requests.ts";
import { startRequestSide } from "../asks/request-side.ts";
import { selfProtectionWarning } from "../config/self-protection.ts";
import { createHttpServer, Router, sendJson } from "../http/router.ts";
import { registerAdminApi } from "./api-admin.ts";
import { ensureLocalAdminToken } from "./local-token.ts";
import { RulesWriter, RuntimeRulesStore, type RulesSnapshot } from "../approvals/runtime-rules.ts";
import { FileRulesMemory } from "../approvals/rules-memory.ts";
import { configSourceOf } from "../config/load.ts";
import { serveTrust, type Trust } from "../trust/process.ts";
import type { Signer } from "../trust/signature.ts";
import { createMetrics } from "../metrics/metrics.ts";
import { RedisReachability } from "../redis/reachability.ts";
import { pingWithin, stopWithin } from "./shutdown.ts";
import type { HeldAuditState } from "../lifecycle/audit-sink.ts";

export interface ServeOptions {
  config: ClawgateConfig;
  redisUrl: string;
  log: Logger;
  /** Where the log channel prints; stdout by default. */
  out?: NodeJS.WritableStream;
  /** DNS lookups for mail authentication; the system resolver by default (tests pass a stand-in). */
  dnsResolver?: ChannelDeps["dnsResolver"];
  /** The keys serve signs with and trusts; read from config and the keys folder by default. */
  trust?: Trust;
  /** Where serve remembers the newest runtime rules it accepted (so a deletion in Redis loses nothing across restarts). */
  rulesMemoryFile?: string;
  /** `npm start`: keep an admin token for the OS user in this file (0600), made on first start, for the CLI on this host. */
  localAdminTokenFile?: string;
}

export interface RunningService {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * `clawgate serve`: HTTP (health, metrics, REST API, channel callbacks), the lifecycle event
 * consumer (the only place notifications, message edits, audit entries and timers come from),
 * every BullMQ worker, and the leader-elected sweeper.
 */
export async function serve(opts: ServeOptions): Promise<RunningService> {
  const { config, log } = opts;
  // The decision key never leaves this process: every approval, rules snapshot and token is signed here.
  const trust = opts.trust ?? serveTrust(config, { configSource: configSourceOf(config) ?? null }, log);
  // One report of Redis outages for every connection serve opens (and one switch to drop them all).
  const reach = new RedisReachability(log);
  const backend = await openBackendReady(config, opts.redisUrl, log, "clawgate-serve", 10_000, { signer: trust.signer, reach });
  const { redis, store, service } = backend;
  reach.probe(redis);
  const rulesStore = new RuntimeRulesStore(redis, store.k, config.redis.prefix);
  // Rule changes build on the newest genuine snapshot this serve has seen (see startRequestSide below).
  let seenRules: () => RulesSnapshot | null = () => null;
  const rules = new RulesWriter(rulesStore, trust.signer as Signer, trust.keys, () => seenRules());
  log.info({ redis: safeUrl(opts.redisUrl) }, "connected to Redis");
  const unprotected = selfProtectionWarning(config);
  if (unprotected) log.warn(unprotected);

  // Only serve appends to the audit chain; the HMAC key is used here, in Node, and never sent to Redis.
  const audit = new AuditLog(redis, { prefix: config.redis.prefix, hmacKey: config.audit.hmacKey, dedupeWindowMs: config.audit.dedupeWindow, logger: log });
  const decisions = new InboundDecisions(service, config, rules);
  const channels = await loadChannels({ config, log, decisions, ...(opts.out ? { out: opts.out } : {}), ...(opts.dnsResolver ? { dnsResolver: opts.dnsResolver } : {}) });
  for (const c of channels) await c.start?.();

  const metrics = createMetrics(() => redis.zcard(store.k.pending));
  // Approvals created over the API are judged by the same policy (and runtime rules) as the gate's.
  const memory = opts.rulesMemoryFile ? new FileRulesMemory(opts.rulesMemoryFile) : undefined;
  const requests = await startRequestSide(config, opts.redisUrl, service, trust.keys, log, memory, reach);
  seenRules = requests.rules;
  const lifecycle = await startLifecycle({
    config,
    redisUrl: opts.redisUrl,
    service,
    channels,
    audit,
    log,
    metrics,
    reach,
    alwaysAllow: { keys: trust.keys, rules },
    onAuditState: (s) => {
      metrics.auditBroken.set(s.broken ? 1 : 0);
      metrics.auditWaiting.set(s.waiting);
    },
  });
  // Anchors published outside Redis let `audit verify --anchor` detect a truncated log.
  const anchors = startAnchorPublisher(audit, {
    intervalMs: config.audit.anchorInterval,
    ...(config.audit.anchorFile ? { file: config.audit.anchorFile } : {}),
    log,
    onAnchor: (a) => metrics.auditAnchor.set(a.seq),
  });

  let ready = true;
  const router = new Router()
    .on("GET", "/healthz", (_req, res) => sendJson(res, 200, { ok: true }))
    .on("GET", "/readyz", async (_req, res) => {
      const unreachable = await pingWithin(redis, config.redis.commandTimeout);
      // Not ready = do not send traffic here (Redis gone, or stopping); the other problems are
      // listed for people, while the routes they do not affect keep working.
      const problems = [
        ...(ready ? [] : ["shutting down"]),
        ...(unreachable ? [`Redis unreachable: ${unreachable}`] : []),
        ...auditProblem(lifecycle.audit()),
        ...channels.flatMap((c) => {
          const p = c.problem?.();
          return p ? [`${c.name}: ${p}`] : [];
        }),
      ];
      const ok = ready && !unreachable;
      if (!ok) res.setHeader("retry-after", "5");
      sendJson(res, ok ? 200 : 503, { ok, redis: !unreachable, channels: channels.map((c) => c.name), ...(problems.length ? { problems } : {}) });
    })
    .on("GET", "/metrics", async (req, res) => {
      requireStaticToken(req, config.server.metricsToken, "server.metricsToken");
      const text = await metrics.registry.metrics();
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(text);
    });
  const tokens = new TokenStore(redis, config.redis.prefix, {
    signer: trust.signer,
    keys: trust.keys,
    onForged: ({ name, why }) => {
      metrics.forgeries.inc({ kind: "token" });
      log.error({ token: name, why }, "refused a token record that serve did not sign (written to Redis by someone else?)");
      store.appendEvent("approval.forged", "", { actor: `token:${name}`, reason: `token record not validly signed: ${why}` }).catch(() => undefined);
    },
  });
  const authenticate = createAuthenticator({ tokens, adminToken: config.server.apiToken });
  if (opts.localAdminTokenFile) await ensureLocalAdminToken(tokens, opts.localAdminTokenFile, log);
  registerApi(router, { decisions, authenticate, maxBodyBytes: config.server.maxBodyBytes });
  registerAdminApi(router, { authenticate, store, rules, rulesStore, keys: trust.keys, tokens, maxBodyBytes: config.server.maxBodyBytes });
  registerRequestApi(router, { store, asks: requests.flow, engine: requests.engine, authenticate, decisions, maxBodyBytes: config.server.maxBodyBytes });
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
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const how = await stopWithin({
          redis,
          reach,
          log,
          // Stop taking requests, let in-flight work finish, then drop connections.
          drain: async () => {
            await stopped;
            await anchors.stop();
            requests.close();
            await lifecycle.close();
            for (const c of channels) await c.stop?.();
          },
          // Connections are already cut: whatever still waits on Redis fails at once.
          abandon: async () => {
            server.closeAllConnections();
            requests.close();
            await Promise.allSettled([anchors.stop(), lifecycle.close({ force: true }), ...channels.map((c) => c.stop?.())]);
          },
        });
        reach.stop();
        backend.close();
        log.info({ drained: how === "drained" }, "clawgate serve stopped");
      })();
      return closing;
    },
  };
}

function auditProblem(s: HeldAuditState): string[] {
  if (!s.broken) return [];
  return [`audit log broken (${s.broken}): ${s.waiting} event(s) wait to be appended, in order, once it is repaired (\`clawgate audit verify\`, then \`clawgate audit repair\`)`];
}
