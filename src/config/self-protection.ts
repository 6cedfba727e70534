import { cliCredentialsFile } from "./cli-credentials.ts";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { localIdentity } from "../policy/self-protection/address.ts";
import type { LocalIdentity } from "../policy/self-protection/address.ts";
import type { ProtectedPath, SelfProtectionContext } from "../policy/self-protection/context.ts";
import { parseEndpointUrl } from "../policy/self-protection/endpoints.ts";
import type { Endpoint } from "../policy/self-protection/endpoints.ts";
import { configSourceOf } from "./load.ts";
import type { ClawgateConfig } from "./schema.ts";

export interface SelfProtectionOptions {
  /** The config file the config was loaded from; default: what loadConfig recorded, else the usual search. */
  configPath?: string | null;
  /** Plugin folders to guard besides clawgate's own (the plugin passes OpenClaw's plugins.load.paths). */
  pluginDirs?: readonly string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  home?: string;
  /** clawgate's installation; default: the checkout this module runs from. */
  packageRoot?: string | null;
  /** This machine's names and addresses; default: hostname, interfaces and /etc/hosts. */
  local?: LocalIdentity;
}

const hints = new WeakMap<ClawgateConfig, SelfProtectionOptions>();

/**
 * Tells selfProtectionContext(config) what only the caller knows (the plugin: OpenClaw's
 * plugin folders), for code that is handed just the config, such as the gate.
 */
export function setSelfProtectionHints(config: ClawgateConfig, opts: SelfProtectionOptions): void {
  hints.set(config, { ...hints.get(config), ...opts });
}

/** Files Redis and `npm start` keep in clawgate's data directory. */
const DATA_FILES: readonly [string, boolean][] = [
  ["redis.url", false],
  ["appendonlydir", true],
  ["appendonly.aof", false],
  ["dump.rdb", false],
  ["redis.log", false],
];

const CONFIG_NAMES = ["clawgate.yaml", "clawgate.yml", "clawgate.json"];

/** What in OpenClaw's state directory may be neither read nor written. */
const OPENCLAW_STATE: readonly [string, boolean, string][] = [
  ["extensions", true, "OpenClaw's installed plugins"],
  ["hooks", true, "OpenClaw's hooks (code the gateway runs)"],
  ["credentials", true, "OpenClaw's credentials"],
  [".env", false, "OpenClaw's environment file (it can point the gateway at another config)"],
  ["gateway.token", false, "OpenClaw's gateway token (it can change the gateway's config)"],
  ["secrets.json", false, "OpenClaw's secrets"],
];

/** The real path of `p`, or of its longest existing parent with the rest appended. */
function realOf(p: string): string {
  let head = p;
  let tail = "";
  for (let i = 0; i < 64; i++) {
    try {
      return realpathSync.native(head) + tail;
    } catch {
      const up = dirname(head);
      if (up === head) return p;
      tail = `/${head.slice(up.length).replace(/^\//, "")}${tail}`;
      head = up;
    }
  }
  return p;
}

