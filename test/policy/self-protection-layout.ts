import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildConfig } from "../../src/config/load.ts";
import { PolicyEngine } from "../../src/policy/engine.ts";
import { selfProtectionContext } from "../../src/config/self-protection.ts";
import type { PolicyDecision } from "../../src/policy/types.ts";

/**
 * A real layout on disk for self-protection tests: clawgate's config and data under srv/cg,
 * its installation under opt/clawgate, the agent's home with OpenClaw's state folder, and a
 * symlink `link` to the config folder that an agent could have made earlier.
 */
export interface Layout {
  root: string;
  cfgDir: string;
  configPath: string;
  dataDir: string;
  pkg: string;
  home: string;
  link: string;
  /** `$CFG`, `$PKG`, `$DATA`, `$HOME_`, `$LINK`, `$ROOT` in a line become the layout's paths. */
  fill(text: string): string;
  cleanup(): void;
}

export function makeLayout(): Layout {
  const root = mkdtempSync(join(tmpdir(), "cg-sp-attacks-"));
  const cfgDir = join(root, "srv", "cg");
  const configPath = join(cfgDir, "clawgate.yaml");
  const dataDir = join(cfgDir, "data");
  const pkg = join(root, "opt", "clawgate");
  const home = join(root, "home", "agent");
  const link = join(root, "link");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(join(pkg, "plugin"), { recursive: true });
  mkdirSync(join(pkg, "src"), { recursive: true });
  mkdirSync(join(home, ".openclaw", "workspace"), { recursive: true });
  writeFileSync(configPath, "redis: { url: redis://127.0.0.1:6379 }\n");
  writeFileSync(join(dataDir, "redis.url"), "redis://127.0.0.1:41234\n");
  writeFileSync(join(pkg, "package.json"), '{"name":"clawgate"}');
  symlinkSync(cfgDir, link);
  const fill = (text: string): string =>
    text.replaceAll("$CFG", cfgDir).replaceAll("$PKG", pkg).replaceAll("$DATA", dataDir).replaceAll("$HOME_", home).replaceAll("$LINK", link).replaceAll("$ROOT", root);
  return { root, cfgDir, configPath, dataDir, pkg, home, link, fill, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The shipped clawgate.yaml's policy: mode default, a few rules, nothing that allows everything. */
export const SHIPPED_POLICY = {
  mode: "default",
  allow: ["read", "exec(git status)", "exec(git diff *)"],
  ask: ["exec(git push *)", "write(**/.env*)"],
  deny: ["exec(rm -rf *)", "exec(curl * | sh)"],
};

/** A policy that allows everything: only self-protection can stop a call. */
export const PERMISSIVE_POLICY = { mode: "bypassPermissions", allow: ["exec(*)", "bash(*)", "process(*)", "read", "write", "edit", "web_fetch", "mcp__fetch__fetch"] };

export function engineFor(layout: Layout, policy: Record<string, unknown>): PolicyEngine {
  const config = buildConfig({ redis: { url: "redis://127.0.0.1:6379" }, server: { port: 8787, publicUrl: "https://gate.example.com" }, policy }, {});
  const ctx = selfProtectionContext(config, {
    configPath: layout.configPath,
    home: layout.home,
    env: {},
    cwd: join(layout.root, "work"),
    packageRoot: layout.pkg,
    pluginDirs: [join(layout.pkg, "plugin")],
    local: { names: ["gatehost", "gatehost.example.internal"], addresses: ["10.1.2.3", "fe80::1"] },
  });
  return new PolicyEngine(config.policy, undefined, { protect: ctx });
}

export function shell(engine: PolicyEngine, layout: Layout, command: string, extra: Record<string, unknown> = {}): PolicyDecision {
  return engine.evaluate({ toolName: "exec", params: { command: layout.fill(command), ...extra } });
}
