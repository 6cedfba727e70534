import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { cliCredentialsFile } from "../../config/cli-credentials.ts";

/** `clawgate login`'s tokens (`cliCredentialsFile`): file mode 0600, one token per serve URL. */
const credentialsFile = (env: NodeJS.ProcessEnv = process.env): string => cliCredentialsFile(env);

interface CredentialsFile {
  /** The URL `login` was last run for: where deciding commands go when nothing else says. */
  default?: string;
  servers: Record<string, { token: string; actor?: string; savedAt: string }>;
}

export function normaliseUrl(url: string): string {
  return url.trim().replace(/\/+$/, "");
}

export function readCredentials(env: NodeJS.ProcessEnv = process.env): CredentialsFile {
  try {
    const v = JSON.parse(readFileSync(credentialsFile(env), "utf8")) as Partial<CredentialsFile>;
    return { ...(typeof v.default === "string" ? { default: v.default } : {}), servers: v.servers && typeof v.servers === "object" ? v.servers : {} };
  } catch {
    return { servers: {} };
  }
}

export function saveCredential(url: string, token: string, actor: string, env: NodeJS.ProcessEnv = process.env): string {
  const file = credentialsFile(env);
  const current = readCredentials(env);
  const u = normaliseUrl(url);
  const next: CredentialsFile = { default: u, servers: { ...current.servers, [u]: { token, actor, savedAt: new Date().toISOString() } } };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  // writeFileSync's mode applies only when it creates the file.
  chmodSync(file, 0o600);
  return file;
}
