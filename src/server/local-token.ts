import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { userInfo } from "node:os";
import { randomBytes } from "node:crypto";
import { TokenExistsError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { TokenStore } from "../auth/tokens.ts";

function osUser(): string {
  try {
    return userInfo().username.replace(/[^A-Za-z0-9._-]/g, "_") || "user";
  } catch {
    return `uid${process.getuid?.() ?? ""}`;
  }
}

/**
 * `npm start`'s first admin token: made for the OS user who started serve and kept in `file`
 * (mode 0600, beside the embedded Redis's data), where the CLI on this host finds it, so the
 * README's local walkthrough needs no extra step. A token that still authenticates is kept;
 * the secret is never logged, only where it is.
 */
export async function ensureLocalAdminToken(tokens: TokenStore, file: string, log: Logger): Promise<void> {
  try {
    const existing = readFileSync(file, "utf8").trim();
    if (existing && (await tokens.lookup(existing))) return;
  } catch {
    // No file yet (or unreadable): make one.
  }
  const base = `local-${osUser()}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const name = attempt === 0 ? base : `${base}-${randomBytes(3).toString("hex")}`;
    try {
      const { secret } = await tokens.create({ name, kind: "admin" });
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, `${secret}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      log.info({ token: name, file }, `made the first admin token "${name}" for ${osUser()} in ${file} (mode 0600): the clawgate CLI on this host uses it to approve, deny and change rules`);
      return;
    } catch (err) {
      if (!(err instanceof TokenExistsError)) throw err;
    }
  }
}
