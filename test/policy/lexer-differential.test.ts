import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { makeCorpus } from "../../bench/corpus.ts";
import { analyseShellFullParser, analyseShellUncached } from "../../src/policy/shell/analyse.ts";
import { lexShell } from "../../src/policy/shell/lexer.ts";

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
    expect(corpus.filter((l) => lexShell(l) !== null).length).toBeGreaterThan(8_000);
    expect(disagreements(corpus).slice(0, 3)).toEqual([]);
  });

  it("hands what it does not handle to the full parser", () => {
    for (const line of ["echo `id`", "cat <<EOF\nx\nEOF", "(cd a && rm -rf /)", "X=1 rm -rf /", "echo ${A:-rm}", "rm \\\n-rf /", "a & b", "f() { rm -rf /; }", "if true; then rm -rf /; fi", "echo $'\\x72m'", "diff <(a) <(b)", "ls {a,b}", "echo $((1+2))", "echo $1", "rm -rf / &>/dev/null", "echo a\nrm -rf /"]) {
      expect(lexShell(line), line).toBeNull();
    }
  });
});
