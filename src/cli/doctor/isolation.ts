import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { parse as parseYaml } from "yaml";
import type { ClawgateConfig } from "../../config/schema.ts";
import { keysDir, listKeyFiles, loadSigner, trustedKeys, type KeyContext } from "../../trust/keyring.ts";
import type { Check } from "./check.ts";

/**
 * `clawgate doctor`'s isolation checks: the decision key where it belongs (serve) and nowhere
 * an agent can read it, the gates trusting it, Redis demanding a password, and OpenClaw running
 * the agent's commands somewhere other than the gateway's own host user.
 */
export interface IsolationOptions {
  /** This config is a gateway's: it must hold no decision key. */
  gateway?: boolean;
  /** OpenClaw's config file (default: $OPENCLAW_CONFIG_PATH, else ~/.openclaw/openclaw.json). */
  openclawConfig?: string | undefined;
}

function mode(path: string): number | null {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return null;
  }
}

export function checkKeys(config: ClawgateConfig, ctx: KeyContext, opts: IsolationOptions): Check[] {
  const checks: Check[] = [];
  const dir = keysDir(config, ctx);
  let trusted;
  try {
    trusted = trustedKeys(config, ctx);
  } catch (err) {
    return [{ name: "keys", status: "fail", detail: (err as Error).message, fix: "fix the key entry named above (`clawgate keys list` shows the folder's keys)" }];
  }
  let signer;
  try {
    signer = loadSigner(config, ctx, "decision");
  } catch (err) {
    return [{ name: "decision key", status: "fail", detail: (err as Error).message, fix: "fix or remove that key file; `clawgate keys create` makes a new one" }];
  }
  if (opts.gateway) {
    if (signer) {
      checks.push({
        name: "decision key",
        status: "fail",
        detail: `this gateway's config can load serve's decision key ${signer.id} (${config.keys.signing ? "keys.signing" : `a decision-*.key file in ${dir}`}): whatever runs on this host as this user can sign approvals`,
        fix: "keep the private decision key with serve only (another host or user); give the gateway only the public key in keys.trusted",
      });
    } else checks.push({ name: "decision key", status: "ok", detail: "this gateway holds no decision key (only serve signs approvals)" });
  } else if (signer) {
    const file = config.keys.signing ? null : listKeyFiles(dir).find((f) => f.id === signer.id)?.keyPath;
    const m = file ? mode(file) : null;
    if (m !== null && (m & 0o077) !== 0) {
      checks.push({ name: "decision key", status: "fail", detail: `${file} is readable by others (mode ${m.toString(8)})`, fix: `chmod 600 ${file} (and chmod 700 ${dir})` });
    } else checks.push({ name: "decision key", status: "ok", detail: `serve signs with ${signer.id}${file ? ` (${file}, mode 600)` : " (keys.signing)"}; its private half never goes to Redis` });
  } else {
    checks.push({ name: "decision key", status: "warn", detail: `no decision key in ${dir} or keys.signing`, fix: "serve makes one at first start; or run `clawgate keys create` and put its public key in every gate's keys.trusted" });
  }
  const source = ctx.configSource;
  if (config.keys.signing?.includes("-----BEGIN") && source) {
    const m = mode(source);
    if (m !== null && (m & 0o077) !== 0) checks.push({ name: "decision key", status: "fail", detail: `keys.signing holds the private key itself and ${source} is readable by others (mode ${m.toString(8)})`, fix: `chmod 600 ${source}, or point keys.signing at a 0600 file / an environment variable` });
  }
  if (trusted.length === 0) {
    checks.push({ name: "trusted keys", status: opts.gateway ? "fail" : "warn", detail: "no public keys are trusted: no approval can release a call", fix: "list serve's public key in keys.trusted (`clawgate keys list` on serve's host prints it)" });
  } else {
    const inline = config.keys.trusted.length > 0;
    checks.push({
      name: "trusted keys",
      status: inline ? "ok" : "warn",
      detail: `${trusted.length} trusted: ${trusted.map((k) => `${k.id} (${k.use}${k.until ? `, until ${new Date(k.until).toISOString()}` : ""})`).join(", ")}${inline ? " from keys.trusted" : ` from the .pub files in ${dir}`}`,
      ...(inline ? {} : { fix: "on a production gateway list the public keys in keys.trusted: a keys folder anyone can write to is an authority" }),
    });
    if (signer && !trusted.some((k) => k.id === signer.id)) {
      checks.push({ name: "trusted keys", status: "fail", detail: `serve's decision key ${signer.id} is not among the trusted keys: gates reading this config would never release an approval`, fix: `add its public key to keys.trusted (\`clawgate keys list\`)` });
    }
  }
  return checks;
}

