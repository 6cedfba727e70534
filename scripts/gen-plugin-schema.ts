// Regenerates plugin/openclaw.plugin.json from the zod config schema (test/config checks it is current).
import { writeFileSync } from "node:fs";
import { pluginManifest } from "../src/config/json-schema.ts";

const target = new URL("../plugin/openclaw.plugin.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(pluginManifest(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
