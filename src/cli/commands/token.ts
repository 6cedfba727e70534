import type { Command } from "commander";
import type { TokenInfo, TokenKind } from "../../auth/tokens.ts";
import { loadConfig } from "../../config/load.ts";
import { BadRequestError } from "../../errors.ts";
import { clientFor } from "../shared/api-client.ts";
import type { GlobalOptions } from "../shared/context.ts";

function when(ms: number | null): string {
  return ms ? new Date(ms).toISOString() : "never";
}

function formatTokens(tokens: TokenInfo[]): string {
  if (tokens.length === 0) return "no API tokens (create one with `clawgate token create NAME --person ID`)";
  const rows = tokens.map((t) => [t.name, t.kind, t.subject, when(t.createdAt), when(t.lastUsedAt)]);
  const header = ["NAME", "KIND", "SUBJECT", "CREATED", "LAST USED"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join("  ")).join("\n");
}

function kindOf(o: { person?: string; agent?: string; admin?: boolean }): { kind: TokenKind; subject?: string } {
  const chosen = [o.person !== undefined, o.agent !== undefined, o.admin === true].filter(Boolean).length;
  if (chosen !== 1) throw new BadRequestError("say whose token it is with exactly one of --person ID, --agent ID or --admin");
  if (o.person !== undefined) return { kind: "person", subject: o.person };
  if (o.agent !== undefined) return { kind: "agent", subject: o.agent };
  return { kind: "admin" };
}

function api(g: GlobalOptions) {
  const { config, source } = loadConfig({ path: g.config, allowMissing: true, scope: "cli" });
  return { config, client: clientFor(config, source, g.token) };
}

export function registerTokenCommands(program: Command, globals: () => GlobalOptions): void {
  const token = program.command("token").description("per-person, per-agent and admin tokens for the REST API (stored hashed, signed by serve; needs an admin token)");

  token
    .command("create")
    .description("create a token and print its secret once (only its SHA-256 is stored)")
    .argument("<name>", "unique name, e.g. alice-laptop")
    .option("--person <id>", "decisions made with it are recorded as api:<id>")
    .option("--agent <id>", "for an agent: may read its own approvals, never decide")
    .option("--admin", "full access; decisions are recorded as api:admin:<name>")
    .option("--json", "print JSON (includes the secret)")
    .action(async (name: string, o: { person?: string; agent?: string; admin?: boolean; json?: boolean }) => {
      const { kind, subject } = kindOf(o);
      const { config, client } = api(globals());
      const people = Object.keys(config.people);
      if (kind === "person" && people.length > 0 && !people.includes(subject as string)) {
        process.stderr.write(`warning: "${subject}" is not in the config's people (${people.join(", ")})\n`);
      }
      // serve signs the token record: one written to Redis by anyone else authenticates nobody.
      const { token: t, secret } = await client.call<{ token: TokenInfo; secret: string }>("POST", "/api/v1/tokens", { name, kind, ...(subject !== undefined ? { subject } : {}) });
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ ...t, secret })}\n`);
        return;
      }
      // The secret alone on stdout, so `TOKEN=$(clawgate token create …)` works; the rest on stderr.
      process.stderr.write(`created ${t.kind} token "${t.name}" for ${t.subject}; store the secret now, it is not shown again:\n`);
      process.stdout.write(`${secret}\n`);
    });

  token
    .command("list")
    .description("list tokens (never their secrets)")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const { tokens } = await api(globals()).client.call<{ tokens: TokenInfo[] }>("GET", "/api/v1/tokens");
      process.stdout.write(o.json ? `${JSON.stringify(tokens, null, 2)}\n` : `${formatTokens(tokens)}\n`);
    });

  token
    .command("revoke")
    .description("revoke a token: requests with it get 401 from now on")
    .argument("<name>", "the token's name")
    .action(async (name: string) => {
      await api(globals()).client.call("DELETE", `/api/v1/tokens/${encodeURIComponent(name)}`);
      process.stdout.write(`revoked token "${name}"\n`);
    });
}
