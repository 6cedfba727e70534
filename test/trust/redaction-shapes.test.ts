import { describe, expect, it } from "vitest";
import { makeCorpus } from "../../bench/corpus.ts";
import { containsSecret, REDACTED, redact, redactText } from "../../src/redact/redact.ts";

const S = "Zq8sT3cr3tV4lue";

/** [text, exactly what must be shown instead]. */
const SHAPES: Array<[string, string]> = [
  // mysql and friends: -p<secret> (attached), --password=
  [`mysql -uroot -p${S} app`, `mysql -uroot -p${REDACTED} app`],
  [`mysqldump -h db -u app -p'${S}' app > dump.sql`, `mysqldump -h db -u app -p'${REDACTED}' app > dump.sql`],
  [`mysql --password=${S} -e 'select 1'`, `mysql --password=${REDACTED} -e 'select 1'`],
  [`/usr/bin/mysqladmin -u root -p"${S}" status`, `/usr/bin/mysqladmin -u root -p"${REDACTED}" status`],
  // sshpass -p X, redis-cli -a X / --pass X, gpg --passphrase X
  [`sshpass -p ${S} ssh deploy@host uptime`, `sshpass -p ${REDACTED} ssh deploy@host uptime`],
  [`sshpass -p${S} scp a host:/b`, `sshpass -p${REDACTED} scp a host:/b`],
  [`redis-cli -h 10.0.0.5 -a ${S} --no-auth-warning ping`, `redis-cli -h 10.0.0.5 -a ${REDACTED} --no-auth-warning ping`],
  [`redis-cli --user app --pass ${S} get k`, `redis-cli --user app --pass ${REDACTED} get k`],
  [`gpg --batch --passphrase ${S} -d secrets.gpg`, `gpg --batch --passphrase ${REDACTED} -d secrets.gpg`],
  [`gpg --passphrase=${S} -c notes.txt`, `gpg --passphrase=${REDACTED} -c notes.txt`],
  // Azure connection strings
  [`DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${S}+a/b==;EndpointSuffix=core.windows.net`, `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${REDACTED};EndpointSuffix=core.windows.net`],
  [`Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=${S}=`, `Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=${REDACTED}`],
  // Cookie and Set-Cookie headers
  [`curl -H "Cookie: session=${S}; theme=dark" https://x`, `curl -H "Cookie: ${REDACTED}" https://x`],
  [`Set-Cookie: sid=${S}; Path=/; HttpOnly`, `Set-Cookie: ${REDACTED}`],
  // secrets in URL queries
  [`curl 'https://api.example.com/v1/x?auth=${S}&page=2'`, `curl 'https://api.example.com/v1/x?auth=${REDACTED}&page=2'`],
  [`curl https://x.io/feed?token=${S}`, `curl https://x.io/feed?token=${REDACTED}`],
  [`wget "https://x.io/a?api_key=${S}"`, `wget "https://x.io/a?api_key=${REDACTED}"`],
  [`https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sig=${S}`, `https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sig=${REDACTED}`],
  // PGP private key blocks
  [`-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGX${S}\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----`, REDACTED],
  // env names
  [`export GITHUB_PAT=${S}`, `export GITHUB_PAT=${REDACTED}`],
  [`MYSQL_PWD=${S} mysql -u root`, `MYSQL_PWD=${REDACTED} mysql -u root`],
  [`PGPASSWORD=${S} psql -h db`, `PGPASSWORD=${REDACTED} psql -h db`],
  [`export STRIPE_SECRET=${S}`, `export STRIPE_SECRET=${REDACTED}`],
  [`SLACK_BOT_TOKEN=${S} node bot.js`, `SLACK_BOT_TOKEN=${REDACTED} node bot.js`],
  [`export OPENAI_KEY=${S}`, `export OPENAI_KEY=${REDACTED}`],
  [`REDISCLI_AUTH=${S} redis-cli`, `REDISCLI_AUTH=${REDACTED} redis-cli`],
  // option values
  [`deploy --token ${S}`, `deploy --token ${REDACTED}`],
  [`tool --api-key ${S}`, `tool --api-key ${REDACTED}`],
  [`tool -password ${S}`, `tool -password ${REDACTED}`],
  [`keytool -importkeystore -storepass ${S} -srckeystore a.p12`, `keytool -importkeystore -storepass ${REDACTED} -srckeystore a.p12`],
  [`curl -u admin:${S} https://x`, `curl -u admin:${REDACTED} https://x`],
  [`curl -H 'Authorization: Bearer ${S}' https://x`, `curl -H 'Authorization: Bearer ${REDACTED}' https://x`],
  [`curl -H "Authorization: ${S}" https://api.linear.app`, `curl -H "Authorization: ${REDACTED}" https://api.linear.app`],
];

