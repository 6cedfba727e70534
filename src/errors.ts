/**
 * The one error catalogue. Every failure clawgate reports has a string code and a class;
 * `toHttp`, `toExitCode` and `toChatReply` are the only places errors become answers.
 */
export type ErrorCode =
  | "config_invalid"
  | "config_not_found"
  | "approval_not_found"
  | "approval_already_decided"
  | "approval_expired"
  | "conflict"
  | "approver_not_allowed"
  | "too_many_pending"
  | "signature_invalid"
  | "request_stale"
  | "payload_too_large"
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "token_not_found"
  | "token_exists"
  | "redis_unavailable"
  | "redis_not_configured"
  | "already_running"
  | "port_in_use"
  | "policy_rule_invalid"
  | "policy_rule_not_found"
  | "audit_broken"
  | "key_exists"
  | "no_signing_key"
  | "credential_missing"
  | "serve_unavailable"
  | "internal";

const HTTP_STATUS: Record<ErrorCode, number> = {
  config_invalid: 500,
  config_not_found: 500,
  approval_not_found: 404,
  approval_already_decided: 409,
  approval_expired: 410,
  conflict: 409,
  approver_not_allowed: 403,
  too_many_pending: 429,
  signature_invalid: 401,
  request_stale: 401,
  payload_too_large: 413,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  token_not_found: 404,
  token_exists: 409,
  redis_unavailable: 503,
  redis_not_configured: 503,
  already_running: 409,
  port_in_use: 500,
  policy_rule_invalid: 400,
  policy_rule_not_found: 404,
  audit_broken: 500,
  key_exists: 409,
  no_signing_key: 503,
  credential_missing: 401,
  serve_unavailable: 503,
  internal: 500,
};

/** CLI exit codes: 1 generic, 2 usage/config, 3 not found, 4 conflict, 5 refused (incl. no credential), 6 unavailable (Redis or serve), 7 audit broken. */
const EXIT_CODE: Record<ErrorCode, number> = {
  config_invalid: 2,
  config_not_found: 2,
  approval_not_found: 3,
  approval_already_decided: 4,
  approval_expired: 4,
  conflict: 4,
  approver_not_allowed: 5,
  too_many_pending: 5,
  signature_invalid: 5,
  request_stale: 5,
  payload_too_large: 2,
  bad_request: 2,
  unauthorized: 5,
  forbidden: 5,
  not_found: 3,
  method_not_allowed: 2,
  token_not_found: 3,
  token_exists: 4,
  redis_unavailable: 6,
  redis_not_configured: 6,
  already_running: 4,
  port_in_use: 4,
  policy_rule_invalid: 2,
  policy_rule_not_found: 3,
  audit_broken: 7,
  key_exists: 4,
  no_signing_key: 5,
  credential_missing: 5,
  serve_unavailable: 6,
  internal: 1,
};

export class ClawgateError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ClawgateError";
    this.code = code;
    this.details = details;
  }
}

export class ConfigInvalidError extends ClawgateError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("config_invalid", message, details);
  }
}
export class ConfigNotFoundError extends ClawgateError {
  constructor(path: string) {
    super("config_not_found", `config file not found: ${path} (pass --config FILE, set CLAWGATE_CONFIG, or create ./clawgate.yaml)`, { path });
  }
}
export class ApprovalNotFoundError extends ClawgateError {
  constructor(id: string) {
    super("approval_not_found", `no approval with id "${id}" (run \`clawgate list --state all\` to see known ids)`, { id });
  }
}
export class ApprovalAlreadyDecidedError extends ClawgateError {
  constructor(message: string, details: Record<string, unknown>) {
    super("approval_already_decided", message, details);
  }
}
export class ApprovalExpiredError extends ClawgateError {
  constructor(message: string, details: Record<string, unknown>) {
    super("approval_expired", message, details);
  }
}
/** Someone else changed the stored state first (a lost compare-and-set the caller does not retry itself). */
export class ConflictError extends ClawgateError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("conflict", message, details);
  }
}
export class TooManyPendingError extends ClawgateError {
  constructor(scope: "session" | "agent", who: string, count: number) {
    super(
      "too_many_pending",
      `denied without asking: ${scope} "${who}" already has ${count} approvals waiting (approvals.maxPendingPer${scope === "session" ? "Session" : "Agent"}); decide or let them expire first`,
      { scope, who, count },
    );
  }
}
export class ApproverNotAllowedError extends ClawgateError {
  constructor(who: string, channel: string, why?: string) {
    super("approver_not_allowed", why ? `${who} may not decide this request: ${why}` : `${who} is not an allowed approver for ${channel}`, { who, channel });
  }
}
export class SignatureInvalidError extends ClawgateError {
  constructor(message = "request signature is invalid") {
    super("signature_invalid", message);
  }
}
export class RequestStaleError extends ClawgateError {
  constructor(message = "request timestamp is outside the allowed window") {
    super("request_stale", message);
  }
}
export class PayloadTooLargeError extends ClawgateError {
  constructor(limit: number) {
    super("payload_too_large", `payload exceeds ${limit} bytes`, { limit });
  }
}
export class BadRequestError extends ClawgateError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("bad_request", message, details);
  }
}
export class UnauthorizedError extends ClawgateError {
  constructor(message = "missing or invalid bearer token") {
    super("unauthorized", message);
  }
}
export class ForbiddenError extends ClawgateError {
  constructor(message: string) {
    super("forbidden", message);
  }
}
export class NotFoundError extends ClawgateError {
  constructor(message: string) {
    super("not_found", message);
  }
}
export class MethodNotAllowedError extends ClawgateError {
  constructor(method: string, path: string, allowed: string[]) {
    super("method_not_allowed", `method ${method} not allowed on ${path} (allowed: ${allowed.join(", ")})`, { allowed });
  }
}
export class TokenNotFoundError extends ClawgateError {
  constructor(name: string) {
    super("token_not_found", `no API token named "${name}" (run \`clawgate token list\` to see them)`, { name });
  }
}
export class TokenExistsError extends ClawgateError {
  constructor(name: string) {
    super("token_exists", `an API token named "${name}" already exists (revoke it first or pick another name)`, { name });
  }
}
export class RedisUnavailableError extends ClawgateError {
  constructor(message: string, cause?: unknown) {
    super("redis_unavailable", message, undefined, { cause });
  }
}
export class RedisNotConfiguredError extends ClawgateError {
  constructor(message: string) {
    super("redis_not_configured", message);
  }
}
export class AlreadyRunningError extends ClawgateError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("already_running", message, details);
  }
}
export class PortInUseError extends ClawgateError {
  constructor(host: string, port: number) {
    super("port_in_use", `HTTP port ${port} on ${host} is already in use (another clawgate serve?): pick a free one with --port N or server.port (0 = any free port)`, { host, port });
  }
}
export class PolicyRuleInvalidError extends ClawgateError {
  constructor(rule: string, why: string) {
    super("policy_rule_invalid", `invalid policy rule "${rule}": ${why}`, { rule });
  }
}
export class PolicyRuleNotFoundError extends ClawgateError {
  constructor(rule: string) {
    super("policy_rule_not_found", `no runtime override or allow-always rule "${rule}" is set (run \`clawgate policy list\` to see them)`, { rule });
  }
}
export class AuditBrokenError extends ClawgateError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("audit_broken", message, details);
  }
}

