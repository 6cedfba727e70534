/**
 * `${VAR}` and `${VAR:-default}` interpolation over every string in a parsed config.
 * Interpolation runs on parsed values, never on the raw text, so a secret containing
 * quotes or YAML syntax cannot change the document's structure.
 */
const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface Interpolated {
  value: unknown;
  /** key path (dot-joined) → names of env vars referenced there that were unset. */
  missing: Map<string, string[]>;
}

export function interpolateEnv(input: unknown, env: Record<string, string | undefined>): Interpolated {
  const missing = new Map<string, string[]>();
  const walk = (node: unknown, path: string[]): unknown => {
    if (typeof node === "string") {
      return node.replace(PATTERN, (_all, name: string, fallback: string | undefined) => {
        const v = env[name];
        if (v !== undefined && v !== "") return v;
        if (fallback !== undefined) return fallback;
        const key = path.join(".");
        missing.set(key, [...(missing.get(key) ?? []), name]);
        return "";
      });
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, String(i)]));
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(input, []), missing };
}
