// Regenerates the configuration reference in README.md and docs/configuration.md from the zod
// schema (a test checks both are current).
import { readFileSync, writeFileSync } from "node:fs";
import { configReference } from "../src/config/reference.ts";

const begin = "<!-- BEGIN GENERATED REFERENCE -->";
const end = "<!-- END GENERATED REFERENCE -->";
for (const file of ["../README.md", "../docs/configuration.md"]) {
  const target = new URL(file, import.meta.url);
  const text = readFileSync(target, "utf8");
  const [head, rest] = text.split(begin);
  const tail = rest?.split(end)[1];
  if (head === undefined || tail === undefined) throw new Error(`${target.pathname} lacks the ${begin} … ${end} markers`);
  writeFileSync(target, `${head}${begin}\n${configReference()}${end}${tail}`);
  process.stdout.write(`wrote ${target.pathname}\n`);
}
