import { z } from "zod";
import { policySchema } from "../policy/schema.ts";
import { keysSchema } from "../trust/schema.ts";
import { parseTarget } from "../oncall/targets.ts";
import { duration } from "../text/duration.ts";
import { escalationSchema } from "../oncall/chain-schema.ts";
import { oncallSchema, personSchema } from "../oncall/schema.ts";
import { channelConfigShape } from "../../bots/spec.ts";
import { CHANNEL_SPECS, personChannels } from "../../bots/specs.ts";
import { validateOncall } from "../oncall/validate.ts";

/**
 * The one clawgate config schema. The plugin's `openclaw.plugin.json` configSchema and the
 * README's config reference are generated from it (`npm run gen:schema`). Each channel's block
 * (and its `people.<id>.<channel>` field) comes from its spec in the list in bots/specs.ts.
 */

const redisSchema = z
  .strictObject({
    url: z.string().default("").describe("redis:// URL; REDIS_URL overrides it; empty means the embedded Redis of `npm start`"),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, "use letters, digits and _ . : - only")
      .default("clawgate")
      .describe("key prefix; keys are hash-tagged {prefix} so Redis Cluster works"),
    commandTimeout: duration({ min: 50, max: 60_000 }).default(1_500).describe("how long the gate waits on Redis for an ask before failing closed (default 1500 ms)"),
  })
  .default({ url: "", prefix: "clawgate", commandTimeout: 1_500 });

const chatApproversSchema = z
  .strictObject({
    owner: z.boolean().default(true).describe("the OpenClaw owner (senderIsOwner) may decide with /clawgate"),
    senders: z
      .array(z.string().regex(/^[a-z0-9_-]+:\S+$/i, "write a chat approver as \"channel:senderId\" (e.g. \"telegram:42\"): a bare sender id would match that id on every channel"))
      .default([])
      .describe("senders allowed to decide with /clawgate, as \"channel:senderId\" (e.g. \"telegram:42\")"),
  })
  .default({ owner: true, senders: [] });

const approvalsSchema = z
  .strictObject({
    timeout: duration({ min: 1_000, max: 24 * 3_600_000 }).default(120_000).describe("how long an ask waits for a decision before it expires and the call is blocked (default 2m)"),
    retryGrant: duration({ min: 0, max: 24 * 3_600_000 })
      .default(0)
      .describe("default 0 = off. A decision that arrives after the hook stopped waiting lets the identical call (tool, params hash, session) pass once within this window"),
    failOpen: z.boolean().default(false).describe("when Redis is unreachable: false blocks the call (fail closed), true lets it run"),
    maxParamsBytes: z.number().int().min(1_024).max(10_000_000).default(256_000).describe("params larger than this are stored truncated; the hash covers the full params"),
    keepFor: duration({ min: 60_000 }).default(30 * 86_400_000).describe("how long decided approval records are kept in Redis (default 30d)"),
    chatApprovers: chatApproversSchema,
    allowSelfApproval: z
      .boolean()
      .default(false)
      .describe("let a person approve a request they made themselves (the requester is matched to `people` by channel identity); off by default"),
    maxPendingPerSession: z.number().int().min(0).default(20).describe("pending approvals one agent session may hold; more asks are denied at once saying so (0 = no cap)"),
    maxPendingPerAgent: z.number().int().min(0).default(200).describe("pending approvals one agent may hold across its sessions (0 = no cap)"),
    eventRetention: z
      .number()
      .int()
      .min(1_000)
      .default(100_000)
      .describe("cap on the {prefix}:events stream, approximate: serve drops events once handled, so this bounds a backlog (older ones are trimmed, handled or not)"),
  })
  .default({
    timeout: 120_000,
    retryGrant: 0,
    failOpen: false,
    maxParamsBytes: 256_000,
    keepFor: 30 * 86_400_000,
    chatApprovers: { owner: true, senders: [] },
    allowSelfApproval: false,
    maxPendingPerSession: 20,
    maxPendingPerAgent: 200,
    eventRetention: 100_000,
  });

