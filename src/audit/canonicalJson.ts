/**
 * JSON with object keys sorted at every depth and no whitespace, emitted by hand rather than
 * through `JSON.stringify(object)`: the engine puts integer-like keys ("2", "10") first whatever
 * order they were inserted in, which would make the bytes differ from a plain sorted walk.
 * The audit chain hashes these exact bytes, so they must not depend on insertion order.
 * Follows JSON.stringify for everything else: `toJSON` is honoured, undefined/functions/symbols
 * are dropped from objects and become null in arrays, non-finite numbers become null.
 * Bigints become decimal strings and cycles become "[cycle]" instead of throwing.
 */
export function canonicalJson(value: unknown): string {
  return emit(value, new WeakSet<object>()) ?? "null";
}

function emit(input: unknown, seen: WeakSet<object>): string | undefined {
  let value = input;
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return JSON.stringify(value.toString());
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return "null";
  const node = value as object;
  if (seen.has(node)) return JSON.stringify("[cycle]");
  seen.add(node);
  let out: string;
  if (Array.isArray(node)) {
    out = `[${node.map((item) => emit(item, seen) ?? "null").join(",")}]`;
  } else {
    const record = node as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const encoded = emit(record[key], seen);
      if (encoded !== undefined) parts.push(`${JSON.stringify(key)}:${encoded}`);
    }
    out = `{${parts.join(",")}}`;
  }
  // Only the current path counts as a cycle; the same object twice side by side is fine.
  seen.delete(node);
  return out;
}
