/**
 * JSON with object keys sorted at every depth and no whitespace, emitted by hand rather than
 * through `JSON.stringify(object)`: the engine puts integer-like keys ("2", "10") first whatever
 * order they were inserted in, which would make the bytes differ from a plain sorted walk.
 * The audit chain hashes these exact bytes, so they must not depend on insertion order.
 * Follows JSON.stringify for everything else: `toJSON` is honoured, undefined/functions/symbols
 * are dropped from objects and become null in arrays, non-finite numbers become null.
 * Bigints become decimal strings and cycles become "[cycle]" instead of throwing.
 *
 * The walk is iterative (an explicit stack), so params nested any depth deep cannot overflow
 * the call stack: an agent controls their shape.
 */
export function canonicalJson(value: unknown): string {
  return emitIterative(value) ?? "null";
}

/** An object or array being emitted: its encoded children so far and what is left to visit. */
interface Frame {
  node: object;
  array: boolean;
  /** Keys (objects) or indexes (arrays) still to emit, in order. */
  keys: readonly string[] | null;
  length: number;
  next: number;
  parts: string[];
  /** Key of the child currently being emitted (objects). */
  pendingKey: string;
}

const ENTER = Symbol("enter");

/** Scalars become their JSON text (or undefined when dropped); objects ask to be entered. */
function scalar(input: unknown): string | undefined | typeof ENTER {
  switch (typeof input) {
    case "string":
      return JSON.stringify(input);
    case "number":
      return Number.isFinite(input) ? JSON.stringify(input) : "null";
    case "boolean":
      return input ? "true" : "false";
    case "bigint":
      return JSON.stringify(input.toString());
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  return input === null ? "null" : ENTER;
}

function withToJson(value: unknown): unknown {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return (value as { toJSON: () => unknown }).toJSON();
  }
  return value;
}

function emitIterative(root: unknown): string | undefined {
  // Only the current path counts as a cycle; the same object twice side by side is fine.
  const onPath = new WeakSet<object>();
  const stack: Frame[] = [];
  let result: string | undefined;
  let done = false;

  /** Encodes a scalar at once, or pushes a frame for an object/array and returns null. */
  const begin = (raw: unknown): { text: string | undefined } | null => {
    const value = withToJson(raw);
    const s = scalar(value);
    if (s !== ENTER) return { text: s };
    const node = value as object;
    if (onPath.has(node)) return { text: JSON.stringify("[cycle]") };
    onPath.add(node);
    const array = Array.isArray(node);
    stack.push({
      node,
      array,
      keys: array ? null : Object.keys(node).sort(),
      length: array ? (node as unknown[]).length : 0,
      next: 0,
      parts: [],
      pendingKey: "",
    });
    return null;
  };

  /** Hands a finished child's text to its parent frame (or to the result). */
  const deliver = (text: string | undefined): void => {
    const parent = stack[stack.length - 1];
    if (!parent) {
      result = text;
      done = true;
      return;
    }
    if (parent.array) parent.parts.push(text ?? "null");
    else if (text !== undefined) parent.parts.push(`${JSON.stringify(parent.pendingKey)}:${text}`);
  };

  const first = begin(root);
  if (first) return first.text;
  while (!done) {
    const frame = stack[stack.length - 1] as Frame;
    const count = frame.array ? frame.length : (frame.keys as readonly string[]).length;
    if (frame.next >= count) {
      stack.pop();
      onPath.delete(frame.node);
      deliver(frame.array ? `[${frame.parts.join(",")}]` : `{${frame.parts.join(",")}}`);
      continue;
    }
    const i = frame.next++;
    let child: unknown;
    if (frame.array) child = (frame.node as unknown[])[i];
    else {
      frame.pendingKey = (frame.keys as readonly string[])[i] as string;
      child = (frame.node as Record<string, unknown>)[frame.pendingKey];
    }
    const encoded = begin(child);
    if (encoded) deliver(encoded.text);
  }
  return result;
}
