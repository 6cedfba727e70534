import type { Redis } from "ioredis";
import { z } from "zod";
import { PolicyRuleNotFoundError } from "../errors.ts";
import { ScriptCode, scriptError } from "../lua/codes.ts";
import { DECISIONS, type Decision } from "../policy/schema.ts";
import type { RuntimeRules } from "../policy/types.ts";
import { rulesPayload } from "../trust/payloads.ts";
import { verifySignature, type KeyLookup, type Signer } from "../trust/signature.ts";
import type { Keys } from "./keys.ts";
import { scripts } from "./scripts.ts";

/**
 * Runtime policy shared by every gateway — `clawgate policy set|unset` overrides and saved
 * allow-always rules — as ONE signed, versioned snapshot (`{p}:rules`). Only serve holds the key
 * that signs it; a gate applies a snapshot only if its signature verifies and its version is not
 * older than one it has seen. So Redis write access alone can delete or replay rules (a gate
 * refuses both) but never add an allow or remove a deny.
 */
export interface RulesSnapshot extends RuntimeRules {
  version: number;
  at: number;
  by: string;
  sig: string;
}

export const EMPTY_RULES: RulesSnapshot = { version: 0, at: 0, by: "", sig: "", overrides: new Map(), alwaysAllow: [] };

const stored = z.strictObject({
  format: z.literal(1),
  v: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER - 1),
  at: z.number().int().min(0),
  by: z.string(),
  overrides: z.array(z.tuple([z.string(), z.enum(DECISIONS)])),
  always: z.array(z.string()),
  sig: z.string(),
});

/** How many earlier snapshots are kept, so serve can rebuild from the newest genuine one after tampering. */
const HISTORY = 20;

/** Compare-and-set of the snapshot text (null = none yet): false when someone else wrote first. */
async function setRules(redis: Redis, k: Keys, expected: string | null, next: string): Promise<boolean> {
  const code = Number(await scripts(redis).setRules.run([k.rules, k.rulesHistory], [expected ?? "", next, k.rulesChannel, HISTORY]));
  if (code === ScriptCode.Done || code === ScriptCode.Conflict) return code === ScriptCode.Done;
  throw scriptError(code, { id: k.rules });
}

export type LoadedRules =
  | { kind: "none" }
  | { kind: "ok"; snapshot: RulesSnapshot; raw: string }
  /** Present but not acceptable: unreadable, or not signed by a trusted decision key. */
  | { kind: "forged"; why: string; version: number | null; raw: string };