/** New spellings of the same classes, as an agent would write them. */
const INVENTED: Array<[string, string]> = [
  [`openssl pkcs12 -export -passout pass:${S} -out a.p12`, `openssl pkcs12 -export -passout pass:${REDACTED} -out a.p12`],
  [`htpasswd -bc .htpasswd alice ${S}`, `htpasswd -bc .htpasswd alice ${REDACTED}`],
  [`docker login -u bob -p ${S} registry.io`, `docker login -u bob -p ${REDACTED} registry.io`],
  [`gh secret set API_TOKEN --body ${S}`, `gh secret set API_TOKEN --body ${REDACTED}`],
  [`ssh-keygen -t ed25519 -N '${S}' -f key`, `ssh-keygen -t ed25519 -N '${REDACTED}' -f key`],
  [`7z a -p${S} out.7z dir`, `7z a -p${REDACTED} out.7z dir`],
  [`smbclient //fs/share -U 'CORP\\bob%${S}'`, `smbclient //fs/share -U 'CORP\\bob%${REDACTED}'`],
  [`ldapsearch -x -D cn=admin -w ${S} -b dc=x`, `ldapsearch -x -D cn=admin -w ${REDACTED} -b dc=x`],
  [`sqlcmd -S db -U sa -P ${S} -Q "select 1"`, `sqlcmd -S db -U sa -P ${REDACTED} -Q "select 1"`],
  [`redis-cli -h cache AUTH app ${S}`, `redis-cli -h cache AUTH ${REDACTED} ${REDACTED}`],
  [`aws configure set aws_secret_access_key ${S}`, `aws configure set aws_secret_access_key ${REDACTED}`],
  [`npm config set //registry.npmjs.org/:_authToken ${S}`, `npm config set //registry.npmjs.org/:_authToken ${REDACTED}`],
  [`machine api.example.com login bob password ${S}`, `machine api.example.com login bob password ${REDACTED}`],
  [`<password>${S}</password>`, `<password>${REDACTED}</password>`],
  [`{"password": "${S}", "user": "bob"}`, `{"password": "${REDACTED}", "user": "bob"}`],
  [`password := "${S}"`, `password := "${REDACTED}"`],
  [`'api_key' => '${S}'`, `'api_key' => '${REDACTED}'`],
  [`curl -H 'Ocp-Apim-Subscription-Key: ${S}' https://x`, `curl -H 'Ocp-Apim-Subscription-Key: ${REDACTED}' https://x`],
  [`https://app.example.com/cb#access_token=${S}&state=1`, `https://app.example.com/cb#access_token=${REDACTED}&state=1`],
  [`curl "https://legacy.example.com/app;jsessionid=0A1B2C3D4E5F?sid=${S}&client_id=web"`, `curl "https://legacy.example.com/app;jsessionid=${REDACTED}?sid=${REDACTED}&client_id=web"`],
  [`http -a bob:${S} GET https://x`, `http -a bob:${REDACTED} GET https://x`],
  [`echo ${S} | docker login --username bob --password ${S}`, `echo ${S} | docker login --username bob --password ${REDACTED}`],
];

describe("shapes that carry a secret", () => {
  it.each(SHAPES)("%j", (text, shown) => {
    expect(redactText(text)).toBe(shown);
    expect(containsSecret(text)).toBe(true);
  });

  it.each(INVENTED)("%j", (text, shown) => {
    expect(redactText(text)).toBe(shown);
  });

  it("objects: values under secret-named keys go whole, and their strings are scanned too", () => {
    const out = redact({ env: { MYSQL_PWD: "x1", GITHUB_PAT: "x2", ACCOUNT_KEY: "x3", passphrase: "x4" }, args: [`sshpass -p ${S} ssh h`] });
    expect(out).toEqual({ env: { MYSQL_PWD: REDACTED, GITHUB_PAT: REDACTED, ACCOUNT_KEY: REDACTED, passphrase: REDACTED }, args: [`sshpass -p ${REDACTED} ssh h`] });
  });
});

describe("ordinary agent text is left alone", () => {
  const ORDINARY = [
    "git log --oneline -20",
    "git checkout -b feature/login-page",
    "git config --global user.name \"Bob\"",
    "git config credential.helper store",
    "git config --get remote.origin.url",
    "git commit -m \"fix: password reset flow\"",
    "git commit -m \"rotate the api token\"",
    "npm install --save-dev typescript",
    "npm config get registry",
    "npm run test -- --coverage",
    "yarn config set registry https://registry.npmjs.org",
    "ls -la ~/.ssh",
    "grep -rn \"password\" src/",
    "grep -rn token src | head",
    "find . -name \"*.key\" -type f",
    "cat ~/.ssh/id_rsa.pub",
    "ssh-keygen -t ed25519 -C me@example.com",
    "ssh -p 2222 deploy@host",
    "scp -P 2222 file deploy@host:/tmp",
    "docker run -p 8080:80 nginx",
    "docker login registry.example.com",
    "mkdir -p build/out",
    "mysql -u root -p",
    "mysql -h db -P 3306 -u app shop",
    "psql -h localhost -U postgres",
    "redis-cli -h 127.0.0.1 ping",
    "redis-cli --scan --pattern 'session:*'",
    "kubectl get secrets -n prod",
    "echo $API_KEY",
    "export PATH=$PATH:/usr/local/bin",
    "curl -sSL https://example.com/install.sh -o install.sh",
    "curl -b cookies.txt -c cookies.txt https://example.com",
    "openssl x509 -in cert.pem -noout -text",
    "gpg --list-keys",
    "sort -u names.txt",
    "sudo -u deploy systemctl restart app",
    "env | grep -i path",
    "python3 -m http.server 8000",
    "http GET https://api.example.com/items",
    "zip -r out.zip dist",
    "7z x archive.7z",
    "mongosh --port 27017",
    "sqlcmd -S localhost -Q \"select 1\"",
    "ldapsearch -x -b dc=example,dc=com",
    "vault status",
    "gh secret list",
    "aws s3 ls s3://bucket/path/",
    "cp .env.example .env",
    "echo \"the token expired, the password was wrong\"",
    "cat README.md | grep -i author",
    "tests: 41 passed, 0 failed",
    "export SECRET_NAME=db-creds TOKEN_URL=https://auth.example.com/token KEY_FILE=/etc/app/key.pem",
  ];

  it.each(ORDINARY)("%j", (text) => {
    expect(redactText(text)).toBe(text);
    expect(containsSecret(text)).toBe(false);
  });

  it("none of 5,000 never-seen lines of the bench corpus", () => {
    const changed = makeCorpus(5_000, 41).filter((line) => redactText(line) !== line);
    expect(changed).toEqual([]);
  });
});
