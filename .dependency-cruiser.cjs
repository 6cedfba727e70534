/**
 * Import rules `npm test` enforces (`npm run lint:layers`). Type-only imports count: a cycle of
 * types is still a cycle a reader has to hold in their head, and it becomes a runtime one with
 * the first value that follows it.
 *
 * `.dependency-cruiser-known-violations.json` lists the violations that existed when these rules
 * were introduced; `--ignore-known` lets them pass so that only new ones fail. The list only
 * shrinks: regenerate it with `npm run lint:layers:baseline` after removing a violation, never
 * to admit a new one.
 */
/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-folder-cycle",
      comment: "Folders form layers: no chain of imports may lead from a folder back to itself. Move the shared piece into a leaf folder both can import.",
      severity: "error",
      scope: "folder",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-module-cycle",
      comment: "No module may import itself through others.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-src-to-bots",
      comment: "Channels plug into src/, not the other way round: only the composition roots (serve, and doctor, which checks every channel) may import bots/. Shared channel types belong in a leaf src/ imports.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(server/serve|cli/commands/doctor)\\.ts$" },
      to: { path: "^bots/" },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    // The two leaves at the src root stay out of the folder graph: dependency-cruiser's folder
    // "src" stands for everything under src/, so a file at the root would make every folder
    // that logs or throws depend on all of src/. They import nothing but src/redact (log.ts).
    exclude: { path: ["node_modules", "^src/(errors|log)\\.ts$"] },
    combinedDependencies: false,
  },
};
