import type { LocalIdentity } from "./address.ts";
import type { Endpoint } from "./endpoints.ts";

/** A file or directory the agent may neither read nor write. */
export interface ProtectedPath {
  /** Absolute, normalised. */
  path: string;
  dir: boolean;
  /** What it is, for the reason the agent and the approver see ("clawgate's config file"). */
  what: string;
  /**
   * Its name alone is telling (`clawgate.yaml`, `redis.url`): a relative path that ends with it
   * counts even without a parent directory, since the agent's working directory is unknown.
   */
  distinctive?: boolean;
  /** Siblings named `<name>.<anything>` (backups such as openclaw.json.bak) are protected too. */
  withSuffixes?: boolean;
  /** Only writing (creating, moving, extracting, entering) counts; reading is left to the rules. */
  writeOnly?: boolean;
  /** Children of a directory entry that are not protected (OpenClaw's `workspace*` folders). */
  except?: RegExp;
}

/**
 * What the built-in self-protection rules guard, resolved once from the loaded config and
 * where it came from. Plain data: build it with selfProtectionContext() (src/config/self-protection.ts),
 * or by hand in tests.
 */
export interface SelfProtectionContext {
  paths: ProtectedPath[];
  /** The Redis clawgate keeps its state in. */
  redis: Endpoint[];
  /** Where `clawgate serve` answers (server.host:port and publicUrl); port 0 = any port. */
  service: Endpoint[];
  /** What `~` and `$HOME` mean in the agent's paths. */
  home: string;
  /** This machine's names and addresses besides loopback: they reach Redis and the service too. */
  local?: LocalIdentity;
}
