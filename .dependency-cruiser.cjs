/**
 * Import rules `npm test` enforces (`npm run lint:layers`, scripts/lint-layers.mjs). Type-only
 * imports count: a cycle of types is still a cycle a reader has to hold in their head, and it
 * becomes a runtime one with the first value that follows it.
 *
 * Folders are layers, bottom → top (a folder imports only folders below it; scripts/lint-layers.mjs
 * fails on any folder cycle, see there and docs/architecture.md "Layers"):
 *
 *    1. leaves: src/redact, src/text, src/policy/base, "bots (specs)" (bots/spec.ts, bots/specs.ts,
 *       bots/<name>/spec.ts), src (errors.ts, log.ts), src/policy/{shell,call}, src/lua,
 *       src/http, src/redis, src/audit, src/policy/self-protection
 *    2. src/policy, src/trust          6. src/inbound, src/asks, src/backend
 *    3. src/approvals                  7. src/channel (the adapter contract), src/gate
 *    4. src/oncall, src/auth           8. queue, templates, src/metrics
 *    5. src/config                     9. bots/<name>, bots (the registry), src/lifecycle
 *   10. composition roots: src/server, src/cli, src/exports, plugin
 *
 * The folder rule is checked by the script, not here: dependency-cruiser's `scope: "folder"` is
 * hierarchical ("src" stands for everything below it), so a composition root inside src/
 * (src/server/serve.ts loading bots/registry.ts) would count as a cycle of "src" with itself.
 */
/** Spec modules: what the core reads of a channel without loading it. */
const SPEC = "^bots/(spec|specs|[^/]+/spec)\\.ts$";
/** Folders that import nothing of clawgate's but each other (a spec may use them). */
const LEAF = "^src/(errors|log)\\.ts$|^src/(redact|text)/";

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-module-cycle",
      comment: "No module may import itself through others (a channel spec's dynamic `load`/`doctor` import is its plug-in point and does not count).",
      severity: "error",
      from: {},
      to: { circular: true, dependencyTypesNot: ["dynamic-import"], viaOnly: { dependencyTypesNot: ["dynamic-import"] } },
    },
    {
      name: "spec-imports-leaves",
      comment: "A channel spec (bots/spec.ts, bots/specs.ts, bots/<name>/spec.ts) is loaded by the config schema, the gate inside OpenClaw and every CLI command: it imports only zod, other specs and leaf modules, never its adapter (not even a type; the loader is typed by bots/spec.ts).",
      severity: "error",
      from: { path: SPEC },
      to: { dependencyTypesNot: ["dynamic-import", "core"], pathNot: [SPEC, LEAF, "^node_modules/zod/"] },
    },
    {
      name: "spec-loads-own-folder",
      comment: "A channel spec loads only its own adapter and doctor (`load`, `doctor`: dynamic imports of ./index.ts and ./doctor.ts).",
      severity: "error",
      from: { path: "^bots/([^/]+)/spec\\.ts$" },
      to: { dependencyTypes: ["dynamic-import"], pathNot: "^bots/$1/(index|doctor)\\.ts$" },
    },
    {
      name: "no-src-to-bots",
      comment: "Channels plug into src/, not the other way round: src/ reads a channel only through its spec; only the composition roots (serve, and doctor, which checks every channel) load adapters. Shared channel types belong in src/channel.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(server/serve|cli/commands/doctor)\\.ts$" },
      to: { path: "^bots/", pathNot: SPEC },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: ["node_modules"] },
    combinedDependencies: false,
  },
};
