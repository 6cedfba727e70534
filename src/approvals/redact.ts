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
  [/\b(xox[abposre]|xapp)-[A-Za-z0-9-]{8,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED],
  [/\bgl(pat|ptt|dt|rt|cbt|oas|soat|ft|imt|agent)-[A-Za-z0-9_-]{20,}/g, REDACTED],
  [/\bnpm_[A-Za-z0-9]{30,}/g, REDACTED],
  [/\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}/g, REDACTED],
  [/\bwhsec_[A-Za-z0-9+/=]{16,}/g, REDACTED],
  [/\bhf_[A-Za-z0-9]{30,}/g, REDACTED],
  [/\bya29\.[A-Za-z0-9_-]{20,}/g, REDACTED],
  [/\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  [/\bsk-(ant-|proj-)?[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\bAIza[A-Za-z0-9_-]{30,}/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
  // Discord bot tokens: base64 user id . timestamp . HMAC
  [/\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}/g, REDACTED],
  // Webhook URLs are credentials in themselves.
  [/(hooks\.slack\.com\/(services|workflows|triggers)\/)[A-Za-z0-9/_-]{8,}/gi, `$1${REDACTED}`],
  [/(discord(?:app)?\.com\/api\/webhooks\/\d{1,30}\/)[A-Za-z0-9_-]{8,}/gi, `$1${REDACTED}`],
  // "Bearer abc", "Authorization: Basic abc"
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // user:password@ in URLs, the user possibly empty (redis://:pw@host)
  // (lengths are bounded everywhere: unbounded runs made this O(n²) on long tokens)
  [/\b([a-z][a-z0-9+.-]{0,20}:\/\/[^\s:/@]{0,256}:)[^\s@/]{1,256}@/gi, `$1${REDACTED}@`],
  // a token as the whole user part: https://ghp_…@github.com, https://x-token-abcdef…@host
  [/\b([a-z][a-z0-9+.-]{0,20}:\/\/)[A-Za-z0-9._~-]{20,256}@/gi, `$1${REDACTED}@`],
  // curl -u user:password, --user=user:password
  [/(\s(?:-u\s*|--user[=\s]\s*|--proxy-user[=\s]\s*)(["']?)[^\s:/"']{1,256}:)(?!\/\/)[^\s"']{1,256}\2/g, `$1${REDACTED}$2`],
  // secrets in query strings: ?sig=…, &X-Amz-Signature=…, ?access_token=…
  [/([?&](?:sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|access_token|refresh_token|id_token|token|key|api_key|apikey|client_secret|password|code)=)[^&\s#"']{1,2048}/gi, `$1${REDACTED}`],
  // PASSWORD=x, token: x, api_key="x", --password=x
  [
    /\b([A-Za-z0-9_-]{0,40}(?:pass(?:word|wd)?|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|signature|credentials?)[A-Za-z0-9_-]{0,40})(\s*[=:]\s*)(["']?)[^\s"'&;|]{3,}\3/gi,
    `$1$2$3${REDACTED}$3`,
  ],
  // --password x, --api-key x: an option whose name ends in the secret word, then its value
  // (prose like "passes although" or "the token expired" is left alone)
  [
    /((?:^|\s)--?[A-Za-z0-9_-]{0,40}(?:pass(?:word|wd)?|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|credentials?))(\s+)(["']?)(?!-)[^\s"'&;|]{3,}\3/gi,
    `$1$2$3${REDACTED}$3`,
  ],
];

/**
 * One case-insensitive alternation of every pattern, back-references relaxed to "any quote
 * or none": it matches whenever one of VALUE_PATTERNS would (and sometimes when none does),
 * in one scan instead of one per pattern. Text it rejects holds nothing to redact — true of
 * almost every string, so the exact passes below run only on the rest.
 */
const MAYBE_SECRET = new RegExp(VALUE_PATTERNS.map(([re]) => `(?:${re.source.replace(/\\[1-9]/g, "[\"']?")})`).join("|"), "i");

/**
 * Cheaper still: what every pattern above needs at least (its prefix, a secret word followed
 * by `=` or `:`, an option naming one, `://…@`, the shape of a Discord token, a query
 * `name=`). Most text has none and skips both scans; keep it in step
 * with VALUE_PATTERNS (test/approvals/redact.test.ts checks every pattern gets through).
 */
const SECRET_WORDS = "pass|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|signature|credential";
const NEEDS_A_LOOK = new RegExp(
  [
    "-----BEGIN", "xox", "xapp", "gh[pousr]_", "github_pat_", "gl(?:pat|ptt|dt|rt|cbt|oas|soat|ft|imt|agent)-", "npm_", "[sr]k_", "whsec_", "hf_", "ya29\\.", "sg\\.",
    "akia", "asia", "sk-", "aiza", "eyj",
    // a Discord token's two dots
    "\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27}",
    "hooks\\.slack\\.com\\/", "\\/api\\/webhooks\\/", "bearer\\s", "basic\\s",
    // user:password@ in a URL, curl -u user:…, a query secret
    ":\\/\\/[^\\s/]*@", "(?:\\s-u|--user|--proxy-user)[=\\s]*[\"']?[^\\s:/\"']+:", "[?&][a-z_-]{3,24}=",
    // a secret word before = or :, or ending an option name (`--password x`, `Token x`)
    `(?:${SECRET_WORDS})(?:[A-Za-z0-9_-]{0,40}\\s*[=:]|(?:word|wd|s)?\\s)`,
  ].join("|"),
  "i",
);

/**
 * Texts NEEDS_A_LOOK found nothing in, latest first. NEEDS_A_LOOK only asks "does the text
 * contain …" (no anchors, no \b), so nothing inside such a text can match it either: a
 * decision's parts, its reason and its whole line overlap heavily, and each part is then
 * settled by a substring search instead of a scan.
 */
const knownClean: string[] = [];
const KNOWN_CLEAN_ENTRIES = 4;
/** Longer texts are not kept (they would pin memory). */
const KNOWN_CLEAN_MAX_LENGTH = 8 * 1024;

function settledClean(value: string): boolean {
  for (const c of knownClean) if (c.length >= value.length && c.includes(value)) return true;
  if (NEEDS_A_LOOK.test(value)) return false;
  if (value.length > KNOWN_CLEAN_MAX_LENGTH) return true;
  if (knownClean.length >= KNOWN_CLEAN_ENTRIES) knownClean.pop();
  knownClean.unshift(value);
  return true;
}

/** `value` with every substring that looks like a credential replaced by [REDACTED]. */
export function redactString(value: string): string {
  if (settledClean(value) || !MAYBE_SECRET.test(value)) return value;
  let out = value;
  for (const [re, replacement] of VALUE_PATTERNS) out = out.replace(re, replacement);
  return out;
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
