import { describe, expect, it } from "vitest";
import { REDACTED, redactText, secretRuleIds } from "../../src/redact/redact.ts";
import { CLAWGATE_RULES } from "../../src/redact/secret-rules.ts";
import { SECRETLINT_GATES, SECRETLINT_RULE_IDS } from "../../src/redact/secretlint.ts";

/** `n` characters of a token alphabet, never a word a rule could key on. */
const tok = (n: number): string => "Zq8sT3vX7wB2nM4kR6yH9cJ5dF1gL0pQ".repeat(Math.ceil(n / 32)).slice(0, n);
const hex = (n: number): string => "0123456789abcdef".repeat(Math.ceil(n / 16)).slice(0, n);
const PW = "Zq8sT3cr3tV4lue";

/** A 1Password service account token: ops_ + base64 of a JSON object (padded to end in `fQ==`). */
function onePasswordToken(): string {
  let json = JSON.stringify({ email: "svc@1passwordserviceaccounts.lcl", secretKey: `A3-${tok(30)}`, srpX: hex(64), signInAddress: "acme.1password.com" });
  while (json.length % 3 !== 1) json = json.replace("{", "{ ");
  return `ops_${Buffer.from(json).toString("base64")}`;
}

/** [rule id, text, the secret in it]: each clawgate rule on a shape only it is there for. */
const CLAWGATE_CASES: Array<[string, string, string]> = [
  ["private-key-block", `-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE${tok(40)}\n-----END EC PRIVATE KEY-----`, tok(40)],
  ["putty-private-key", `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 1\nAAAAC3Nza\nPrivate-Lines: 1\nAAAAI${tok(40)}\nPrivate-MAC: ${hex(64)}`, tok(40)],
  ["age-secret-key", `AGE-SECRET-KEY-1${"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L".repeat(2).slice(0, 58)}`, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"],
  ["slack-token", `SLACK=xoxe.xoxp-1-${tok(40)}`, tok(40)],
  ["github-token", `git remote set-url origin x ghu_${tok(36)}`, `ghu_${tok(36)}`],
  ["gitlab-token", `glrt-${tok(20)}`, `glrt-${tok(20)}`],
  ["npm-token", `echo npm_${tok(36)}`, `npm_${tok(36)}`],
  ["stripe-key", `stripe listen --forward-to x whsec_${tok(32)}`, tok(32)],
  ["huggingface-token", `huggingface-cli login hf_${tok(34)}`, `hf_${tok(34)}`],
  ["google-credential", `client GOCSPX-${tok(28)}`, tok(28)],
  ["sendgrid-key", `SG.${tok(22)}.${tok(43)}`, tok(43)],
  ["aws-access-key-id", "aws sts get-caller-identity # AKIAQWERTYUIOPASDFGH", "AKIAQWERTYUIOPASDFGH"],
  ["openai-anthropic-key", `llm -k sk-svcacct-${tok(40)}`, tok(40)],
  ["jwt", `curl -d eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.${tok(43)} x`, tok(43)],
  ["discord-bot-token", `MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.${tok(38)}`, tok(38)],
  ["telegram-bot-token", `curl https://api.telegram.org/bot123456789:AA${tok(33)}/getMe`, tok(33)],
  ["pypi-token", `twine upload -p pypi-AgEIcHlwaS5vcmc${tok(60)} dist/*`, tok(60)],
  ["digitalocean-token", `doctl auth init -t dop_v1_${hex(64)}`, hex(64)],
  ["sentry-token", `SENTRY=sntryu_${hex(64)}`, hex(64)],
  ["planetscale-token", `pscale_tkn_${tok(43)}`, tok(43)],
  ["rubygems-key", `gem push x rubygems_${hex(48)}`, hex(48)],
  ["square-token", `sq0atp-${tok(22)}`, tok(22)],
  ["atlassian-token", `ATATT3${tok(120)}`, tok(120)],
  ["doppler-token", `doppler run -t dp.st.${tok(43)}`, tok(43)],
  ["brevo-key", `xkeysib-${hex(64)}-${tok(16)}`, hex(64)],
  ["new-relic-key", "NRAK-QWERTYUIOPASDFGHJKLZXCVBNM1", "QWERTYUIOPASDFGHJKLZXCVBNM1"],
  ["slack-webhook", `curl -X POST https://hooks.slack.com/triggers/T0/${tok(24)}`, tok(24)],
  ["discord-webhook", `curl https://discordapp.com/api/webhooks/1234/${tok(60)}`, tok(60)],
  ["url-userinfo", `pip install git+https://ci:${PW}@git.acme.io/lib.git`, PW],
  ["url-token-user", `git clone https://${tok(40)}@git.acme.io/lib.git`, tok(40)],
  ["url-query-secret", `curl 'https://api.acme.io/v2/items?limit=5&private_token=${PW}'`, PW],
  ["auth-scheme", `http https://x Authorization:'Token ${PW}'`, PW],
  ["authorization-header", `curl -H 'Proxy-Authorization: Negotiate ${PW}' https://x`, PW],
  ["cookie-header", `wget --header="Cookie: _gh_sess=${PW}" https://x`, PW],
  ["key-header", `curl -H 'X-Functions-Key: ${PW}' https://fn.acme.io`, PW],
  ["secret-assignment", `export DEPLOY_PAT=${PW}`, PW],
  ["xml-secret", `<ClientSecret>${PW}</ClientSecret>`, PW],
  ["xml-key-value", `<add key="SmtpPassword" value="${PW}" />`, PW],
  ["secret-option", `vercel deploy --token ${PW}`, PW],
  ["config-set", `git config --global github.token ${PW}`, PW],
  ["netrc", `machine api.acme.io login ci password ${PW}`, PW],
  ["redis-password", `CONFIG SET masterauth ${PW}`, PW],
  ["cli-user-password", `curl --proxy-user proxy:${PW} https://x`, PW],
  ["httpie-auth", `https -a bob:${PW} POST api.acme.io/items`, PW],
  ["mysql-password", `mariadb-dump -uroot -p${PW} shop`, PW],
  ["sshpass", `sshpass -v -p '${PW}' rsync -a src/ host:/dst`, PW],
  ["redis-cli-password", `redis-cli -h cache -p 6380 -a ${PW} info`, PW],
  ["redis-cli-auth", `redis-cli auth ${PW}`, PW],
  ["openssl-pass", `openssl rsa -in k.pem -passin pass:${PW}`, PW],
  ["openssl-enc-key", `openssl enc -d -aes-256-cbc -k ${PW} -in x.enc`, PW],
  ["htpasswd", `htpasswd -B -b /etc/nginx/.htpasswd alice ${PW}`, PW],
  ["login-password", `podman login -u bob -p ${PW} quay.io`, PW],
  ["vault-login", `vault login -no-print s.${tok(24)}`, tok(24)],
  ["gh-secret-body", `gh secret set DEPLOY_KEY -b ${PW}`, PW],
  ["ssh-keygen-passphrase", `ssh-keygen -p -P ${PW} -N newpass1 -f id`, PW],
  ["zip-password", `unzip -P ${PW} backup.zip`, PW],
  ["7z-rar-password", `rar a -hp${PW} out.rar dir`, PW],
  ["smb-user-password", `rpcclient -U 'bob%${PW}' fileserver`, PW],
  ["ldap-password", `ldapmodify -x -D cn=admin -w ${PW} -f change.ldif`, PW],
  ["mongo-password", `mongodump -u backup -p ${PW} --out /tmp/dump`, PW],
  ["mssql-password", `bcp dbo.t out t.dat -S db -U sa -P ${PW}`, PW],
  ["curl-cookie", `curl --cookie "sid=${PW}" https://x`, PW],
];

/** One text per rule of secretlint's recommended preset that reads text. */
const SECRETLINT_CASES: Record<string, [string, string]> = {
  aws: ['aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQWERTYKEY"', "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQWERTYKEY"],
  npm: [`npm_${tok(36)}`, tok(36)],
  slack: [`xoxb-123456789012-1234567890123-${tok(24)}`, tok(24)],
  basicauth: [`https://alice:${PW}@git.internal.io/repo.git`, PW],
  openai: [`sk-${tok(20)}T3BlbkFJ${tok(20)}`, "T3BlbkFJ"],
  anthropic: [`sk-ant-api03-${tok(95)}AA`, tok(95)],
  groq: [`gsk_${tok(52)}`, tok(52)],
  huggingface: ["hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "abcdefghijklmnopqrstuvwxyzABCDEFGH"],
  linear: [`lin_api_${tok(40)}`, tok(40)],
  notion: [`ntn_12345678901${tok(35)}`, tok(35)],
  privatekey: [`-----BEGIN RSA PRIVATE KEY-----\nMIIEow${tok(120)}\n-----END RSA PRIVATE KEY-----`, tok(120)],
  sendgrid: [`SG.${tok(22)}.${tok(43)}`, tok(43)],
  shopify: [`shpat_${hex(32)}`, hex(32)],
  github: [`ghp_${tok(36)}`, tok(36)],
  gitlab: [`glpat-${tok(20)}`, tok(20)],
  grafana: [`glsa_${tok(32)}_${hex(8)}`, tok(32)],
  "1password": [onePasswordToken(), onePasswordToken().slice(4)],
  "database-connection-string": [`mongodb+srv://app:${PW}@cluster0.mongodb.net/db`, PW],
  "hashicorp-vault": [`hvs.${tok(95)}`, tok(95)],
  vercel: [`vcp_${tok(40)}`, tok(40)],
  databricks: [`dapi${hex(32)}`, hex(32)],
  docker: [`dckr_pat_${tok(27)}`, tok(27)],
  figma: [`figd_${tok(43)}`, tok(43)],
};

describe("every rule family, alone", () => {
  it.each(CLAWGATE_CASES)("%s", (id, text, secret) => {
    expect(secretRuleIds(text)).toContain(id);
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it.each(Object.entries(SECRETLINT_CASES))("secretlint %s", (name, [token, secret]) => {
    const text = `see ${token} here`;
    expect(secretRuleIds(text)).toContain(`@secretlint/secretlint-rule-${name}`);
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toMatch(/^see .*\[REDACTED\].* here$/);
  });

  it("provider tokens only the preset knows are found through it", () => {
    for (const name of ["groq", "linear", "notion", "shopify", "grafana", "1password", "hashicorp-vault", "vercel", "databricks", "docker", "figma"]) {
      const [token] = SECRETLINT_CASES[name] as [string, string];
      const ids = secretRuleIds(`x ${token}`);
      expect(ids.filter((id) => !id.startsWith("@secretlint/")), name).toEqual([]);
      expect(redactText(`export TOKEN_${name.length} ${token}`)).toBe(`export TOKEN_${name.length} ${REDACTED}`);
    }
  });

  it("every clawgate rule and every text-reading preset rule has a case here", () => {
    expect(new Set(CLAWGATE_CASES.map(([id]) => id))).toEqual(new Set(CLAWGATE_RULES.map((r) => r.id)));
    const reading = SECRETLINT_RULE_IDS.filter((id) => SECRETLINT_GATES[id] !== null);
    expect(new Set(Object.keys(SECRETLINT_CASES).map((n) => `@secretlint/secretlint-rule-${n}`))).toEqual(new Set(reading));
  });
});

describe("the maintained rule set", () => {
  it("every scanner rule of the installed preset has a gate, and every gate a rule (an upgrade that adds one fails here)", () => {
    expect(SECRETLINT_RULE_IDS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(Object.keys(SECRETLINT_GATES))).toEqual(new Set(SECRETLINT_RULE_IDS));
  });

  it("a secretlint-disable comment does not switch redaction off", () => {
    const text = `// secretlint-disable\nconst t = "ghp_${tok(36)}";\n// secretlint-enable`;
    expect(redactText(text)).not.toContain(tok(36));
  });

  it("a preset range that stops inside the key (secretlint-rule-aws) is widened to the whole key", () => {
    const key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQWERTYKEY";
    expect(redactText(`"AWS_SECRET_ACCESS_KEY": "${key}"`)).toBe(`"AWS_SECRET_ACCESS_KEY": "${REDACTED}"`);
    expect(redactText(`Aws_Secret_Access_Key => '${key}'`)).toBe(`Aws_Secret_Access_Key => '${REDACTED}'`);
  });

  it("a preset range around a whole URL gives way to clawgate's exact range inside it", () => {
    expect(redactText(`git clone https://alice:${PW}@git.internal.io/repo.git`)).toBe(`git clone https://alice:${REDACTED}@git.internal.io/repo.git`);
    expect(redactText(`psql postgresql://app:${PW}@db.internal:5432/shop`)).toBe(`psql postgresql://app:${REDACTED}@db.internal:5432/shop`);
  });

  it("a preset-only token keeps what surrounds it", () => {
    expect(redactText(`LINEAR_API=lin_api_${tok(40)} node sync.js`)).toBe(`LINEAR_API=${REDACTED} node sync.js`);
  });
});

describe("cost", () => {
  it("stays linear when a text repeats what a rule starts on (params may be megabytes)", () => {
    const hostile = [
      `mysql${" -p".repeat(60_000)}`,
      `${"mysql ".repeat(30_000)}-p${PW}`,
      `redis-cli${" -a".repeat(60_000)}`,
      `htpasswd${" -b".repeat(60_000)}`,
      "Private-Lines: 1\n".repeat(10_000),
      `${"-----BEGIN PRIVATE KEY-----".repeat(8_000)}`,
      "a_key=".repeat(30_000),
      `https://${"a".repeat(200_000)}@`,
      `ops_ey${"A".repeat(200_000)}`,
      ("M" + "a".repeat(25) + ".abcdef.").repeat(6_000),
    ];
    const started = performance.now();
    for (const text of hostile) redactText(text);
    // A generous bound that only a quadratic pattern would exceed (each is ~0.2 MB).
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
