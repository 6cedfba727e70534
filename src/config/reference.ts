import { configInputJsonSchema } from "./json-schema.ts";

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  default?: unknown;
  description?: string;
  required?: string[];
};

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (s.anyOf) return s.anyOf.map(typeOf).join(" \\| ");
  if (s.type === "array") return `${s.items ? typeOf(s.items) : "any"}[]`;
  if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object") return `map of ${typeOf(s.additionalProperties)}`;
  if (Array.isArray(s.type)) return s.type.includes("number") && s.type.includes("string") ? "duration" : s.type.join(" \\| ");
  return s.type ?? "any";
}

/** The README/docs configuration reference, generated from the zod schema so it cannot drift. */
export function configReference(): string {
  const root = configInputJsonSchema() as JsonSchema;
  const rows: string[] = ["| key | type | default | description |", "| --- | --- | --- | --- |"];
  const walk = (s: JsonSchema, path: string) => {
    const props = s.properties ?? (s.anyOf?.find((a) => a.properties)?.properties);
    if (props && path.split(".").length < 3) {
      for (const [k, v] of Object.entries(props)) walk(v, path ? `${path}.${k}` : k);
      return;
    }
    const def = s.default === undefined ? "" : `\`${JSON.stringify(s.default)}\``;
    rows.push(`| \`${path}\` | ${typeOf(s)} | ${def.length > 60 ? "(see schema)" : def} | ${(s.description ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ")} |`);
  };
  walk(root, "");
  return `${rows.join("\n")}\n`;
}
