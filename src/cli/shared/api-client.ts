import { readFileSync } from "node:fs";
import { join } from "node:path";
import { embeddedDataDir } from "../../redis/data-dir.ts";
import type { ClawgateConfig } from "../../config/schema.ts";
import { ClawgateError, CredentialMissingError, isErrorCode, ServeUnavailableError } from "../../errors.ts";
import { normaliseUrl, readCredentials } from "./credentials.ts";

/** `npm start`'s admin token for the OS user who started it (src/server/local-token.ts). */
function localAdminTokenFile(configSource: string | null, cwd = process.cwd()): string {
  return join(embeddedDataDir({ configSource, cwd }), "admin.token");
}

function readLock(configSource: string | null): string | null {
  try {
    const lock = JSON.parse(readFileSync(join(embeddedDataDir({ configSource, cwd: process.cwd() }), "serve.lock"), "utf8")) as { httpUrl?: unknown };
    return typeof lock.httpUrl === "string" ? lock.httpUrl : null;
  } catch {
    return null;
  }
}

/**
 * Where `serve` is: `CLAWGATE_URL`, the URL `clawgate login` saved, the `npm start` running for
 * this config, `server.publicUrl`, else `server.host:server.port`.
 */
export function serveUrl(config: ClawgateConfig, configSource: string | null, env: NodeJS.ProcessEnv = process.env): { url: string; from: string } {
  if (env.CLAWGATE_URL?.trim()) return { url: normaliseUrl(env.CLAWGATE_URL), from: "CLAWGATE_URL" };
  const saved = readCredentials(env).default;
  if (saved) return { url: saved, from: "clawgate login" };
  const local = readLock(configSource);
  if (local) return { url: normaliseUrl(local), from: "the npm start running for this config" };
  if (config.server.publicUrl) return { url: normaliseUrl(config.server.publicUrl), from: "server.publicUrl" };
  const host = config.server.host === "0.0.0.0" || config.server.host === "::" ? "127.0.0.1" : config.server.host;
  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${config.server.port}`, from: "server.host and server.port" };
}

/**
 * The credential a deciding command acts with: `--token`, `CLAWGATE_TOKEN`, the token
 * `clawgate login` saved for this URL, or `npm start`'s local admin token. Null when none.
 */
function credentialFor(url: string, opts: { token?: string | undefined; configSource: string | null }, env: NodeJS.ProcessEnv = process.env): { token: string; from: string } | null {
  if (opts.token?.trim()) return { token: opts.token.trim(), from: "--token" };
  if (env.CLAWGATE_TOKEN?.trim()) return { token: env.CLAWGATE_TOKEN.trim(), from: "CLAWGATE_TOKEN" };
  const saved = readCredentials(env).servers[normaliseUrl(url)];
  if (saved?.token) return { token: saved.token, from: "clawgate login" };
  try {
    const local = readFileSync(localAdminTokenFile(opts.configSource), "utf8").trim();
    if (local) return { token: local, from: "npm start's local admin token" };
  } catch {
    // none
  }
  return null;
}

const NO_CREDENTIAL =
  "deciding and changing rules act through clawgate serve as the person of a token, and no token was found: run `clawgate login URL`, or set CLAWGATE_TOKEN / pass --token (an admin creates one with `clawgate token create NAME --person ID`)";

/** A client for serve's API as one credential. Errors keep serve's error codes, so exit codes match. */
export class ServeClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const why = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ServeUnavailableError(`cannot reach clawgate serve at ${this.url} (${why}): is it running? (set CLAWGATE_URL, or run \`clawgate login URL\`)`, err);
    }
    const text = await res.text();
    let json: { ok?: boolean; error?: { code?: string; message?: string } } & Record<string, unknown>;
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw new ServeUnavailableError(`${this.url}${path} answered ${res.status} with something that is not clawgate's API (is CLAWGATE_URL right?)`);
    }
    if (!res.ok || json.ok === false) {
      const code = json.error?.code ?? "";
      throw new ClawgateError(isErrorCode(code) ? code : "internal", json.error?.message ?? `serve answered ${res.status}`);
    }
    return json as T;
  }
}

export function clientFor(config: ClawgateConfig, configSource: string | null, token: string | undefined, env: NodeJS.ProcessEnv = process.env): ServeClient {
  const { url } = serveUrl(config, configSource, env);
  const cred = credentialFor(url, { token, configSource }, env);
  if (!cred) throw new CredentialMissingError(NO_CREDENTIAL);
  return new ServeClient(url, cred.token);
}
