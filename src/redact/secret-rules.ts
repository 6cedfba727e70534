/**
 * clawgate's own secret rules, beside the maintained provider rule set (secretlint.ts): the
 * shapes a command line, a header, a config line or a log puts a credential in. Each rule
 * is data: what it finds, the part of a match that is secret, and what every match must
 * contain (literal keywords or a hint pattern), which is how redact.ts skips it — and, for
 * the union of all rules, skips the whole scan — on text that cannot hold one.
 *
 * Patterns: `g` and `d` (match indices) always. The secret is every named group whose name
 * starts with `s` that took part in a match, else the whole match. Every repetition is
 * bounded (an unbounded run before a failing tail made earlier patterns O(n²) on long
 * tokens). A program-scoped rule matches its option first and then looks back for the
 * program in the same simple command, so the look-behind runs only where the option is.
 */
export interface SecretRule {
  /** A family name: tests and docs refer to it. */
  readonly id: string;
  /** Lower-case literals, one of which every match contains (case-insensitively). */
  readonly keywords?: readonly string[];
  /**
   * A pattern every match contains too (case-insensitively), for a rule whose keywords are
   * common in ordinary text (`@`, `-u`) or that has none (a Discord token): the prefilter
   * then looks for this instead of the keywords. No anchors, \b or look-arounds in it (see
   * redact.ts).
   */
  readonly hint?: string;
  readonly re: RegExp;
  /**
   * When set, `re` is looked for only in the rest of a simple command (up to a newline, `;`,
   * `&` or `|`, at most REACH characters) that one of these programs starts.
   */
  readonly after?: RegExp;
}

/** How far after its program an option is still looked for. */
export const REACH = 500;

/** A value: quoted (only the inside is secret) or bare, at least `min` characters bare. */
function value(n: string, min = 1): string {
  return `(?:"(?<sd${n}>[^"\\n]{1,512})"|'(?<ss${n}>[^'\\n]{1,512})'|(?<sb${n}>[^\\s"'\`|;&<>]{${min},512}))`;
}

const rx = (source: string, flags = "i"): RegExp => new RegExp(source, `gd${flags}`);
const cs = (source: string): RegExp => rx(source, "");

/** The rest of a header line: up to its quote, or the end of the line. */
const HEADER_VALUE = `(?<s>[^"'\\r\\n]{1,4096})`;

/**
 * `option` then its value, in a command one of `programs` starts (`mysql … -pX`, not
 * `mkdir -p x`). Matched forwards from each program (redact.ts), so every character is read
 * a bounded number of times however many options or programs a text repeats.
 */
function scoped(programs: string, option: string, val: string): { after: RegExp; re: RegExp } {
  return { after: cs(`(?<![\\w.-])(?:${programs})(?=\\s)`), re: cs(`${option}${val}`) };
}

/** A name that says its value is secret wherever the word sits in it (PGPASSWORD, db.password, apiKey). */
const STRONG = "pass(?:word|wd|phrase|code)?|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|account[-_]?key|shared[-_]?access[-_]?(?:key|signature)|signing[-_]?key|encryption[-_]?key|master[-_]?key|subscription[-_]?key|client[-_]?secret|signature|credentials?|cookie|jwt";
/** Words too common alone: secret only as one `_`/`.` word of a longer name (MYSQL_PWD, GITHUB_PAT, STRIPE_KEY, _auth). */
const WEAK = "key|pat|pwd|pw|auth|oauth|sig|creds";
/**
 * The end of such a name, from its secret word on: what precedes the word does not matter
 * (only the value is redacted), and a pattern that starts at the word runs only where a
 * word is, not at every character.
 */
const NAME = `(?:(?:${STRONG})[A-Za-z0-9_.-]{0,40}|[_.](?:${WEAK})(?:[_.-][A-Za-z0-9]{1,40}){0,4})`;
/** A name ending so describes its secret rather than holding it: SECRET_NAME, KEY_FILE, TOKEN_URL. */
const NOT_SECRET = "name|[_.-]id|file|path|url|uri|type|ttl|header|prefix";
/**
 * Keywords for those names. `key` alone is too common (ssh-keygen, apt-key, key=value) to
 * let through the prefilter: the compound words are spelled out, the weak ones with the
 * separator before them.
 */
