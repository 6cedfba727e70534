import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { embeddedDataDir } from "../redis/data-dir.ts";
import { ConfigInvalidError } from "../errors.ts";
import type { KeysConfig } from "./schema.ts";
import { generateKey, KEY_USES, parsePrivateKey, parsePublicKey, publicKeyInfo, type KeyUse } from "./keys.ts";
import { KeySigner, type KeyLookup, type Signer, type TrustedKey } from "./signature.ts";

/**
 * Where keys come from. The private decision key is serve's alone and never enters Redis;
 * every gate honours signatures only from the public keys in its own config (or, when the
 * config lists none, the `.pub` files of its keys folder — the local setup `npm start` makes).
 */
export interface KeyContext {
  /** The config file the config was read from (relative key paths resolve against its folder). */
  configSource: string | null;
  cwd?: string;
}

/** `keys.dir`, else `data/keys` next to the config file (the folder `npm start` keeps its data in). */
export function keysDir(config: { keys: KeysConfig }, ctx: KeyContext): string {
  const base = ctx.configSource ? dirname(resolve(ctx.cwd ?? process.cwd(), ctx.configSource)) : (ctx.cwd ?? process.cwd());
  return config.keys.dir ? resolve(base, config.keys.dir) : join(embeddedDataDir(ctx), "keys");
}

/** What a `<use>-<id>.pub` file holds, next to its `<use>-<id>.key`. */
interface KeyFileMeta {
  key: string;
  use: KeyUse;
  created: string;
  /** Serve starts signing with it at this time (a rotation that gives gates time to learn it). */
  notBefore?: string;
  /** Its signatures are honoured until then (a rotation's overlap). */
  until?: string;
}

export interface KeyFile {
  id: string;
  meta: KeyFileMeta;
  pubPath: string;
  keyPath: string;
  hasPrivate: boolean;
}

const FILE = /^(decision|chat)-([0-9a-f]{12})\.pub$/;

function time(iso: string | undefined, where: string): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new ConfigInvalidError(`${where}: "${iso}" is not an ISO time`);
  return t;
}

/** Every key pair in `dir` (newest first); a malformed file is an error that names it. */
export function listKeyFiles(dir: string): KeyFile[] {
  if (!existsSync(dir)) return [];
  const out: KeyFile[] = [];
  for (const name of readdirSync(dir)) {
    const m = FILE.exec(name);
    if (!m) continue;
    const pubPath = join(dir, name);
    let meta: KeyFileMeta;
    try {
      meta = JSON.parse(readFileSync(pubPath, "utf8")) as KeyFileMeta;
    } catch (err) {
      throw new ConfigInvalidError(`${pubPath}: not a clawgate key file (${(err as Error).message})`);
    }
    const info = parsePublicKey(String(meta.key), pubPath);
    if (info.id !== m[2] || meta.use !== m[1]) throw new ConfigInvalidError(`${pubPath}: its key or use does not match its file name`);
    const keyPath = join(dir, `${m[1]}-${m[2]}.key`);
    out.push({ id: info.id, meta, pubPath, keyPath, hasPrivate: existsSync(keyPath) });
  }
  return out.sort((a, b) => Date.parse(b.meta.created) - Date.parse(a.meta.created) || a.id.localeCompare(b.id));
}

/** The public keys this process honours: `keys.trusted`, or the `.pub` files of the keys folder when it lists none. */
export function trustedKeys(config: { keys: KeysConfig }, ctx: KeyContext): TrustedKey[] {
  if (config.keys.trusted.length > 0) {
    return config.keys.trusted.map((entry, i) => {
      const where = `keys.trusted[${i}]`;
      const e = typeof entry === "string" ? { key: entry, use: "decision" as const } : entry;
      const info = parsePublicKey(e.key, where);
      return { id: info.id, use: e.use, key: info.key, text: info.text, until: time("until" in e ? e.until : undefined, `${where}.until`), origin: where };
    });
  }
  return listKeyFiles(keysDir(config, ctx)).map((f) => {
    const info = parsePublicKey(f.meta.key, f.pubPath);
    return { id: f.id, use: f.meta.use, key: info.key, text: info.text, until: time(f.meta.until, `${f.pubPath} until`), origin: f.pubPath };
  });
}

