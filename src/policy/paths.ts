import { posix } from "node:path";
import { expandHome } from "./matcher.ts";

/** Lexical normalisation so `./a/../.env` and `.env` are judged alike. */
export function normalisePath(raw: string): string {
  const p = posix.normalize(expandHome(raw.trim()));
  const trimmed = p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
  return trimmed.startsWith("./") ? trimmed.slice(2) : trimmed;
}

/**
 * A relative path climbing out (`../../.env`) still names a `.env`: deny and ask rules
 * also see it without the leading `../` segments; allow rules do not.
 */
export function withoutParentSegments(p: string): string | null {
  if (!p.startsWith("../")) return null;
  return p.replace(/^(\.\.\/)+/, "");
}

const PATCH_FILE_LINE = /^\*\*\* (?:Update File|Add File|Delete File|Move to): (.+?)\s*$/gm;

/** Paths named in an apply_patch envelope (`*** Update File: x`, `*** Add File:`, `*** Delete File:`, `*** Move to:`). */
export function patchPaths(patch: string): string[] {
  return [...patch.matchAll(PATCH_FILE_LINE)].map((m) => m[1] ?? "").filter((p) => p.length > 0);
}

/** Patch files that are deleted, for risk classification. */
export function patchDeletes(patch: string): boolean {
  return /^\*\*\* Delete File: /m.test(patch);
}
