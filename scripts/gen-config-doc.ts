// Regenerates docs/configuration.md's reference table from the zod schema (a test checks it is current).
import { readFileSync, writeFileSync } from "node:fs";
import { configReference } from "../src/config/reference.ts";

const target = new URL("../docs/configuration.md", import.meta.url);
const text = readFileSync(target, "utf8");
const begin = "<!-- BEGIN GENERATED REFERENCE -->";
const end = "<!-- END GENERATED REFERENCE -->";
const [head, rest] = text.split(begin);
const tail = rest?.split(end)[1];
if (head === undefined || tail === undefined) throw new Error(`docs/configuration.md lacks the ${begin} … ${end} markers`);
writeFileSync(target, `${head}${begin}\n${configReference()}${end}${tail}`);
process.stdout.write(`wrote ${target.pathname}\n`);
