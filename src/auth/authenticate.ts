import type { IncomingMessage } from "node:http";
import { ClawgateError, RedisUnavailableError, UnauthorizedError } from "../errors.ts";
import { bearerOf, sameSecret } from "./secret.ts";
import type { TokenKind, TokenStore } from "./tokens.ts";

/** Who is calling the HTTP API, as proven by their bearer token. */
export interface Identity {
  kind: TokenKind;
  /** person id, agent id, `admin` (server.apiToken) or `admin:<token name>`. */
  subject: string;
  /** the token's name; `server.apiToken` for the config admin token. */
  name: string;
}

export type Authenticator = (req: IncomingMessage) => Promise<Identity>;

const CONFIG_ADMIN: Identity = Object.freeze({ kind: "admin", subject: "admin", name: "server.apiToken" });

/**
 * The actor recorded for an identity: `api:<person>`, `api:admin`, `api:admin:<name>`,
 * `api:agent:<agent>`. Subjects cannot contain ":" (see TOKEN_SUBJECT), so these never collide.
 */
export function actorOf(id: Identity): string {
  return id.kind === "agent" ? `api:agent:${id.subject}` : `api:${id.subject}`;
}

/**
 * Bearer-token authentication for every /api route: the config admin token (compared by
 * hashing both sides, so neither its content nor its length leaks), else a token from the
 * store (looked up by the presented secret's SHA-256). Throws 401 otherwise.
 */
export function createAuthenticator(deps: { tokens: TokenStore; adminToken?: string | undefined }): Authenticator {
  return async (req) => {
    const secret = bearerOf(req);
    if (!secret) throw new UnauthorizedError("missing bearer token: send `Authorization: Bearer <token>` (create one with `clawgate token create`)");
    if (deps.adminToken && sameSecret(secret, deps.adminToken)) return CONFIG_ADMIN;
    let token;
    try {
      token = await deps.tokens.lookup(secret);
    } catch (err) {
      if (err instanceof ClawgateError) throw err;
      throw new RedisUnavailableError(`cannot check the API token: ${(err as Error).message}`, err);
    }
    if (!token) throw new UnauthorizedError("invalid or revoked bearer token");
    return { kind: token.kind, subject: token.subject, name: token.name };
  };
}

/**
 * For routes guarded by one configured secret (e.g. /metrics with server.metricsToken):
 * no-op when `expected` is unset, else 401 unless the bearer matches in constant time.
 */
export function requireStaticToken(req: IncomingMessage, expected: string | undefined, setting: string): void {
  if (!expected) return;
  const secret = bearerOf(req);
  if (!secret || !sameSecret(secret, expected)) throw new UnauthorizedError(`this route needs \`Authorization: Bearer <${setting}>\``);
}
