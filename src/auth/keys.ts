import { keys } from "../approvals/keys.ts";

/**
 * Redis keys of the API token store, under the same `{prefix}` hash tag as everything else.
 * Secrets are never stored: only their SHA-256.
 */
export function tokenKeys(prefix: string) {
  const p = keys(prefix).tag;
  return {
    /** hash: token name → sha256 hex (names are unique: HSETNX is the gate). */
    names: `${p}:tokens`,
    /** hash: sha256 hex → JSON {name, kind, subject, createdAt}; one HGET authenticates. */
    byHash: `${p}:tokens:byhash`,
    /** hash: sha256 hex → last use (ms); keyed by hash so a revoked name never inherits it. */
    lastUsed: `${p}:tokens:lastused`,
  };
}