function readPem(value: string, ctx: KeyContext, where: string): string {
  if (value.includes("-----BEGIN")) return value;
  const base = ctx.configSource ? dirname(resolve(ctx.cwd ?? process.cwd(), ctx.configSource)) : (ctx.cwd ?? process.cwd());
  const path = isAbsolute(value) ? value : resolve(base, value);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigInvalidError(`${where}: cannot read the key file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * The key this process signs with for `use`, or null when it holds none: `keys.signing` /
 * `keys.gateway`, else the newest key of that use in the keys folder that is active now
 * (past its notBefore, not retiring).
 */
export function loadSigner(config: { keys: KeysConfig }, ctx: KeyContext, use: KeyUse, now = Date.now()): Signer | null {
  const explicit = use === "decision" ? config.keys.signing : config.keys.gateway;
  const setting = use === "decision" ? "keys.signing" : "keys.gateway";
  if (explicit) {
    const key = parsePrivateKey(readPem(explicit, ctx, setting), setting);
    return new KeySigner(publicKeyInfo(key).id, use, key);
  }
  // The newest key that is active now; while a rotation waits for its new key's notBefore, the
  // retiring key it replaces goes on signing until then.
  const files = listKeyFiles(keysDir(config, ctx)).filter((f) => f.meta.use === use && f.hasPrivate);
  const active = (f: KeyFile) => (time(f.meta.notBefore, `${f.pubPath} notBefore`) ?? 0) <= now;
  const chosen = files.find((f) => active(f) && !f.meta.until) ?? files.find((f) => active(f) && (time(f.meta.until, `${f.pubPath} until`) ?? 0) > now);
  if (chosen) {
    const key = parsePrivateKey(readFileSync(chosen.keyPath, "utf8"), chosen.keyPath);
    if (publicKeyInfo(key).id !== chosen.id) throw new ConfigInvalidError(`${chosen.keyPath}: the private key does not belong to ${chosen.pubPath}`);
    return new KeySigner(chosen.id, use, key);
  }
  return null;
}

/**
 * A signer that picks its key again every `everyMs`, so a long-running serve moves to the key a
 * `clawgate keys rotate` made (at its notBefore) without a restart.
 */
export class ReloadingSigner implements Signer {
  private current: Signer;
  private at: number;

  constructor(
    private readonly load: () => Signer | null,
    first: Signer,
    private readonly everyMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.current = first;
    this.at = now();
  }

  private get active(): Signer {
    if (this.now() - this.at >= this.everyMs) {
      this.at = this.now();
      try {
        this.current = this.load() ?? this.current;
      } catch {
        // A key file broken mid-run: keep signing with the key in use; the next start reports it.
      }
    }
    return this.current;
  }

  get id(): string {
    return this.active.id;
  }
  get use() {
    return this.current.use;
  }
  get publicKey() {
    return this.active.publicKey;
  }
  sign(payload: Buffer): string {
    return this.active.sign(payload);
  }
}

/** A signer's own public half, so a process always trusts what it signs itself. */
function trustedOf(signer: Signer): TrustedKey {
  const info = publicKeyInfo(signer.publicKey);
  return { id: signer.id, use: signer.use, key: info.key, text: info.text, until: null, origin: "own key" };
}

/**
 * Trusted keys by id. An id it does not know makes it read the keys again (at most once per
 * `reloadEveryMs`), so a gate that reads the keys folder learns a rotated key without a restart.
 */
export class Keyring implements KeyLookup {
  private byId = new Map<string, TrustedKey>();
  private loadedAt = 0;

  constructor(
    private readonly load: () => TrustedKey[],
    private readonly extra: readonly TrustedKey[] = [],
    private readonly reloadEveryMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {
    this.refresh();
  }

  get(id: string): TrustedKey | undefined {
    const hit = this.byId.get(id);
    if (hit || this.now() - this.loadedAt < this.reloadEveryMs) return hit;
    try {
      this.refresh();
    } catch {
      // A key file broken mid-run keeps the keys already known; the next start reports it.
    }
    return this.byId.get(id);
  }

  list(): TrustedKey[] {
    return [...this.byId.values()];
  }

  private refresh(): void {
    const next = new Map<string, TrustedKey>();
    for (const k of [...this.load(), ...this.extra]) next.set(k.id, k);
    this.byId = next;
    this.loadedAt = this.now();
  }
}

/** The keyring of a process: its config's trusted keys, plus its own signer's public half. */
export function keyringFor(config: { keys: KeysConfig }, ctx: KeyContext, own: readonly Signer[] = []): Keyring {
  return new Keyring(() => trustedKeys(config, ctx), own.map(trustedOf));
}

export interface CreatedKey {
  id: string;
  use: KeyUse;
  publicKey: string;
  keyPath: string;
  pubPath: string;
}

/** Writes a new key pair into `dir` (folder 0700, private key 0600). */
export function createKeyFiles(dir: string, use: KeyUse, opts: { now?: number; notBefore?: number } = {}): CreatedKey {
  if (!KEY_USES.includes(use)) throw new ConfigInvalidError(`key use must be one of ${KEY_USES.join(", ")}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privatePem, info } = generateKey();
  const keyPath = join(dir, `${use}-${info.id}.key`);
  const pubPath = join(dir, `${use}-${info.id}.pub`);
  const meta: KeyFileMeta = { key: info.text, use, created: new Date(opts.now ?? Date.now()).toISOString(), ...(opts.notBefore ? { notBefore: new Date(opts.notBefore).toISOString() } : {}) };
  writeFileSync(keyPath, privatePem, { mode: 0o600, flag: "wx" });
  chmodSync(keyPath, 0o600);
  writeFileSync(pubPath, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o644, flag: "wx" });
  return { id: info.id, use, publicKey: info.text, keyPath, pubPath };
}

/**
 * A new key of `use` that serve signs with from `activateAt`; every older key of that use keeps
 * being honoured until `activateAt + overlapMs`, so approvals signed just before still release.
 */
export function rotateKeyFiles(dir: string, use: KeyUse, opts: { now?: number; activateInMs: number; overlapMs: number }): { created: CreatedKey; retired: Array<{ id: string; until: string }> } {
  const now = opts.now ?? Date.now();
  const activateAt = now + opts.activateInMs;
  const older = listKeyFiles(dir).filter((f) => f.meta.use === use && !f.meta.until);
  const created = createKeyFiles(dir, use, { now, ...(opts.activateInMs > 0 ? { notBefore: activateAt } : {}) });
  const until = new Date(activateAt + opts.overlapMs).toISOString();
  for (const f of older) writeFileSync(f.pubPath, `${JSON.stringify({ ...f.meta, until }, null, 2)}\n`);
  return { created, retired: older.map((f) => ({ id: f.id, until })) };
}