const serverSchema = z
  .strictObject({
    port: z.number().int().min(0).max(65_535).default(8787).describe("HTTP port of `clawgate serve` (0 = any free port)"),
    host: z.string().default("127.0.0.1").describe("bind address; 0.0.0.0 to accept outside connections"),
    publicUrl: z.string().optional().describe("the URL Slack/Discord/email links point at"),
    // "" (e.g. "${CLAWGATE_API_TOKEN:-}" with the variable unset) means no token, not a short one.
    apiToken: z
      .preprocess((v) => (v === "" ? undefined : v), z.string().min(16, "use at least 16 characters, e.g. `openssl rand -base64 32`").optional())
      .describe("admin bearer token for /api/v1 (decides as api:admin); prefer per-person tokens from `clawgate token create`; empty = none"),
    metricsToken: z
      .preprocess((v) => (v === "" ? undefined : v), z.string().min(16, "use at least 16 characters").optional())
      .describe("when set, GET /metrics needs `Authorization: Bearer <metricsToken>`; empty = none"),
    maxBodyBytes: z.number().int().min(1_024).max(10_000_000).default(1_000_000).describe("larger request bodies are refused with 413"),
    requestTimeout: duration({ min: 100, max: 600_000 }).default(30_000).describe("a client must send its whole request (headers and body) within this time, else 408 and the connection is closed (default 30s)"),
    headersTimeout: duration({ min: 100, max: 600_000 }).default(10_000).describe("a client must send its request headers within this time (slow-loris guard; default 10s, at most requestTimeout)"),
    keepAliveTimeout: duration({ min: 100, max: 600_000 }).default(5_000).describe("idle keep-alive connections are closed after this time (default 5s)"),
  })
  .refine((s) => s.headersTimeout <= s.requestTimeout, { message: "must not exceed server.requestTimeout", path: ["headersTimeout"] })
  .default({ port: 8787, host: "127.0.0.1", maxBodyBytes: 1_000_000, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 });

const auditSchema = z
  .strictObject({
    hmacKey: z.string().optional().describe("key for an HMAC-SHA1 chain, so Redis write access alone cannot rewrite history; used only inside clawgate, never sent to Redis"),
    anchorInterval: duration({ min: 1_000, max: 24 * 3_600_000 })
      .default(60_000)
      .describe("how often `clawgate serve` publishes an audit anchor (the newest entry's seq and hash) to its log, metrics and `audit.anchorFile` (default 1m)"),
    anchorFile: z.string().min(1).optional().describe("file `clawgate serve` appends anchors to, one `<time> <seq>:<hash>` line per new head; check with `clawgate audit verify --anchor FILE`"),
    dedupeWindow: duration({ min: 60_000 })
      .default(7 * 86_400_000)
      .describe("how long an audit dedupe key (e.g. a redelivered event's id) is remembered, so the same event is audited once (default 7d)"),
  })
  .default({ anchorInterval: 60_000, dedupeWindow: 7 * 86_400_000 });

export const configSchema = z
  .strictObject({
  redis: redisSchema,
  policy: policySchema,
  approvals: approvalsSchema,
  people: z.record(z.string(), personSchema).default({}).describe(`person id → contact ids (${personChannels().join(", ")}) used by on-call and escalation`),
  oncall: oncallSchema,
  escalation: escalationSchema,
  // One block per channel spec, under its name.
  ...channelConfigShape(CHANNEL_SPECS),
  server: serverSchema,
  audit: auditSchema,
  keys: keysSchema,
  })
  .superRefine((c, ctx) => {
    // Config honesty: accept nothing that no code implements.
    c.escalation.tiers.forEach((tier, i) =>
      tier.notify.forEach((raw, j) => {
        const t = parseTarget(raw, c);
        if (typeof t === "string") ctx.addIssue({ code: "custom", path: ["escalation", "tiers", i, "notify", j], message: t });
      }),
    );
    for (const issue of validateOncall(c)) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
  });

export type ClawgateConfig = z.infer<typeof configSchema>;