const KEY_WORDS = ["api", "access", "private", "account", "signing", "encryption", "master", "subscription"].flatMap((w) => [`${w}key`, `${w}-key`, `${w}_key`]);
const STRONG_KEYWORDS = ["pass", "secret", "token", "sig", "cred", "cookie", "jwt", ...KEY_WORDS];
const WEAK_KEYWORDS = ["key", "pat", "pw", "auth", "oauth"].flatMap((w) => [`_${w}`, `.${w}`]);
/** An option whose name ends in a secret word: `--password x`, `-storepass x`, `--api-key x`. */
const OPTION = "pass(?:word|wd|phrase)?|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|credentials?|auth|cookie";

export const CLAWGATE_RULES: readonly SecretRule[] = [
  // --- blocks of key material
  { id: "private-key-block", keywords: ["-----begin"], re: rx("-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\\s\\S]*?(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|$)") },
  // PuTTY .ppk: the base64 lines after Private-Lines
  { id: "putty-private-key", keywords: ["private-lines"], re: rx("Private-Lines:[ \\t]*\\d{1,4}(?<s>(?:\\r?\\n[A-Za-z0-9+/=]{1,128}){1,512})") },
  { id: "age-secret-key", keywords: ["age-secret-key-1"], re: rx("AGE-SECRET-KEY-1[0-9A-Z]{58}") },
  // --- tokens recognisable by their shape
  { id: "slack-token", keywords: ["xox", "xapp-"], re: rx("\\b(?:xox[abposre]|xapp)-[A-Za-z0-9-]{8,512}") },
  { id: "github-token", keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"], re: cs("\\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})") },
  { id: "gitlab-token", keywords: ["glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "gloas-", "glsoat-", "glft-", "glimt-", "glagent-"], re: cs("\\bgl(?:pat|ptt|dt|rt|cbt|oas|soat|ft|imt|agent)-[A-Za-z0-9_-]{20,255}") },
  { id: "npm-token", keywords: ["npm_"], re: cs("\\bnpm_[A-Za-z0-9]{30,255}") },
  { id: "stripe-key", keywords: ["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"], re: cs("\\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,255}|whsec_[A-Za-z0-9+/=]{16,255})") },
  { id: "huggingface-token", keywords: ["hf_"], re: cs("\\bhf_[A-Za-z0-9]{30,255}") },
  { id: "google-credential", keywords: ["ya29.", "aiza", "gocspx-"], re: cs("\\b(?:ya29\\.[A-Za-z0-9_-]{20,2048}|AIza[A-Za-z0-9_-]{30,255}|GOCSPX-[A-Za-z0-9_-]{24,255})") },
  { id: "sendgrid-key", keywords: ["sg."], re: cs("\\bSG\\.[A-Za-z0-9_-]{16,255}\\.[A-Za-z0-9_-]{16,255}") },
  { id: "aws-access-key-id", keywords: ["akia", "asia"], re: cs("\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b") },
  { id: "openai-anthropic-key", keywords: ["sk-"], re: cs("\\bsk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,255}") },
  { id: "jwt", keywords: ["eyj"], re: cs("\\beyJ[A-Za-z0-9_-]{8,4096}\\.[A-Za-z0-9_-]{8,4096}\\.[A-Za-z0-9_-]{8,4096}") },
  // base64 user id . timestamp . HMAC: no literal part, so a hint
  { id: "discord-bot-token", hint: "\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27}", re: cs("\\b[MNO][A-Za-z0-9_-]{23,27}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,255}") },
  // clawgate's own Telegram channel: <bot id>:AA<35>
  { id: "telegram-bot-token", keywords: [":aa"], re: cs("(?<!\\d)\\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])") },
  { id: "pypi-token", keywords: ["pypi-ageichlwas5vcmc"], re: cs("\\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1024}") },
  { id: "digitalocean-token", keywords: ["dop_v1_", "doo_v1_", "dor_v1_"], re: cs("\\bdo[opr]_v1_[a-f0-9]{64}") },
  { id: "sentry-token", keywords: ["sntrys_", "sntryu_"], re: cs("\\b(?:sntrys_eyJ[A-Za-z0-9+/=_-]{20,1024}|sntryu_[a-f0-9]{64})") },
  { id: "planetscale-token", keywords: ["pscale_"], re: cs("\\bpscale_(?:pw|tkn|oauth)_[A-Za-z0-9_.-]{32,64}") },
  { id: "rubygems-key", keywords: ["rubygems_"], re: cs("\\brubygems_[a-f0-9]{48}") },
  { id: "square-token", keywords: ["sq0atp-", "sq0csp-"], re: cs("\\bsq0(?:atp|csp)-[A-Za-z0-9_-]{22,64}") },
  { id: "atlassian-token", keywords: ["atatt3"], re: cs("\\bATATT3[A-Za-z0-9_=-]{100,512}") },
  { id: "doppler-token", keywords: ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."], re: cs("\\bdp\\.(?:pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40,44}") },
  { id: "brevo-key", keywords: ["xkeysib-"], re: cs("\\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}") },
  { id: "new-relic-key", keywords: ["nrak-"], re: cs("\\bNRAK-[A-Z0-9]{27}") },
  // --- webhook URLs are credentials in themselves
  { id: "slack-webhook", keywords: ["hooks.slack.com/"], re: rx("hooks\\.slack\\.com\\/(?:services|workflows|triggers)\\/(?<s>[A-Za-z0-9/_-]{8,512})") },
  { id: "discord-webhook", keywords: ["/api/webhooks/"], re: rx("discord(?:app)?\\.com\\/api\\/webhooks\\/\\d{1,30}\\/(?<s>[A-Za-z0-9_-]{8,512})") },
  // --- URLs: user:password@, a token as the whole user part, secrets in the query or fragment
  { id: "url-userinfo", keywords: ["@"], hint: ":\\/\\/[^\\s/]{0,600}@", re: rx("\\b[a-z][a-z0-9+.-]{0,20}:\\/\\/[^\\s:/@]{0,256}:(?<s>[^\\s@/]{1,256})@") },
  { id: "url-token-user", keywords: ["@"], hint: ":\\/\\/[^\\s/]{0,600}@", re: rx("\\b[a-z][a-z0-9+.-]{0,20}:\\/\\/(?<s>[A-Za-z0-9._~-]{20,256})@") },
  {
    id: "url-query-secret",
    keywords: ["token", "secret", "pass", "pwd", "key", "sig", "cred", "auth", "code", "sid", "session", "jwt"],
    hint: "[?&;#][a-z0-9_.-]{1,80}=",
    re: rx(`[?&;#](?:[a-z0-9_.-]{0,40}(?:token|secret|passw(?:or)?d|passphrase|pwd|apikey|api[-_]key|access[-_]?key|private[-_]?key|signature|credential|session|auth(?!or))[a-z0-9_.-]{0,40}|sig|key|code|pass|sid|jwt)(?<!${NOT_SECRET})=(?<s>[^&;?\\s#"'<>]{1,2048})`),
  },
  // --- headers and schemes (a name in quotes too: JSON headers)
  // `Bearer x` outside a header; capitalised and not a plain word ("basic authentication", ".../token KEY_FILE=…")
  { id: "auth-scheme", keywords: ["bearer", "basic", "token"], re: cs("\\b(?:[Bb]earer|Basic|Token)\\s+(?=[a-z]{0,4096}[A-Z0-9._~+/=-])(?<s>[A-Za-z0-9._~+/=-]{8,4096})") },
  { id: "authorization-header", keywords: ["authorization"], re: rx(`\\b(?:proxy-)?authorization["']?[ \\t]*[:=][ \\t]*["']?(?:(?:Bearer|Basic|Digest|Token|Bot|Negotiate|NTLM|OAuth|ApiKey|SSWS|AWS4-HMAC-SHA256|[A-Za-z][A-Za-z0-9_-]{0,30})[ \\t]+(?=[^\\s"']))?${HEADER_VALUE}`) },
  { id: "cookie-header", keywords: ["cookie"], re: rx(`\\b(?:set-)?cookie["']?[ \\t]*:[ \\t]*["']?${HEADER_VALUE}`) },
  { id: "key-header", keywords: ["-key"], re: rx(`\\b[A-Za-z0-9-]{0,60}-key["']?[ \\t]*:[ \\t]*["']?${HEADER_VALUE}`) },
  // --- name = value in env files, shells, YAML, JSON, TOML, code, connection strings
  {
    id: "secret-assignment",
    keywords: [...STRONG_KEYWORDS, ...WEAK_KEYWORDS],
    re: rx(`${NAME}(?<!${NOT_SECRET})["']?[ \\t]*(?:[:=]=?|=>)[ \\t]*${value("", 3)}`),
  },
  { id: "xml-secret", keywords: STRONG_KEYWORDS, re: rx(`<(?<n>[A-Za-z0-9_.:-]{0,40}(?:${STRONG})[A-Za-z0-9_.:-]{0,40})(?:\\s[^>]{0,256})?>(?<s>[^<]{1,1024})<\\/\\k<n>\\s*>`) },
  { id: "xml-key-value", keywords: ["value="], re: rx(`\\bkey=["'][A-Za-z0-9_.:-]{0,40}(?:${STRONG})[A-Za-z0-9_.:-]{0,40}["'][ \\t]+value=["'](?<s>[^"'\\n]{1,512})["']`) },
  // --- options: `--password x`, and tools that take a secret as the next word
  { id: "secret-option", keywords: [...STRONG_KEYWORDS, "auth"], re: rx(`(?:^|[^A-Za-z0-9_-])--?[A-Za-z0-9_-]{0,40}(?:${OPTION})\\s+(?!-)${value("", 3)}`) },
  { id: "config-set", keywords: ["config"], re: rx(`\\bconfig(?:ure)?[ \\t]+(?:set[ \\t]+)?(?:--?[A-Za-z0-9-]+[ \\t]+){0,4}["']?[A-Za-z0-9_.:/@-]{0,100}(?:${OPTION}|pwd|key|pat)["']?[ \\t]+${value("")}`) },
  { id: "netrc", keywords: ["machine"], re: rx(`\\bmachine\\s+\\S{1,256}\\s+login\\s+\\S{1,256}\\s+password\\s+${value("")}`) },
  { id: "redis-password", keywords: ["requirepass", "masterauth"], re: rx(`\\b(?:requirepass|masterauth)[ \\t]+${value("")}`) },
  // curl -u user:pw, --user=user:pw, --proxy-user; --auth user:pw (HTTPie, xh)
  {
    id: "cli-user-password",
    keywords: ["-u", "--auth"],
    hint: "(?:-u|--user|--proxy-user|--auth)[= \\t]{0,8}[\"']?[^\\s:/\"']{1,256}:",
    re: cs(`(?<![A-Za-z0-9_-])(?:-u(?:=|[ \\t]*)|(?:--user|--proxy-user|--auth)(?:=|[ \\t]+))["']?[^\\s:/"']{1,256}:(?!\\/\\/)${value("")}`),
  },
  { id: "httpie-auth", keywords: ["http", "xh"], ...scoped("https?|xhs?", `\\s-a[ \\t]*["']?[^\\s:/"']{1,256}:`, `(?!\\/\\/)${value("")}`), hint: "\\s-a[ \\t]*[\"']?[^\\s:/\"']{1,256}:" },
  { id: "mysql-password", keywords: ["mysql", "mariadb"], ...scoped("mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlpump|mysqlsh|mysqlslap|mariadb|mariadb-dump|mariadb-admin", "\\s-p", value("")) },
  { id: "sshpass", keywords: ["sshpass"], re: cs(`\\bsshpass(?:[ \\t]+-(?:[fdP][ \\t]*\\S{1,256}|e\\S{0,64}|v))*[ \\t]+-p[ \\t]*${value("")}`) },
  { id: "redis-cli-password", keywords: ["redis-cli"], ...scoped("redis-cli", "\\s(?:-a|--pass)(?:=|[ \\t]+)", value("")) },
  { id: "redis-cli-auth", keywords: ["redis-cli"], ...scoped("redis-cli", "\\s(?:AUTH|auth)[ \\t]+", `${value("1")}(?:[ \\t]+${value("2")})?`) },
  { id: "openssl-pass", keywords: ["pass:"], re: cs(`(?<![A-Za-z0-9_-])-pass(?:in|out)?[ \\t]+pass:${value("")}`) },
  { id: "openssl-enc-key", keywords: ["openssl"], ...scoped("openssl", "\\s-k[ \\t]+", value("")) },
  // htpasswd -b [other flags] [file] user password: the password is the last word
  {
    id: "htpasswd",
    keywords: ["htpasswd"],
    re: cs(`\\bhtpasswd(?=(?:[ \\t]+-[A-Za-z]{1,8}){0,7}[ \\t]+-[A-Za-z]{0,7}b)(?:[ \\t]+-[A-Za-z]{1,8}){1,8}(?:[ \\t]+[^\\s-]\\S{0,255}){1,2}[ \\t]+${value("")}`),
  },
  // docker, podman, helm registry, oc, az, cf … login -p
  { id: "login-password", keywords: ["login"], ...scoped("login", "\\s-p(?:=|[ \\t]+)", value("")) },
  { id: "vault-login", keywords: ["vault"], re: cs(`\\bvault[ \\t]+login(?:[ \\t]+-\\S{1,256})*[ \\t]+(?<s>[^\\s=\\-"'][^\\s="']{0,511})(?=\\s|$)`) },
  { id: "gh-secret-body", keywords: ["secret"], ...scoped("gh[ \\t]+secret[ \\t]+set", "\\s(?:-b|--body)", `(?![\\w-])(?:=|[ \\t]*)${value("")}`) },
  { id: "ssh-keygen-passphrase", keywords: ["ssh-keygen"], ...scoped("ssh-keygen", "\\s-[NP][ \\t]*", value("")) },
  { id: "zip-password", keywords: ["zip"], ...scoped("zip|unzip|zipcloak", "\\s-P[ \\t]*", value("")) },
  { id: "7z-rar-password", keywords: ["7z", "rar"], ...scoped("7z|7za|7zr|7zz|rar|unrar", "\\s-h?p", value("")) },
  { id: "smb-user-password", keywords: ["%"], hint: "(?:-u|--user(?:name)?)(?:=|[ \\t]*)[\"']?[^\\s%\"']{1,256}%", ...scoped("smbclient|rpcclient|smbcacls|smbget|smbmap|net|crackmapexec|nxc|netexec", `\\s(?:-U|--user(?:name)?)(?:=|[ \\t]*)["']?[^\\s%"']{1,256}%`, value("")) },
  { id: "ldap-password", keywords: ["ldap"], ...scoped("ldap[a-z]{0,20}", "\\s-w[ \\t]*", value("")) },
  { id: "mongo-password", keywords: ["mongo"], ...scoped("mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport|mongostat|mongotop|mongofiles", "\\s-p(?:=|[ \\t]+)", value("")) },
  { id: "mssql-password", keywords: ["sqlcmd", "bcp", "osql", "isql"], ...scoped("sqlcmd|bcp|osql|isql", "\\s-P[ \\t]*", value("")) },
  // curl reads a -b value without `=` as a cookie file
  { id: "curl-cookie", keywords: ["-b", "--cookie"], ...scoped("curl", "\\s(?:-b|--cookie)", `(?![\\w-])(?:=|[ \\t]*)(?=["']?[^\\s"'=]{0,256}=)${value("")}`) },
];
