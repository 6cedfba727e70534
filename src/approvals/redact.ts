/**
 * Secret redaction for everything that leaves the gate: approval records, rendered
 * messages, logs and audit entries. Two passes: keys that name a secret lose their whole
 * value; string values lose substrings that look like credentials wherever they appear
 * (e.g. a token pasted into a shell command).
 */
export const REDACTED = "[REDACTED]";

const SECRET_KEY = /(pass(word|wd|phrase)?|secret|token|api[-_]?key|apikey|auth(orization)?|cookie|credential|private[-_]?key|session[-_]?key|access[-_]?key|client[-_]?secret|signature)$/i;

const VALUE_PATTERNS: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  [/\b(xox[abposr]|xapp)-[A-Za-z0-9-]{8,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED],
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  [/\bsk-(ant-|proj-)?[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\bAIza[A-Za-z0-9_-]{30,}/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
  // "Bearer abc", "Authorization: Basic abc"
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // user:password@ in URLs
  // (lengths are bounded everywhere: unbounded runs made this O(n²) on long tokens)
  [/\b([a-z][a-z0-9+.-]{0,20}:\/\/[^\s:/@]{1,256}:)[^\s@/]{1,256}@/gi, `$1${REDACTED}@`],
  // --password=x, PASSWORD=x, token: x, api_key="x"
  [
    /\b([A-Za-z0-9_-]{0,40}(?:pass(?:word|wd)?|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key)[A-Za-z0-9_-]{0,40})(\s*[=:]\s*|\s+)(["']?)[^\s"'&;|]{3,}\3/gi,
    `$1$2$3${REDACTED}$3`,
  ],
];

export function redactString(value: string): string {
  let out = value;
  for (const [re, replacement] of VALUE_PATTERNS) out = out.replace(re, replacement);
  return out;
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
