/**
 * Params come from the agent: any shape, any depth, any size. Walking them is iterative and
 * bounded, and params beyond these limits need a human (they cannot be shown whole to an
 * approver anyway, and deeper structures only serve to break tools that recurse).
 */
export const MAX_PARAMS_DEPTH = 64;
/** Objects, arrays and values counted together. */
const MAX_PARAMS_NODES = 100_000;
/** Characters in all strings and keys together (4 Mi). */
const MAX_PARAMS_CHARS = 4 * 1024 * 1024;

const TOO_BIG = `its params are larger than ${MAX_PARAMS_CHARS / 1024 / 1024} MiB`;

/**
 * Params of one level of plain values (`{ command }`, `{ path, content }`), the usual case,
 * are checked without allocating anything; null when there is something nested to walk.
 */
function flatVerdict(params: object): string | null | undefined {
  if (Array.isArray(params)) return undefined;
  let chars = 0;
  let count = 1;
  for (const key in params) {
    if (!Object.hasOwn(params, key)) continue;
    const v = (params as Record<string, unknown>)[key];
    if (v !== null && typeof v === "object") return undefined;
    chars += key.length + (typeof v === "string" ? v.length : 0);
    count++;
  }
  if (count > MAX_PARAMS_NODES) return `its params hold more than ${MAX_PARAMS_NODES.toLocaleString("en")} values`;
  return chars > MAX_PARAMS_CHARS ? TOO_BIG : null;
}

/** Why the params are over a limit, or null when they are within all of them. */
export function paramsOverLimit(params: unknown): string | null {
  if (params === null || typeof params !== "object") {
    return typeof params === "string" && params.length > MAX_PARAMS_CHARS ? TOO_BIG : null;
  }
  const flat = flatVerdict(params);
  if (flat !== undefined) return flat;
  let nodes = 0;
  let chars = 0;
  const stack: [unknown, number][] = [[params, 1]];
  const seen = new WeakSet<object>();
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (++nodes > MAX_PARAMS_NODES) return `its params hold more than ${MAX_PARAMS_NODES.toLocaleString("en")} values`;
    if (typeof node === "string") {
      chars += node.length;
      if (chars > MAX_PARAMS_CHARS) return TOO_BIG;
      continue;
    }
    if (node === null || typeof node !== "object") continue;
    if (depth > MAX_PARAMS_DEPTH) return `its params are nested more than ${MAX_PARAMS_DEPTH} levels deep`;
    // A cycle is not deeper than its first lap; counting it again would only hit the node limit.
    if (seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      const n = Math.min(node.length, MAX_PARAMS_NODES + 1);
      for (let i = 0; i < n; i++) stack.push([node[i], depth + 1]);
    } else {
      for (const key of Object.keys(node)) {
        chars += key.length;
        stack.push([(node as Record<string, unknown>)[key], depth + 1]);
      }
    }
  }
  return null;
}

/**
 * Calls `fn` on every string in `params` (keys excluded), depth first, within the same limits;
 * stops early when `fn` returns true and returns that.
 */
export function someString(params: unknown, fn: (s: string) => boolean): boolean {
  if (typeof params === "string") return fn(params);
  if (params === null || typeof params !== "object") return false;
  if (!Array.isArray(params)) {
    // One level of plain values: no stack, no set.
    let nested = false;
    for (const key in params) {
      if (!Object.hasOwn(params, key)) continue;
      const v = (params as Record<string, unknown>)[key];
      if (typeof v === "string") {
        if (fn(v)) return true;
      } else if (v !== null && typeof v === "object") nested = true;
    }
    if (!nested) return false;
  }
  const stack: [unknown, number][] = [[params, 0]];
  const seen = new WeakSet<object>();
  let nodes = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (++nodes > MAX_PARAMS_NODES) return false;
    if (typeof node === "string") {
      if (fn(node)) return true;
      continue;
    }
    if (node === null || typeof node !== "object" || depth > MAX_PARAMS_DEPTH || seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      const n = Math.min(node.length, MAX_PARAMS_NODES + 1);
      for (let i = 0; i < n; i++) stack.push([node[i], depth + 1]);
    } else for (const key of Object.keys(node)) stack.push([(node as Record<string, unknown>)[key], depth + 1]);
  }
  return false;
}
