import type { Endpoints } from "./endpoints.ts";
import type { LocalHosts } from "./address.ts";
import type { PathGuard, PathUse } from "./paths.ts";

/** Why self-protection stops a call: it is denied, or always asked. */
export interface ProtectHit {
  decision: "deny" | "ask";
  /** What the call would do, e.g. "runs `clawgate approve`, which decides approvals". */
  what: string;
  /** The piece of the call that did it. */
  matched: string;
}

/**
 * What a shell line's judge (shell-check.ts) reads of the Protector (check.ts), which implements
 * it: kept here so that the two modules do not import each other.
 */
export interface Protector {
  readonly paths: PathGuard;
  readonly redis: Endpoints;
  readonly service: Endpoints;
  readonly local: LocalHosts;
  readonly needle: RegExp;
  token(token: string, use: PathUse | null): ProtectHit | null;
  pathToken(token: string, use: PathUse): ProtectHit | null;
}