/** Whether Redis answers a client that presents no password (then anyone who reaches it can deny every call and read every approval). */
export async function checkRedisAuth(url: string): Promise<Check> {
  let open: boolean;
  const u = new URL(url);
  u.username = "";
  u.password = "";
  const probe = new Redis(u.toString(), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000, enableOfflineQueue: false });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    open = (await probe.ping()) === "PONG";
  } catch {
    // NOAUTH / WRONGPASS (or unreachable, which the redis check reports): not open.
    open = false;
  } finally {
    probe.disconnect();
  }
  return open
    ? {
        name: "redis auth",
        status: "warn",
        detail: "Redis answers without a password: anything that reaches it (an agent's shell on this host included) can deny or expire every call and read every approval (it cannot approve: decisions are signed)",
        fix: "require a password with an ACL user limited to clawgate's keys (docs/security.md) and put it in redis.url",
      }
    : { name: "redis auth", status: "ok", detail: "Redis refuses clients without a password" };
}

function openclawConfigPath(explicit: string | undefined): string {
  if (explicit) return explicit;
  if (process.env.OPENCLAW_CONFIG_PATH) return process.env.OPENCLAW_CONFIG_PATH;
  return join(process.env.OPENCLAW_STATE_DIR || join(homedir(), ".openclaw"), "openclaw.json");
}

/** Where OpenClaw runs the agent's commands: in a sandbox or on another node is isolated; on the gateway host as its user is not. */
export function checkOpenClawExec(opts: IsolationOptions): Check | null {
  const file = openclawConfigPath(opts.openclawConfig);
  if (!existsSync(file)) return opts.openclawConfig ? { name: "openclaw exec", status: "fail", detail: `${file} does not exist`, fix: "pass the gateway's openclaw.json with --openclaw-config" } : null;
  let cfg: { tools?: { exec?: { host?: string } }; agents?: { defaults?: { sandbox?: { mode?: string } } } };
  try {
    // OpenClaw's config is JSON5; YAML reads the JSON it writes, comments aside.
    cfg = (parseYaml(readFileSync(file, "utf8")) ?? {}) as typeof cfg;
  } catch (err) {
    return { name: "openclaw exec", status: "warn", detail: `${file}: could not read it (${(err as Error).message})` };
  }
  const host = cfg.tools?.exec?.host ?? "auto";
  const sandbox = cfg.agents?.defaults?.sandbox?.mode ?? "off";
  if (host === "node") return { name: "openclaw exec", status: "ok", detail: `${file}: tools.exec.host = node (the agent's commands run on another machine)` };
  if ((host === "sandbox" || host === "auto") && sandbox === "all") return { name: "openclaw exec", status: "ok", detail: `${file}: commands run in OpenClaw's sandbox (agents.defaults.sandbox.mode = all)` };
  return {
    name: "openclaw exec",
    status: "warn",
    detail: `${file}: tools.exec.host = ${host}, agents.defaults.sandbox.mode = ${sandbox}: the agent's commands run on the gateway host as the gateway's user, where only self-protection stands between them and clawgate's files and Redis`,
    fix: 'run them sandboxed (agents.defaults.sandbox.mode: "all") or on another node (tools.exec.host: "node"); see docs/security.md',
  };
}
