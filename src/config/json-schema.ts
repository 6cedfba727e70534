import { z } from "zod";
import { configSchema } from "./schema.ts";

/**
 * The plugin's OpenClaw `configSchema`, generated from the one zod schema: `configPath` plus
 * every clawgate key as an optional inline override. Input types are used (durations accept
 * "2m" or milliseconds; keys with defaults are optional).
 */
/** The schema of what users write (input types: "2m" durations, keys with defaults optional). */
export function configInputJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any", target: "draft-7" }) as Record<string, unknown>;
}

function pluginConfigJsonSchema(): Record<string, unknown> {
  const full = configInputJsonSchema();
  const { $schema: _ignored, ...rest } = stripDefaults(full) as Record<string, unknown>;
  const properties = (rest.properties ?? {}) as Record<string, unknown>;
  return {
    type: "object",
    additionalProperties: false,
    properties: {
      configPath: { type: "string", description: "path to clawgate.yaml (default: $CLAWGATE_CONFIG, else ./clawgate.yaml in the gateway's cwd)" },
      ...properties,
    },
  };
}

export function pluginManifest(): Record<string, unknown> {
  return {
    id: "clawgate",
    name: "clawgate",
    description: "Human approval gate for risky tool calls: allow / ask / deny, approvals via CLI, Slack, Discord, email.",
    version: "0.1.0",
    activation: { onStartup: true },
    contracts: { tools: [] },
    configSchema: pluginConfigJsonSchema(),
  };
}

/**
 * OpenClaw fills a plugin's config with its schema's `default`s before handing it over. Our
 * inline config is an *override* of clawgate.yaml, so defaults there would silently replace
 * the file's values (e.g. an empty policy.ask). Defaults live in the zod schema only.
 */
function stripDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripDefaults);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => k !== "default")
      .map(([k, v]) => [k, stripDefaults(v)]),
  );
}
