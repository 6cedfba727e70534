import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigInvalidError, ConfigNotFoundError } from "../errors.ts";
import { interpolateEnv } from "./interpolate.ts";
import { configSchema, type ClawgateConfig } from "./schema.ts";

export interface LoadOptions {
  /** --config FILE */
  path?: string | undefined;
  env?: Record<string, string | undefined>;
  /** Inline overrides (e.g. the plugin's OpenClaw config), merged over the file. */
  overrides?: Record<string, unknown> | undefined;
  cwd?: string;
  /** When no file is found anywhere, start from defaults instead of failing. */
  allowMissing?: boolean;
  /**
   * What reads the config: `full` (serve, doctor) validates everything; `gate` (the plugin)
   * and `cli` ignore the blocks they never use, so a gateway needs no channel secrets in its
   * environment and a malformed channel block cannot take the gate down.
   */
  scope?: ConfigScope;
}

type ConfigScope = "full" | "gate" | "cli";

/** Top-level keys each scope reads; the others are dropped before validation. */
const SCOPE_KEYS: Record<Exclude<ConfigScope, "full">, Record<string, true | readonly string[]>> = {
  // The gate still needs where serve listens (self-protection denies calls to its routes),
  // but none of serve's secrets.
  gate: { redis: true, policy: true, approvals: true, keys: true, server: ["host", "port", "publicUrl"] },
  cli: { redis: true, policy: true, approvals: true, people: true, oncall: true, audit: true, server: true, keys: true },
};

/** Every top-level key the one schema knows (and `routes`, lifted into escalation). */
const ROOT_KEYS: ReadonlySet<string> = new Set([...Object.keys(configSchema.shape), "routes"]);

/**
 * A scope reads only some blocks, but a misspelt top-level key is an error for every reader:
 * a gate that silently dropped `polcy:` would run with an empty policy.
 */
function checkRootKeys(raw: Record<string, unknown>, origin: string): void {
  const unknown = Object.keys(raw).filter((k) => !ROOT_KEYS.has(k));
  if (unknown.length === 0) return;
  throw new ConfigInvalidError(
    `invalid config in ${origin}:\n  - (root): unknown key(s) ${unknown.map((k) => `"${k}"`).join(", ")}: check the spelling against the README's config reference (known: ${[...ROOT_KEYS].join(", ")})`,
  );
}

function pick(raw: Record<string, unknown>, keep: Record<string, true | readonly string[]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const rule = keep[k];
    if (rule === true) out[k] = v;
    else if (rule && v && typeof v === "object" && !Array.isArray(v)) out[k] = Object.fromEntries(Object.entries(v).filter(([sub]) => rule.includes(sub)));
  }
  return out;
}

export interface LoadedConfig {
  config: ClawgateConfig;
  /** The file the config came from, or null when only defaults/overrides were used. */
  source: string | null;
}

const sources = new WeakMap<ClawgateConfig, string | null>();

/**
 * The file a config object came from (as loadConfig found it), for code that is handed only
 * the config, e.g. self-protection guarding that file. Undefined for configs not built by loadConfig.
 */
export function configSourceOf(config: ClawgateConfig): string | null | undefined {
  return sources.get(config);
}

/** Defaults, then file, then env, then overrides — the one place config is built. */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const source = findConfigFile(opts.path, env, cwd, opts.allowMissing ?? false);
  const raw = source ? readConfigFile(source) : {};
  let merged = opts.overrides ? deepMerge(raw, opts.overrides) : raw;
  const scope = opts.scope ?? "full";
  if (scope !== "full" && merged && typeof merged === "object" && !Array.isArray(merged)) {
    checkRootKeys(merged as Record<string, unknown>, source ?? "inline config");
    merged = pick(merged as Record<string, unknown>, SCOPE_KEYS[scope]);
  }
  const config = buildConfig(merged, env, source ?? "inline config");
  sources.set(config, source);
  return { config, source };
}

/** Validate an already-parsed object (interpolation and REDIS_URL included). */
export function buildConfig(input: unknown, env: Record<string, string | undefined>, origin = "config"): ClawgateConfig {
  const { value, missing } = interpolateEnv(input ?? {}, env);
  if (env.REDIS_URL) {
    const obj = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
    const redis = (obj.redis && typeof obj.redis === "object" ? obj.redis : {}) as Record<string, unknown>;
    obj.redis = { ...redis, url: env.REDIS_URL };
  }
  liftRoutes(value);
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) throw new ConfigInvalidError(formatIssues(parsed.error, missing, origin), { issues: parsed.error.issues });
  return parsed.data;
}

/**
 * DESIGN.md names `routes` among the config keys; they live with the chains they pick, so a
 * top-level `routes:` is read as `escalation.routes` (both at once is an error saying so).
 */
function liftRoutes(value: unknown): void {
  if (!value || typeof value !== "object" || !("routes" in value)) return;
  const obj = value as Record<string, unknown>;
  const escalation = (obj.escalation && typeof obj.escalation === "object" ? obj.escalation : {}) as Record<string, unknown>;
  if (escalation.routes !== undefined) throw new ConfigInvalidError("invalid config: routes: set routes either at the top level or as escalation.routes, not both");
  obj.escalation = { ...escalation, routes: obj.routes };
  delete obj.routes;
}

function findConfigFile(explicit: string | undefined, env: Record<string, string | undefined>, cwd: string, allowMissing: boolean): string | null {
  const chosen = explicit ?? env.CLAWGATE_CONFIG;
  if (chosen) {
    const p = resolve(cwd, chosen);
    if (!existsSync(p)) throw new ConfigNotFoundError(p);
    return p;
  }
  for (const name of ["clawgate.yaml", "clawgate.yml", "clawgate.json"]) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  if (allowMissing) return null;
  throw new ConfigNotFoundError(resolve(cwd, "clawgate.yaml"));
}

function readConfigFile(path: string): unknown {
  const text = readFileSync(path, "utf8");
  try {
    // YAML is a superset of JSON, so one parser serves both.
    return parseYaml(text, { prettyErrors: true }) ?? {};
  } catch (err) {
    throw new ConfigInvalidError(`${path}: not valid YAML/JSON: ${(err as Error).message}`);
  }
}

function formatIssues(error: z.ZodError, missing: Map<string, string[]>, origin: string): string {
  const lines = error.issues.map((issue) => {
    const key = issue.path.map(String).join(".") || "(root)";
    // policy.ask[0], not policy.ask.0: the way people write the path to a list item.
    const shown = issue.path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("") || "(root)";
    let msg = issue.message;
    if (issue.code === "unrecognized_keys") msg = `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}: check the spelling against the README's config reference`;
    const vars = missing.get(key);
    const hint = vars ? ` (environment variable ${vars.join(", ")} is not set)` : "";
    return `  - ${shown}: ${msg}${hint}`;
  });
  return `invalid config in ${origin}:\n${lines.join("\n")}`;
}

function deepMerge(base: unknown, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = base && typeof base === "object" && !Array.isArray(base) ? { ...(base as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(over)) {
    const cur = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" && !Array.isArray(cur)
        ? deepMerge(cur, v as Record<string, unknown>)
        : v;
  }
  return out;
}