function facts(prefix: string, s: Pick<RulesSnapshot, "version" | "at" | "by" | "overrides" | "alwaysAllow">) {
  const overrides = [...s.overrides.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const always = [...s.alwaysAllow].sort();
  return { prefix, version: s.version, at: s.at, by: s.by, overrides, always };
}

/** Parses and verifies snapshot text. */
export function readSnapshot(raw: string, prefix: string, keys: KeyLookup, now = Date.now()): Exclude<LoadedRules, { kind: "none" }> {
  let parsed: z.infer<typeof stored>;
  try {
    const r = stored.safeParse(JSON.parse(raw));
    if (!r.success) {
      const v = (JSON.parse(raw) as { v?: unknown })?.v;
      return { kind: "forged", why: "not a runtime rules snapshot this version reads", version: Number.isSafeInteger(v) ? (v as number) : null, raw };
    }
    parsed = r.data;
  } catch {
    return { kind: "forged", why: "not JSON", version: null, raw };
  }
  const snapshot: RulesSnapshot = { version: parsed.v, at: parsed.at, by: parsed.by, sig: parsed.sig, overrides: new Map(parsed.overrides), alwaysAllow: [...parsed.always].sort() };
  const ok = verifySignature(keys, rulesPayload(facts(prefix, snapshot)), parsed.sig, ["decision"], now);
  if (!ok.ok) return { kind: "forged", why: ok.why, version: parsed.v, raw };
  return { kind: "ok", snapshot, raw };
}

export class RuntimeRulesStore {
  constructor(
    readonly redis: Redis,
    readonly k: Keys,
    readonly prefix: string,
  ) {}

  async read(): Promise<string | null> {
    return this.redis.get(this.k.rules);
  }

  async load(keys: KeyLookup, now = Date.now()): Promise<LoadedRules> {
    const raw = await this.read();
    return raw === null ? { kind: "none" } : readSnapshot(raw, this.prefix, keys, now);
  }

  /**
   * Puts a genuine snapshot back where someone deleted it or replaced it with an older or
   * forged one (compare-and-set on what was read). Only serve can make a snapshot, but anyone
   * who holds a newer genuine one may restore it: it carries serve's signature.
   */
  async restore(expected: string | null, raw: string): Promise<boolean> {
    return setRules(this.redis, this.k, expected, raw);
  }

  /** The newest snapshot in the history that verifies (what serve builds on after tampering). */
  async newestGenuine(keys: KeyLookup, now = Date.now()): Promise<RulesSnapshot | null> {
    for (const raw of await this.redis.lrange(this.k.rulesHistory, 0, HISTORY - 1)) {
      const r = readSnapshot(raw, this.prefix, keys, now);
      if (r.kind === "ok") return r.snapshot;
    }
    return null;
  }
}

export type RulesChange = (rules: { overrides: Map<string, Decision>; alwaysAllow: string[] }) => boolean;

/**
 * Serve's side: every change is read → change → sign → compare-and-set, retried when another
 * replica wrote first. A snapshot that fails verification is never built on: the change starts
 * from the newest genuine snapshot in the history (or empty).
 */
export class RulesWriter {
  constructor(
    private readonly store: RuntimeRulesStore,
    private readonly signer: Signer,
    private readonly keys: KeyLookup,
    /** The newest genuine snapshot this process has seen (its reader's), so a change after the rules were deleted from Redis drops nothing. */
    private readonly known: () => RulesSnapshot | null = () => null,
  ) {}

  /** Applies `change` (which returns false when it changed nothing); returns the new snapshot, or null when unchanged. */
  async update(by: string, change: RulesChange, now = Date.now()): Promise<{ snapshot: RulesSnapshot; rebuiltFrom?: string } | null> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const raw = await this.store.read();
      const loaded: LoadedRules = raw === null ? { kind: "none" } : readSnapshot(raw, this.store.prefix, this.keys, now);
      let base: RulesSnapshot = EMPTY_RULES;
      let rebuiltFrom: string | undefined;
      if (loaded.kind === "ok") base = loaded.snapshot;
      else base = (await this.store.newestGenuine(this.keys, now)) ?? EMPTY_RULES;
      // What this process saw may be newer than anything left in Redis (deleted, rolled back).
      const known = this.known();
      if (known && known.version > base.version) base = known;
      if (loaded.kind === "forged") rebuiltFrom = `the snapshot in Redis failed verification (${loaded.why}); rebuilt from version ${base.version}`;
      else if (loaded.kind === "ok" && base !== loaded.snapshot) rebuiltFrom = `the snapshot in Redis (version ${loaded.snapshot.version}) was older than version ${base.version}; rebuilt from that`;
      else if (loaded.kind === "none" && base.version > 0) rebuiltFrom = `the snapshot was gone from Redis; rebuilt from version ${base.version}`;
      const next = { overrides: new Map(base.overrides), alwaysAllow: [...base.alwaysAllow] };
      if (!change(next) && !rebuiltFrom) return null;
      // Versions are at least the time in ms: after someone deleted or rolled back the snapshot in
      // Redis (which gates refuse), the next genuine change still outranks every version they saw.
      // A forged snapshot's version counts for nothing: no gate ever applied it.
      const version = Math.min(Number.MAX_SAFE_INTEGER - 1, Math.max(base.version + 1, now));
      const unsigned = { version, at: now, by, overrides: next.overrides, alwaysAllow: [...next.alwaysAllow].sort() };
      const f = facts(this.store.prefix, unsigned);
      const sig = this.signer.sign(rulesPayload(f));
      const text = JSON.stringify({ format: 1, v: version, at: now, by, overrides: f.overrides, always: f.always, sig });
      if (await setRules(this.store.redis, this.store.k, raw, text)) return { snapshot: { ...unsigned, sig }, ...(rebuiltFrom ? { rebuiltFrom } : {}) };
    }
    throw new Error("runtime rules kept changing under this update; try again");
  }

  async setOverride(rule: string, decision: Decision, by: string): Promise<RulesSnapshot | null> {
    const out = await this.update(by, (r) => {
      if (r.overrides.get(rule) === decision) return false;
      r.overrides.set(rule, decision);
      return true;
    });
    return out?.snapshot ?? null;
  }

  async addAlwaysAllow(rule: string, by: string): Promise<RulesSnapshot | null> {
    const out = await this.update(by, (r) => {
      if (r.alwaysAllow.includes(rule)) return false;
      r.alwaysAllow.push(rule);
      return true;
    });
    return out?.snapshot ?? null;
  }

  /** Removes an override or a saved allow-always rule; throws when neither exists. */
  async unset(rule: string, by: string): Promise<RulesSnapshot> {
    let found = false;
    const out = await this.update(by, (r) => {
      const i = r.alwaysAllow.indexOf(rule);
      if (i >= 0) r.alwaysAllow.splice(i, 1);
      found = r.overrides.delete(rule) || i >= 0;
      return found;
    });
    if (!found || !out) throw new PolicyRuleNotFoundError(rule);
    return out.snapshot;
  }
}