function findConfig(env: Record<string, string | undefined>, cwd: string): string | null {
  if (env.CLAWGATE_CONFIG) return resolve(cwd, env.CLAWGATE_CONFIG);
  for (const name of CONFIG_NAMES) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * The clawgate package this module runs from (OpenClaw may run a copy): the nearest folder
 * above it whose package.json is clawgate's — src/, dist/src/ and the dist/cli bundle alike.
 */
function defaultPackageRoot(): string | null {
  return packageRootAbove(dirname(fileURLToPath(import.meta.url)));
}

/** The nearest folder at or above `start` whose package.json is clawgate's. */
function packageRootAbove(start: string): string | null {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown };
      if (pkg.name === "clawgate") return dir;
    } catch {
      // No package.json here: keep climbing.
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** Config values that name files (`…File`, `…Path`, `…Dir`): certificates, keys, anchors. */
function configFiles(node: unknown, base: string, at: string, out: ProtectedPath[], depth = 0): void {
  if (node === null || typeof node !== "object" || depth > 8) return;
  for (const [key, value] of Object.entries(node)) {
    const where = at ? `${at}.${key}` : key;
    if (typeof value === "string" && /(file|path|dir)$/i.test(key) && value.length > 0 && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      out.push({ path: resolve(base, value), dir: /dir$/i.test(key), what: `the file in clawgate's ${where}` });
    } else configFiles(value, base, where, out, depth + 1);
  }
}

function redisEndpoints(config: ClawgateConfig, dataDirs: readonly string[], paths: ProtectedPath[]): Endpoint[] {
  const urls = new Set<string>();
  // The gate connects to 127.0.0.1:6379 when redis.url is empty (and REDIS_URL is unset).
  urls.add(config.redis.url || "redis://127.0.0.1:6379");
  for (const dir of dataDirs) {
    try {
      const embedded = readFileSync(join(dir, "redis.url"), "utf8").trim();
      if (embedded) urls.add(embedded);
    } catch {
      // no embedded Redis started from there
    }
  }
  const out: Endpoint[] = [];
  for (const url of urls) {
    if (url.startsWith("/") || url.startsWith("unix:")) {
      const socket = url.replace(/^unix:(\/\/)?/, "").split("?")[0] as string;
      paths.push({ path: resolve(socket), dir: false, what: "clawgate's Redis socket" });
      continue;
    }
    const e = parseEndpointUrl(url, 6379);
    if (e) out.push(e);
  }
  return out;
}

function serviceEndpoints(config: ClawgateConfig): Endpoint[] {
  const out: Endpoint[] = [{ host: config.server.host, port: config.server.port }];
  if (config.server.publicUrl) {
    const e = parseEndpointUrl(config.server.publicUrl, 0);
    if (e) out.push(e);
  }
  return out;
}

/**
 * What self-protection guards for this config, or null when `policy.selfProtection` is false.
 * Reads the file system a little (embedded Redis URL, package.json), so build it once at start.
 */
export function selfProtectionContext(config: ClawgateConfig, explicit: SelfProtectionOptions = {}): SelfProtectionContext | null {
  if (config.policy.selfProtection === false) return null;
  const opts: SelfProtectionOptions = { ...hints.get(config), ...explicit };
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? homedir();
  const configPath = opts.configPath !== undefined ? opts.configPath : (configSourceOf(config) ?? findConfig(env, cwd));
  const packageRoot = opts.packageRoot !== undefined ? opts.packageRoot : defaultPackageRoot();
  const paths: ProtectedPath[] = [];
  const dataDirs = new Set<string>();

  if (configPath) {
    const abs = resolve(cwd, configPath);
    paths.push({ path: abs, dir: false, what: "clawgate's config file", distinctive: true });
    paths.push({ path: join(dirname(abs), ".env"), dir: false, what: "the secrets file next to clawgate's config", withSuffixes: true });
    dataDirs.add(join(dirname(abs), "data"));
    configFiles(config, dirname(abs), "", paths);
  } else {
    for (const name of CONFIG_NAMES) paths.push({ path: resolve(cwd, name), dir: false, what: "clawgate's config file", distinctive: true });
  }
  dataDirs.add(resolve(cwd, "data"));
  // OpenClaw may run the plugin from a copy, so also the installation each plugin folder belongs
  // to (a checkout's plugin/ loads ../src): its code is what the gateway runs at the next start.
  const roots = new Set<string>();
  if (packageRoot) roots.add(packageRoot);
  if (opts.packageRoot === undefined) {
    for (const dir of opts.pluginDirs ?? []) {
      const root = dir ? packageRootAbove(resolve(cwd, dir)) : null;
      if (root) roots.add(root);
    }
  }
  for (const root of roots) {
    dataDirs.add(join(root, "data"));
    paths.push({ path: root, dir: true, what: "clawgate's installation (its code and plugin)" });
    paths.push({ path: join(root, "plugin"), dir: true, what: "clawgate's plugin folder" });
  }
  for (const dir of dataDirs) {
    for (const [name, isDir] of DATA_FILES) paths.push({ path: join(dir, name), dir: isDir, what: "clawgate's data directory", distinctive: true });
    // The whole directory only where clawgate's data really is: ./data is a common name.
    if (DATA_FILES.some(([name]) => existsSync(join(dir, name)))) paths.push({ path: dir, dir: true, what: "clawgate's data directory" });
  }
  for (const dir of opts.pluginDirs ?? []) {
    if (dir) paths.push({ path: resolve(cwd, dir), dir: true, what: "an OpenClaw plugin folder (code the gateway loads)" });
  }

  const stateDir = env.OPENCLAW_STATE_DIR ? resolve(cwd, env.OPENCLAW_STATE_DIR) : join(home, ".openclaw");
  const openclawConfigs = new Set([join(stateDir, "openclaw.json"), join(home, ".openclaw", "openclaw.json")]);
  if (env.OPENCLAW_CONFIG_PATH) openclawConfigs.add(resolve(cwd, env.OPENCLAW_CONFIG_PATH));
  for (const p of openclawConfigs) paths.push({ path: p, dir: false, what: "OpenClaw's configuration (it enables the clawgate plugin)", distinctive: true, withSuffixes: true });
  for (const dir of new Set([stateDir, join(home, ".openclaw")])) {
    for (const [name, isDir, what] of OPENCLAW_STATE) paths.push({ path: join(dir, name), dir: isDir, what, withSuffixes: !isDir });
    // The rest of the state directory is written by OpenClaw alone (its .env can point it at
    // another config); the agent works in its workspace and sandbox folders.
    paths.push({ path: dir, dir: true, what: "OpenClaw's state directory (config, plugins, hooks, credentials)", writeOnly: true, except: /^(workspace|sandbox)/ });
  }

  // A person's API token saved by `clawgate login` decides as that person.
  const credentials = cliCredentialsFile(env, home);
  for (const p of new Set([credentials, cliCredentialsFile({}, home)])) paths.push({ path: p, dir: false, what: "the clawgate CLI's saved login tokens", withSuffixes: true });

  const seen = new Set<string>();
  const unique = paths.filter((p) => {
    const key = `${p.path}\0${p.dir}`;
    if (!isAbsolute(p.path) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // A protected path under a symlinked folder is also guarded where it really is.
  for (const p of [...unique]) {
    const real = realOf(p.path);
    if (real !== p.path && !seen.has(`${real}\0${p.dir}`)) {
      seen.add(`${real}\0${p.dir}`);
      unique.push({ ...p, path: real });
    }
  }
  return { paths: unique, redis: redisEndpoints(config, [...dataDirs], unique), service: serviceEndpoints(config), home, local: opts.local ?? localIdentity() };
}

/** The line to log at every start when self-protection is off; null when it is on. */
export function selfProtectionWarning(config: ClawgateConfig): string | null {
  if (config.policy.selfProtection !== false) return null;
  return "clawgate: policy.selfProtection is false: an agent may run `clawgate approve`, talk to clawgate's Redis or edit its config unless your own rules stop it. Remove the setting (it defaults to true) unless the agent runs in a sandbox that cannot reach them.";
}
