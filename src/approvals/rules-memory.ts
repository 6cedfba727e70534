import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { RulesMemory } from "./runtime-rules-cache.ts";

/**
 * The newest runtime rules snapshot a process has accepted, kept on its own disk (a gateway:
 * OpenClaw's state folder; serve: its data folder — both guarded by self-protection). After a
 * restart it still knows that version, so a snapshot deleted or rolled back in Redis is refused
 * and put back, not obeyed.
 */
export class FileRulesMemory implements RulesMemory {
  constructor(readonly file: string) {}

  read(): string | null {
    try {
      return readFileSync(this.file, "utf8");
    } catch {
      return null;
    }
  }

  write(raw: string): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    // Write then rename: a crash mid-write never leaves half a snapshot.
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, raw, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

function fileName(prefix: string): string {
  return `rules-${prefix.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`;
}

/** A gateway's: `$OPENCLAW_STATE_DIR/clawgate/rules-<prefix>.json` (else under ~/.openclaw). */
export function gatewayRulesMemoryFile(prefix: string, env: NodeJS.ProcessEnv = process.env): string {
  const state = env.OPENCLAW_STATE_DIR?.trim() || join(env.HOME?.trim() || homedir(), ".openclaw");
  return join(state, "clawgate", fileName(prefix));
}

/** serve's: `<keys folder>/rules-<prefix>.json` (a folder only serve's user writes). */
export function serveRulesMemoryFile(keysDir: string, prefix: string): string {
  return join(keysDir, fileName(prefix));
}
