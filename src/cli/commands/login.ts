import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { CredentialMissingError, ForbiddenError } from "../../errors.ts";
import { serveUrl, ServeClient } from "../shared/api-client.ts";
import type { GlobalOptions } from "../shared/context.ts";
import { normaliseUrl, saveCredential } from "../shared/credentials.ts";

async function readToken(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = "";
    for await (const chunk of process.stdin) text += String(chunk);
    return text.trim().split(/\r?\n/, 1)[0]?.trim() ?? "";
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question("token (from `clawgate token create NAME --person ID`): ")).trim();
  } finally {
    rl.close();
  }
}

/** `clawgate login [URL]`: checks a person or admin token against serve and keeps it (mode 0600) for the deciding commands. */
export function registerLoginCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command("login")
    .description("check a person token with serve and keep it (mode 0600 in ~/.config/clawgate) for approve, deny, policy set|unset and token")
    .argument("[url]", "serve's URL, e.g. https://clawgate.example.com (default: CLAWGATE_URL, the local npm start, server.publicUrl)")
    .action(async (url: string | undefined) => {
      const g = globals();
      const { config, source } = loadConfig({ path: g.config, allowMissing: true, scope: "cli" });
      const target = url ? normaliseUrl(url) : serveUrl(config, source).url;
      const token = g.token?.trim() || process.env.CLAWGATE_TOKEN?.trim() || (await readToken());
      if (!token) throw new CredentialMissingError("no token given: pass --token, set CLAWGATE_TOKEN, or paste it when asked");
      const who = await new ServeClient(target, token).call<{ kind: string; actor: string }>("GET", "/api/v1/whoami");
      if (who.kind === "agent") throw new ForbiddenError("that is an agent token: it may create and read its agent's approvals but never decide; log in with a person token");
      const file = saveCredential(target, token, who.actor);
      process.stdout.write(`logged in to ${target} as ${who.actor} (token kept in ${file}, mode 0600)\n`);
    });
}
