import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where `clawgate login` keeps a person's tokens: the user's config folder
 * (`$XDG_CONFIG_HOME/clawgate`, else `~/.config/clawgate`). The CLI reads and writes it;
 * self-protection keeps the agent from reading it (a person's token decides as that person).
 */
export function cliCredentialsFile(env: NodeJS.ProcessEnv = process.env, home = env.HOME?.trim() || homedir()): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(home, ".config");
  return join(base, "clawgate", "credentials.json");
}
