/**
 * Secret redaction for everything that leaves the gate: approval records, rendered
 * messages, logs and audit entries. Two passes: keys that name a secret lose their whole
 * value; string values lose substrings that look like credentials wherever they appear
 * (e.g. a token pasted into a shell command).
 *
 * The substrings are found by two rule sets: secretlint's recommended preset (provider
 * tokens, maintained upstream; secretlint.ts) and clawgate's own rules for the shapes
 * commands, headers and config lines take (secret-rules.ts). Every rule says what each of
 * its matches contains; all of that together is the prefilter (secret-scan.ts), so the
 * rules run only on the rare text that has any of it.
 */
import { secretScanner } from "./secret-scan.ts";

export const REDACTED = "[REDACTED]";

const SECRET_KEY = /(pass(word|wd|phrase|code)?|pwd|secret|token|api[-_]?key|apikey|auth(orization)?|cookie|credentials?|private[-_]?key|session[-_]?key|access[-_]?key|account[-_]?key|signing[-_]?key|encryption[-_]?key|client[-_]?secret|signature|jwt|[-_]pat)$/i;

/**
 * Texts the prefilter found nothing in, latest first. It only asks "does the text contain
 * …" (no anchors, no \b), so nothing inside such a text can match it either: a
 * decision's parts, its reason and its whole line overlap heavily, and each part is then
 * settled by a substring search instead of a scan.
 */
const knownClean: string[] = [];
const KNOWN_CLEAN_ENTRIES = 4;
/** Longer texts are not kept (they would pin memory). */
const KNOWN_CLEAN_MAX_LENGTH = 8 * 1024;

function settledClean(value: string): boolean {
  for (const c of knownClean) if (c.length >= value.length && c.includes(value)) return true;
  if (secretScanner().needsALook(value)) return false;
  if (value.length > KNOWN_CLEAN_MAX_LENGTH) return true;
  if (knownClean.length >= KNOWN_CLEAN_ENTRIES) knownClean.pop();
  knownClean.unshift(value);
  return true;
}

/** `value` with every substring that looks like a credential replaced by [REDACTED]. */
export function redactString(value: string): string {
  if (settledClean(value)) return value;
  const ranges = secretScanner().ranges(value);
  if (ranges.length === 0) return value;
  let out = "";
  let at = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    out += value.slice(at, ranges[i]) + REDACTED;
    at = ranges[i + 1] as number;
  }
  return out + value.slice(at);
}

/** Ids of the rules that find something in `value` (tests; docs). */
export function secretRuleIds(value: string): string[] {
  return secretScanner().ruleIds(value);
}

/**
 * The one redaction pass for text leaving clawgate (reasons, rules, log lines, messages,
 * audit entries, REST bodies): call it on every outgoing string that may hold agent input.
 */
export function redactText(value: string): string {
  return redactString(value);
}

/** True when redactText would change `value`. */
export function containsSecret(value: string): boolean {
  return redactString(value) !== value;
}

/** Deep copy with secrets removed. Cycles and depth beyond 32 are cut rather than followed. */
export function redact<T>(value: T): T {
  const seen = new WeakSet<object>();
  const walk = (node: unknown, depth: number): unknown => {
    if (typeof node === "string") return redactString(node);
    if (node === null || typeof node !== "object") return node;
    if (depth > 32 || seen.has(node)) return "[…]";
    seen.add(node);
    if (Array.isArray(node)) return node.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined && v !== "" ? REDACTED : walk(v, depth + 1);
    }
    return out;
  };
  return walk(value, 0) as T;
}
