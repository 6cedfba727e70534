/**
 * Random shell lines built from the constructs the lexer takes (and near misses it must hand
 * off): compound commands, groups, functions, assignments, declarations, backgrounding,
 * substitutions of every kind, brace words, special parameters. Seeded: every run sees the
 * same lines. Only the differential test uses them; the oracle is the full parser.
 */
import { rng } from "../../bench/corpus.ts";

const NAMES = ["ls", "rm", "git", "curl", "echo", "cat", "sudo", "bash", "env", "xargs", "find", "npm", "sh", "timeout", "ssh", "eval", "source", "python3", "[", "test", "true", "read"];
const ARGS = ["-rf", "/", "-la", "src", "'a b'", '"x y"', "$HOME", "${HOME}", "${X:-/tmp}", "${X#pre}", "${#X}", "$1", "$@", '"$@"', "$?", "*.ts", "a{b,c}d", "{x,y}", "{1..3}", "x{1}", "\\;", "\\$X", "$'\\x72m'", "$'a\\'b'", "`date`", '"`id`"', "$(id -u)", '"$(pwd)"', "$((1+2))", "$(( (2*3) ))", "<(sort a)", ">(cat)", "a=b", "X=1", "--flag=v", "then", "do", "done", "fi", "esac", "{", "}", "!", "#c", "2>&1", ">out", ">>log", "<in", ">&2", "2>/dev/null", "&>x", "~/x", "a\\ b", "'$(no)'", '"a;b"', "{a,b}*", "a,b"];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function simpleCmd(r: () => number): string {
  const parts: string[] = [];
  if (r() < 0.15) parts.push(pick(r, ["X=1", "PATH=/tmp", "A=$(id)", "B+=x", "LD_PRELOAD=/x.so", 'C="a b"']));
  parts.push(pick(r, NAMES));
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) parts.push(pick(r, ARGS));
  if (r() < 0.05) return pick(r, ["export A=1 B", "local x=$(id)", "declare -x Y=2", "readonly Z", "X=1", "PATH=$PATH:/opt/bin"]);
  return parts.join(" ");
}

function list(r: () => number, depth: number): string {
  const n = 1 + Math.floor(r() * 2);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let item = stmt(r, depth);
    if (r() < 0.25) item += pick(r, [" | ", " && ", " || "]) + stmt(r, depth);
    out.push(item);
  }
  return out.join(pick(r, ["; ", " & ", ";"]));
}

function stmt(r: () => number, depth: number): string {
  const roll = depth > 2 ? 0 : r();
  if (roll < 0.55) return simpleCmd(r);
  const inner = (): string => list(r, depth + 1);
  const redir = r() < 0.2 ? ` ${pick(r, [">out", "< in", "2>&1", ">>log"])}` : "";
  const forms = [
    () => `( ${inner()} )`,
    () => `(${inner()})`,
    () => `{ ${inner()}; }`,
    () => `{ ${inner()} }`,
    () => `if ${inner()}; then ${inner()}; fi`,
    () => `if ${inner()}; then ${inner()}; elif ${inner()}; then ${inner()}; else ${inner()}; fi`,
    () => `for x in ${pick(r, ARGS)} ${pick(r, ARGS)}; do ${inner()}; done`,
    () => `while ${inner()}; do ${inner()}; done`,
    () => `until ${inner()}; do ${inner()}; done`,
    () => `case ${pick(r, ARGS)} in a|b) ${inner()};; (c) ${inner()};& *) ;; esac`,
    () => `f() { ${inner()}; }`,
    () => `g() ( ${inner()} )`,
    () => `echo $(${inner()})`,
    () => `echo \`${simpleCmd(r)}\``,
    () => `diff <(${inner()}) >(${simpleCmd(r)})`,
  ];
  return pick(r, forms)() + redir;
}

/** A command reading a here-document, maybe piped or chained, then maybe more lines. */
function heredoc(r: () => number): string {
  const delim = pick(r, ["'EOF'", '"EOF"', "EOF", "'X1'", "<<-EOF", "'EOF' > out.txt", "EOF | bash", "'EOF' && echo ok"]);
  const op = delim.startsWith("<<") ? "" : "<<";
  const bodies = ["rm -rf /", "hello world", "a  b", "$HOME", "`id`", "x\\y", '{"a": 1}', "for f in *; do rm $f; done", "", "EOFX", " EOF"];
  const lines = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(r, bodies));
  const name = delim.replace(/^<<-/, "").match(/[A-Z0-9]+/)?.[0] ?? "EOF";
  const after = r() < 0.3 ? `\n${list(r, 1)}` : r() < 0.2 ? "\n" : "";
  return `${pick(r, ["cat", "bash", "sh", "sudo tee /etc/x", "python3 -", "ssh host"])} ${op}${delim}\n${lines.join("\n")}\n${name}${after}`;
}

export function fuzzCorpus(n: number, seed = 31): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r() < 0.15 ? heredoc(r) : `${list(r, 0)}${r() < 0.1 ? " # end" : ""}`);
  return out;
}
