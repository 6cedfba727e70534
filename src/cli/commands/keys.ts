import type { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { parseDuration } from "../../text/duration.ts";
import { BadRequestError, ClawgateError } from "../../errors.ts";
import { createKeyFiles, keysDir, listKeyFiles, rotateKeyFiles, type CreatedKey } from "../../trust/keyring.ts";
import type { KeyUse } from "../../trust/keys.ts";
import type { GlobalOptions } from "../shared/context.ts";

function duration(value: string, flag: string): number {
  const ms = parseDuration(value);
  if (ms === null || ms < 0) throw new BadRequestError(`${flag} must be a duration like "24h" or "0s", got "${value}"`);
  return ms;
}

function where(g: GlobalOptions): { dir: string; inline: boolean } {
  const { config, source } = loadConfig({ path: g.config, allowMissing: true, scope: "cli" });
  return { dir: keysDir(config, { configSource: source }), inline: config.keys.trusted.length > 0 };
}

function describeKey(k: CreatedKey, inline: boolean): string {
  const lines = [`${k.use} key ${k.id}`, `  private: ${k.keyPath} (mode 0600; ${k.use === "decision" ? "serve only" : "the gateway only"}, never in Redis)`, `  public:  ${k.publicKey}`];
  if (k.use === "decision") {
    lines.push(
      inline
        ? `  every gate's config lists its trusted keys inline: add ${JSON.stringify(k.publicKey)} to keys.trusted on each gate`
        : `  gates that read this keys folder trust it now; on other hosts add to their config: keys: { trusted: [${JSON.stringify(k.publicKey)}] }`,
    );
  } else {
    lines.push(`  gates trust it for /clawgate chat decisions: on other hosts add keys: { trusted: [{ key: ${JSON.stringify(k.publicKey)}, use: chat }] }`);
  }
  return lines.join("\n");
}

/** `clawgate keys create|rotate|list`: the Ed25519 keys that sign decisions (files on this host; nothing goes to Redis). */
export function registerKeysCommands(program: Command, globals: () => GlobalOptions): void {
  const keys = program.command("keys").description("the Ed25519 keys that sign approvals, runtime rules and tokens (private half with serve only; public half in every gate's config)");
  const useOf = (o: { gateway?: boolean }): KeyUse => (o.gateway ? "chat" : "decision");

  keys
    .command("create")
    .description("make the decision key (or, with --gateway, a gateway's key for /clawgate chat decisions) in keys.dir")
    .option("--gateway", "a gateway's chat key instead of serve's decision key")
    .option("--json", "print JSON")
    .action((o: { gateway?: boolean; json?: boolean }) => {
      const use = useOf(o);
      const { dir, inline } = where(globals());
      const existing = listKeyFiles(dir).find((f) => f.meta.use === use && !f.meta.until);
      if (existing) throw new ClawgateError("key_exists", `a ${use} key already exists in ${dir} (${existing.id}): replace it with \`clawgate keys rotate${o.gateway ? " --gateway" : ""}\``);
      const made = createKeyFiles(dir, use);
      process.stdout.write(o.json ? `${JSON.stringify(made)}\n` : `${describeKey(made, inline)}\n`);
    });

  keys
    .command("rotate")
    .description("make a new key; older keys of the same kind stay honoured for --overlap after it becomes active")
    .option("--gateway", "rotate the gateway's chat key instead of the decision key")
    .option("--overlap <duration>", "how long signatures by the old key stay valid once the new key is active", "24h")
    .option("--activate-in <duration>", "when serve starts signing with the new key (time to add it to gates whose config lists keys inline)", "0s")
    .option("--json", "print JSON")
    .action((o: { gateway?: boolean; overlap: string; activateIn: string; json?: boolean }) => {
      const { dir, inline } = where(globals());
      const out = rotateKeyFiles(dir, useOf(o), { overlapMs: duration(o.overlap, "--overlap"), activateInMs: duration(o.activateIn, "--activate-in") });
      if (o.json) {
        process.stdout.write(`${JSON.stringify(out)}\n`);
        return;
      }
      const retired = out.retired.map((r) => `  ${r.id} honoured until ${r.until}`).join("\n");
      process.stdout.write(`${describeKey(out.created, inline)}\n${retired ? `retiring:\n${retired}\n` : ""}serve picks up the new key within 10 s (no restart)\n`);
    });

  keys
    .command("list")
    .description("the keys in keys.dir: id, kind, created, active from, honoured until, whether the private half is here")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      const { dir } = where(globals());
      const files = listKeyFiles(dir);
      if (o.json) {
        process.stdout.write(`${JSON.stringify(files.map((f) => ({ id: f.id, use: f.meta.use, publicKey: f.meta.key, created: f.meta.created, notBefore: f.meta.notBefore ?? null, until: f.meta.until ?? null, private: f.hasPrivate })))}\n`);
        return;
      }
      if (files.length === 0) {
        process.stdout.write(`no keys in ${dir} (serve makes its decision key there at first start, or run \`clawgate keys create\`)\n`);
        return;
      }
      const rows = files.map((f) => `${f.id}  ${f.meta.use.padEnd(8)}  created ${f.meta.created}${f.meta.notBefore ? `  active from ${f.meta.notBefore}` : ""}${f.meta.until ? `  honoured until ${f.meta.until}` : ""}  ${f.hasPrivate ? "private key here" : "public only"}`);
      process.stdout.write(`${dir}:\n${rows.join("\n")}\n`);
    });
}