export class NoSigningKeyError extends ClawgateError {
  constructor(message = "this process holds no decision key, so it cannot approve (an approval must be signed by `clawgate serve`): decide through serve — `clawgate approve` with a token, Slack, Discord, email or the REST API") {
    super("no_signing_key", message);
  }
}
export class CredentialMissingError extends ClawgateError {
  constructor(message: string) {
    super("credential_missing", message);
  }
}
export class ServeUnavailableError extends ClawgateError {
  constructor(message: string, cause?: unknown) {
    super("serve_unavailable", message, undefined, { cause });
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(HTTP_STATUS, code);
}

/**
 * ioredis's ways of saying "no answer from Redis": a refused or dropped socket, the offline
 * queue given up on (`maxRetriesPerRequest`), a per-command timeout, or our own waitReady.
 * The gate's `failOpen` lets exactly these through, so the list stays this narrow.
 */
const REDIS_CONNECTION = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection is closed|Stream isn't writeable|max retries|Command timed out|not reachable/i;

/**
 * Replies that mean "this server cannot serve you right now" rather than "your command is wrong":
 * still loading its dataset, a replica after failover, a cluster slot moving, a busy script.
 */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOREPLICAS)\b/;

/** Redis could not be reached (see REDIS_CONNECTION); never one of our own errors. */
export function isRedisConnectionError(err: unknown): boolean {
  if (err instanceof RedisUnavailableError) return true;
  if (err instanceof ClawgateError || err === null || typeof err !== "object") return false;
  return (err as Error).name === "MaxRetriesPerRequestError" || REDIS_CONNECTION.test(String((err as Error).message ?? ""));
}

/** Unreachable, or answering "not now" (LOADING, READONLY, …): worth a retry later, not a bug. */
export function isRedisUnavailable(err: unknown): boolean {
  if (isRedisConnectionError(err)) return true;
  return err instanceof Error && err.name === "ReplyError" && TRANSIENT_REPLY.test(err.message);
}

export function asClawgateError(err: unknown): ClawgateError {
  if (err instanceof ClawgateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // Whatever route or command hit it, an unreachable Redis is the same answer everywhere.
  if (isRedisUnavailable(err)) return new RedisUnavailableError(`Redis unavailable: ${message}`, err);
  return new ClawgateError("internal", message, undefined, { cause: err });
}

/** Seconds a client should wait before retrying, per code (Retry-After); absent = no advice. */
const RETRY_AFTER_S: Partial<Record<ErrorCode, number>> = {
  // ioredis reconnects at least every 2 s: a retry after 5 s usually finds Redis back.
  redis_unavailable: 5,
};

export function toHttp(err: unknown): { status: number; headers: Record<string, string>; body: { ok: false; error: { code: ErrorCode; message: string } } } {
  const e = asClawgateError(err);
  const retry = RETRY_AFTER_S[e.code];
  return { status: HTTP_STATUS[e.code], headers: retry ? { "retry-after": String(retry) } : {}, body: { ok: false, error: { code: e.code, message: e.message } } };
}

export function toExitCode(err: unknown): number {
  return EXIT_CODE[asClawgateError(err).code];
}

export function toChatReply(err: unknown): string {
  const e = asClawgateError(err);
  return e.code === "internal" ? `clawgate error: ${e.message}` : e.message;
}
