// Regenerates docs/openapi.json from the API's zod schemas (a test checks it is current).
import { readFileSync, writeFileSync } from "node:fs";
import { openApiDocument } from "../src/server/openapi.ts";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
const target = new URL("../docs/openapi.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(openApiDocument(pkg.version), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
