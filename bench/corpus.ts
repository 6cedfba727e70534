/**
 * Realistic, never-repeated shell lines as agents send them: pipelines, `&&`/`||` chains,
 * quoting, `$(…)`, variables, redirections, wrappers, comments, 20–300 characters, plus a
 * share of harder constructs (heredocs, subshells, loops, functions, braces, `$'…'`).
 * Seeded, so the bench and the differential test see the same lines.
 */

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PROGRAMS: Record<string, string[]> = {
  git: ["status", "diff", "log --oneline -20", "push origin main", "pull --rebase", "checkout -b feature/x", "add -A", "commit -m", "rev-parse HEAD", "stash", "branch -a", "fetch --all"],
  npm: ["test", "run build", "ci", "install", "run lint --", "publish", "view react version"],
  pnpm: ["install", "-r test", "build", "add -D vitest"],
  docker: ["ps", "build -t app:latest .", "push app", "compose up -d", "logs -f web", "run --rm -it alpine sh"],
  kubectl: ["get pods -n prod", "describe pod web-1", "logs deploy/web", "apply -f k8s/", "delete pod web-2", "rollout restart deploy/web"],
  terraform: ["plan", "apply -auto-approve", "init -upgrade", "destroy"],
  cargo: ["test", "build --release", "clippy -- -D warnings"],
  go: ["build ./...", "test ./...", "vet ./..."],
  python3: ["-m pytest -q", "manage.py migrate", "scripts/run.py --dry-run", "-c"],
  curl: ["-fsSL https://get.example.com", "-s https://api.example.com/v1/items", "-X POST https://hooks.example.com/x"],
  rm: ["-rf /tmp/build", "-f dist/app.js", "-rf node_modules", "-rf /"],
  ls: ["-la", "-1 src", "dist"],
  cat: ["package.json", "README.md", "/etc/hosts", ".env"],
  grep: ["-rn TODO src", "-v '^#'", "-E 'error|warn'", "-c foo"],
  sed: ["-n '1,20p'", "-i 's/foo/bar/g' file.txt", "-e 's/a/b/'"],
  awk: ["'{print $2}'", "-F: '{print $1}'", "'NR>1'"],
  find: [". -name '*.tmp'", "src -type f -name '*.ts'", ". -mtime +7"],
  make: ["-j8", "test", "clean all"],
  chmod: ["+x scripts/run.sh", "600 ~/.ssh/id_rsa"],
  tar: ["-czf out.tgz dist", "-xzf pkg.tgz -C /tmp"],
  jq: ["'.items[] | .name'", "-r .version package.json"],
  echo: ["done", "'hello world'", '"building $NAME"', "ok"],
  wc: ["-l", "-c README.md"],
  head: ["-n 20", "-5"],
  sort: ["-u", "-n -r"],
  xargs: ["-I{} wc -l {}", "rm -f", "-n1 echo"],
  sudo: ["systemctl restart app", "-u deploy ls /srv", "apt-get install -y jq"],
  env: ["CI=1 npm test", "NODE_ENV=production node server.js"],
  timeout: ["60 npm test", "5 curl -s https://example.com"],
  bash: ["-c 'npm ci && npm run build'", "-c 'rm -rf /tmp/x'", "scripts/deploy.sh"],
  ssh: ["deploy@host 'systemctl status app'", "-i key.pem ubuntu@10.0.0.1 uptime"],
  rsync: ["-avz dist/ deploy@host:/srv/app/"],
  psql: ["-c 'select count(*) from users'"],
  "redis-cli": ["ping", "info memory", "--scan"],
  node: ["scripts/build.js", "-e 'console.log(1)'", "--version"],
};

const NAMES = Object.keys(PROGRAMS);
const WORDS = ["src", "dist", "out.log", "/tmp/x", "./build", "README.md", "a.txt", "config.yaml", "*.ts", "lib/**/*.js", "--verbose", "-q", "--force", "main", "HEAD~1", "v1.2.3", "user@example.com", "key=value", "~/repo", "100%", "a,b,c", "my\\ file.txt", "\\$HOME", "{}", "x{1}", "\\*.log", "a\\;b", "{a,b}.ts"];
const QUOTED = ["'hello world'", '"some text"', "'a|b'", '"x && y"', "'$HOME'", '"$HOME/x"', "\"it's\"", "'semi;colon'", '"a > b"', "'#not-a-comment'", '"${USER}"', '"say \\"hi\\""', '"a\\$b \\x"', "'back\\slash'"];
const SUBST = ["$(git rev-parse --short HEAD)", "$(date +%s)", "\"$(pwd)\"", "$(cat VERSION)", "$(ls | wc -l)", "$(whoami)", "\"$(git branch --show-current)\"", "$(echo $(id -u))"];
const REDIR = ["> out.log", "2>&1", ">> build.log", "2>/dev/null", "< input.txt", "> /dev/null 2>&1", ">&2", "1>/tmp/o.txt"];
const HARD = [
  "for f in src/*.ts; do npx tsc --noEmit \"$f\"; done",
  "if [ -f package.json ]; then npm install; fi",
  "cat <<'EOF' > config.json\n{\"a\": 1}\nEOF",
  "(cd sub && make)",
  "find . -name '*.tmp' -exec rm -f {} \\;",
  "echo `date`",
  "cp src/{a,b}.ts /tmp/",
  "X=1 npm test",
  "export PATH=$PATH:/opt/bin",
  "while read l; do echo \"$l\"; done < list.txt",
  "diff <(sort a) <(sort b)",
  "echo ${HOME:-/root}",
  "{ echo a; echo b; } > both.txt",
  "npm test &",
  "echo $'\\x72m'",
  "f() { rm -rf \"$1\"; }; f /",
  "echo $((1+2))",
  "case $x in a) echo a;; esac",
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function simple(r: () => number, serial: number): string {
  const name = pick(r, NAMES);
  const parts = [name, pick(r, PROGRAMS[name] as string[])];
  const extra = Math.floor(r() * 4);
  for (let i = 0; i < extra; i++) {
    const roll = r();
    parts.push(roll < 0.55 ? pick(r, WORDS) : roll < 0.8 ? pick(r, QUOTED) : roll < 0.92 ? pick(r, SUBST) : `$VAR${i}`);
  }
  // Never repeated: a unique token in every line.
  parts.push(r() < 0.5 ? `--run=${serial}` : `file${serial}.txt`);
  if (r() < 0.2) parts.push(pick(r, REDIR));
  return parts.join(" ");
}

/** One never-seen line; about one in twelve uses a compound construct. */
function corpusLine(r: () => number, serial: number): string {
  if (r() < 0.08) {
    const hard = pick(r, HARD);
    // A comment after a here-document's delimiter would make it unclosed: note it in the body.
    return hard.includes("\nEOF") ? hard.replace("\nEOF", ` # ${serial}\nEOF`) : `${hard} # ${serial} hand-off`;
  }
  let line = simple(r, serial);
  const joins = Math.floor(r() * r() * 5);
  for (let i = 0; i < joins; i++) {
    const op = pick(r, [" | ", " | ", " && ", " || ", "; ", " && "]);
    line += op + simple(r, serial);
  }
  if (r() < 0.1) line += ` # note ${serial}`;
  if (line.length > 300) line = simple(r, serial);
  if (line.length < 20) line += " --color=auto";
  return line;
}

export function makeCorpus(n: number, seed = 11): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(corpusLine(r, i));
  return out;
}
