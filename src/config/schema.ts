import { z } from "zod";
import { policySchema } from "../policy/schema.ts";
import { parseTarget } from "../lifecycle/targets.ts";
import { duration } from "../text/duration.ts";
import { chainSchema, routeSchema } from "../oncall/chain-schema.ts";
import { oncallSchema, outOfOfficeSchema, PREFERRED_CHANNELS } from "../oncall/schema.ts";
import { validateOncall } from "../oncall/validate.ts";

/**
 * The one clawgate config schema. The plugin's `openclaw.plugin.json` configSchema and the
 * README's config reference are generated from it (`npm run gen:schema`).
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

const personSchema = z.strictObject({
  name: z.string().optional(),
  email: z.string().optional(),
  slack: z.string().optional().describe("Slack user id, e.g. U0ALICE"),
  discord: z.string().optional().describe("Discord user id"),
  timezone: z.string().optional().describe("IANA time zone; out-of-office times without an offset are read in it (default UTC)"),
  prefer: z
    .array(z.enum(PREFERRED_CHANNELS))
    .default([...PREFERRED_CHANNELS])
    .describe("channels to reach this person on, first configured one wins (a direct message)"),
  outOfOffice: z.array(outOfOfficeSchema).default([]).describe("periods someone else is on call in their place"),
  ids: z
    .array(z.string().regex(/^[a-z][a-z0-9_-]*:.+$/, "use \"channel:id\", e.g. \"telegram:42\" or \"cli:alice\""))
    .default([])
    .describe("other identities of this person as \"channel:id\" (OpenClaw chat senders, CLI users), used to spot self-approval and in the audit log"),
});

const escalationTierSchema = z.strictObject({
  after: duration({ min: 1_000 }).describe("time since the request (or the previous tier) before this tier is notified"),
  notify: z
    .array(z.string().min(1))
    .min(1)
    .describe("targets: a channel name (`log`, `slack`, `discord`: its configured channel), `slack:<channel or user id>`, `discord:<channel or user id>`, or a person id from `people` (a direct message on their channel)"),
});

const escalationSchema = z
  .strictObject({
    tiers: z.array(escalationTierSchema).default([]).describe("legacy default chain: after the request goes to every enabled channel, notify these targets, each `after` the previous tier (use `chains` instead)"),
    chains: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), chainSchema).default({}).describe("chain name → tiers; `default` is used when no route matches"),
    routes: z.array(routeSchema).default([]).describe("first match picks the chain and approvers by tool, risk and agent"),
  })
  .default({ tiers: [], chains: {}, routes: [] });

const pagerdutySchema = z
  .strictObject({
    routingKey: z.string().min(1).optional().describe("Events API v2 integration (routing) key used by the `pagerduty` target"),
    apiUrl: z.string().default("https://events.pagerduty.com").describe("Events API base override (tests, proxies)"),
  })
  .optional();

const logChannelSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("print every request and outcome from `clawgate serve` (the reference channel)"),
  })
  .default({ enabled: true });

const slackSchema = z
  .strictObject({
    botToken: z.string().min(1, "set the Slack bot token (xoxb-…), e.g. \"${SLACK_BOT_TOKEN}\""),
    signingSecret: z.string().min(1, "set the Slack signing secret, e.g. \"${SLACK_SIGNING_SECRET}\""),
    appToken: z.string().optional().describe("xapp-… token: use Socket Mode instead of HTTP"),
    channel: z.string().min(1).describe("channel id for approval requests"),
    approvers: z
      .strictObject({ users: z.array(z.string()).default([]), userGroups: z.array(z.string()).default([]) })
      .default({ users: [], userGroups: [] }),
    apiUrl: z.string().optional().describe("Slack Web API base override (tests, proxies)"),
  })
  .optional();

const snowflake = (what: string) => z.string().regex(/^\d{15,22}$/, `use the numeric Discord ${what} id (Developer Mode → Copy ID)`);

const discordSchema = z
  .strictObject({
    botToken: z.string().min(1, "set the Discord bot token, e.g. \"${DISCORD_BOT_TOKEN}\""),
    applicationId: snowflake("application").describe("application id (General Information → Application ID)"),
    publicKey: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "set the application's public key (64 hex characters, General Information → Public Key), e.g. \"${DISCORD_PUBLIC_KEY}\"")
      .describe("application public key (hex) that verifies the Ed25519 signature of HTTP interactions"),
    guildId: snowflake("server (guild)").describe("server whose /clawgate command is registered when `serve` starts"),
    channel: snowflake("channel").describe("channel id for approval requests"),
    approvers: z
      .strictObject({
        users: z.array(snowflake("user")).default([]).describe("user ids who may decide"),
        roles: z.array(snowflake("role")).default([]).describe("role ids whose members may decide"),
      })
      .default({ users: [], roles: [] }),
    interactions: z
      .enum(["gateway", "http"])
      .default("gateway")
      .describe("`gateway`: clicks and commands arrive over the bot's Gateway connection (no public URL; one replica holds it); `http`: Discord posts them to POST /discord/interactions"),
    apiUrl: z.string().optional().describe("Discord REST base override, e.g. http://127.0.0.1:PORT/api (tests, proxies); the Gateway URL comes from its GET /gateway/bot"),
  })
  .optional();

const port = z.number().int().min(1).max(65_535);

const emailSchema = z
  .strictObject({
    from: z.string().min(1).describe("sender of approval mails, e.g. \"clawgate <approvals@example.com>\"; its local part is used for reply addresses"),
    replyDomain: z.string().min(1).describe("domain of the reply addresses <local>+<token>@<replyDomain> (its MX must reach one of email.inbound)"),
    tokenSecret: z
      .string()
      .min(16, "use at least 16 characters, e.g. `openssl rand -base64 32`")
      .optional()
      .describe("key that signs reply-address tokens; unset = a random key generated once and kept in Redis (shared by every serve replica)"),
    approvers: z.array(z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, "write an approver as a bare address, e.g. alice@example.com")).default([]).describe("addresses that may decide by reply; an ask emails each of them"),
    smtp: z.strictObject({
      host: z.string().min(1),
      port,
      secure: z.boolean().default(false).describe("TLS from the start (port 465); false = STARTTLS when offered"),
      user: z.string().optional(),
      pass: z.string().optional(),
    }).describe("outbound SMTP server (pooled connections)"),
    inbound: z
      .strictObject({
        imap: z
          .strictObject({
            host: z.string().min(1),
            port,
            secure: z.boolean().default(false),
            user: z.string().min(1),
            pass: z.string().min(1),
            mailbox: z.string().min(1).default("INBOX"),
          })
          .optional()
          .describe("watch this mailbox for replies (IDLE; one serve replica at a time)"),
        smtp: z
          .strictObject({ host: z.string().default("0.0.0.0"), port: z.number().int().min(0).max(65_535) })
          .optional()
          .describe("built-in SMTP listener for the reply domain's MX"),
        webhook: z
          .strictObject({ secret: z.string().min(16, "use at least 16 characters") })
          .optional()
          .describe("POST /email/inbound takes raw MIME from a provider's inbound webhook"),
        requireAuth: z
          .boolean()
          .default(true)
          .describe("replies must pass DMARC (aligned DKIM, or SPF at the SMTP listener) on every inbound path, the webhook included; set false only where the path itself proves the sender"),
      })
      .default({ requireAuth: true })
      .describe("where replies come in (any of imap, smtp, webhook)"),
  })
  .optional();

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

const trustedKeySchema = z.union([
  z.string(),
  z.strictObject({
    key: z.string().describe('"ed25519:<base64url>", as `clawgate keys create` prints'),
    use: z.enum(["decision", "chat"]).default("decision").describe("decision: serve's key (any channel, rules, tokens); chat: a gateway's key, honoured only for /clawgate decisions made in OpenClaw chat"),
    until: z.string().optional().describe("ISO time after which this key's signatures are no longer honoured (the end of a rotation's overlap)"),
  }),
]);

const keysSchema = z
  .strictObject({
    dir: z.string().default("").describe("folder of the key files `clawgate keys create|rotate` write; empty = data/keys next to the config file"),
    signing: z
      .string()
      .optional()
      .describe("serve only: its Ed25519 decision key, a PEM file path or the PEM text (e.g. \"${CLAWGATE_DECISION_KEY}\"); unset = the newest active decision key in keys.dir"),
    gateway: z
      .string()
      .optional()
      .describe("a gateway only: its Ed25519 key for /clawgate decisions made in OpenClaw chat, a PEM file path or the PEM text; unset = the newest chat key in keys.dir"),
    trusted: z
      .array(trustedKeySchema)
      .default([])
      .describe("public keys whose signatures may release a call or loosen the gate (\"ed25519:…\" or { key, use, until }); empty = the *.pub files in keys.dir"),
  })
  .default({ dir: "", trusted: [] });

export const configSchema = z
  .strictObject({
  redis: redisSchema,
  policy: policySchema,
  approvals: approvalsSchema,
  people: z.record(z.string(), personSchema).default({}).describe("person id → contact ids (slack, discord, email) used by on-call and escalation"),
  oncall: oncallSchema,
  escalation: escalationSchema,
  log: logChannelSchema,
  slack: slackSchema,
  pagerduty: pagerdutySchema,
  discord: discordSchema,
  email: emailSchema,
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
export type ClawgateConfigInput = z.input<typeof configSchema>;
