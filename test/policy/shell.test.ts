import { describe, expect, it } from "vitest";
import { analyseArgv, analyseShell } from "../../src/policy/shell/analyse.ts";
import { fastSplit } from "../../src/policy/shell/fast-path.ts";
import { shellOps } from "../../src/policy/shell/mvdan.ts";
import { decodeAnsiC } from "../../src/policy/shell/words.ts";
import { engine } from "./helpers.ts";

const levels = (line: string): string[][] => analyseShell(line).commands.map((c) => c.levels);

describe("shell analysis", () => {
  const rows: [line: string, expected: string[][]][] = [
    ["git status", [["git status"]]],
    ["a; b && c || d | e & f", [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]]],
    ["sudo -u root /bin/rm -rf /", [["sudo -u root /bin/rm -rf /", "rm -rf /"]]],
    ["env -i A=1 B=2 nice -n 5 timeout -k 1 10 ls", [["env -i A=1 B=2 nice -n 5 timeout -k 1 10 ls", "nice -n 5 timeout -k 1 10 ls", "timeout -k 1 10 ls", "ls"]]],
    ["X=1 Y=2 make", [["X=1 Y=2 make", "make"]]],
    ["echo $(a $(b))", [["b"], ["a $(b)"], ["echo $(a $(b))"]]],
    ["diff <(ls a) >(wc -l)", [["ls a"], ["wc -l"], ["diff <(ls a) >(wc -l)"]]],
    ["bash -c 'a; b'", [["a"], ["b"], ["bash -c a; b"]]],
    ["find . -name '*.tmp' -exec rm {} + -exec echo {} \\;", [["rm {}"], ["echo {}"], ["find . -name *.tmp -exec rm {} + -exec echo {} ;"]]],
    ["xargs -n1 -P4 grep -l foo", [["xargs -n1 -P4 grep -l foo", "grep -l foo"]]],
    ["xargs", [["xargs", "echo"]]],
    ["command -v git", [["command -v git"]]],
    ["if a; then b; elif c; then d; else e; fi", [["a"], ["b"], ["c"], ["d"], ["e"]]],
    ["for f in $(ls); do rm \"$f\"; done", [["ls"], ["rm $f"]]],
    ["[[ -f $(which x) ]] && y", [["which x"], ["y"]]],
    ["echo {a,b}.txt", [["echo a.txt b.txt"]]],
    ["rm a\\ b 'c d'", [["rm a b c d"]]],
    ["declare -x A=$(id) B", [["id"], ["declare -x A=$(id) B"]]],
    ["sh <<'EOF'\nls -la\nEOF", [["ls -la"], ["sh"]]],
  ];
  it.each(rows)("%j", (line, expected) => {
    expect(levels(line)).toEqual(expected);
  });

  it("keeps non-system paths for allow rules and gives deny rules the bare name", () => {
    const [cmd] = analyseShell("./rm -rf /").commands;
    expect(cmd?.levels).toEqual(["./rm -rf /"]);
    expect(cmd?.denyOnly).toEqual(["rm -rf /"]);
  });

  it("marks privilege changes", () => {
    const [cmd] = analyseShell("timeout 5 sudo ls").commands;
    expect(cmd).toMatchObject({ levels: ["timeout 5 sudo ls", "sudo ls", "ls"], allowDepth: 1, privileged: true });
  });

  it("lets deny rules see every tail after an unknown wrapper option", () => {
    const [cmd] = analyseShell("sudo -Q x rm -rf /").commands;
    expect(cmd?.denyOnly).toContain("rm -rf /");
  });

  it("collects files written by redirections", () => {
    expect(analyseShell("a > x 2>&1 >> y &> z 2>/dev/null >&2 < in").writes).toEqual(["x", "y", "z"]);
  });

  it("collects pipelines and the whole line as composites", () => {
    expect(analyseShell("a | b c && d").composites).toEqual([
      { kind: "pipeline", text: "a | b c" },
      { kind: "line", text: "a | b c && d" },
    ]);
  });

  it("decodes $'…' strings", () => {
    expect(decodeAnsiC("\\x72\\155\\u0020\\n\\t\\\\\\'")).toBe("rm \n\t\\'");
  });

  it("treats an argv array literally but still unwraps it", () => {
    expect(analyseArgv(["echo", "$(rm -rf /)"]).commands.map((c) => c.levels)).toEqual([["echo $(rm -rf /)"]]);
    expect(analyseArgv(["bash", "-c", "rm -rf /"]).commands.map((c) => c.levels[0])).toEqual(["rm -rf /", "bash -c rm -rf /"]);
  });

  it("caches a line's analysis from its second sighting (most lines are never seen again)", () => {
    const line = "git log --oneline -5 --caching-test";
    const first = analyseShell(line);
    const second = analyseShell(line);
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
    expect(analyseShell(line)).toBe(second);
  });

  it("learns distinct operator codes from the parser", () => {
    const ops = Object.values(shellOps()).flatMap((o) => (typeof o === "number" ? [o] : [...o]));
    expect(ops.length).toBe(24);
    expect(new Set(ops).size).toBe(ops.length);
    expect(ops.every((o) => Number.isInteger(o) && o >= 0)).toBe(true);
  });
});

describe("fast path", () => {
  const safe = ["git status", "  ls   -la  ", "npm run build:prod", "curl -s https://example.com/a", "rm -rf /tmp/x", "git log --author=a@b.c -n 5", "docker run --rm -e A=1 img:1.0", "sudo -u root ls", "bash -c ls", "xargs rm"];
  it.each(safe)("%j splits exactly as the parser does", (line) => {
    expect(fastSplit(line)).not.toBeNull();
    // A trailing ";" forces the real parser without changing the meaning.
    expect(analyseShell(line).commands).toEqual(analyseShell(`${line};`).commands);
  });

  const unsafe = ["A=1 ls", "if x", "time ls", "ls *.ts", "echo $HOME", "echo ~", "a;b", "a # c", "echo 'x'", "echo {a,b}", "a\tb"];
  it.each(unsafe)("%j goes to the parser", (line) => {
    expect(fastSplit(line)).toBeNull();
  });
});

describe("[ … ] and [[ … ]] are the test builtin", () => {
  // Only `cat` and `echo` are allowed: a test needs no rule of its own, what it guards does.
  const strict = engine({ mode: "strict", allow: ["exec(cat *)", "exec(echo *)", "exec([ -f *)"], deny: ["exec(rm -rf *)"] });
  const rows: [line: string, decision: string, rule: string | null][] = [
    ["if [ -f x ]; then cat x; fi", "allow", "exec(cat *)"],
    ["if [ -f x ] ; then cat x ; else echo none; fi", "allow", "exec(cat *)"],
    ['if [ -n "$X" ]; then cat "$X"; fi', "allow", "exec(cat *)"],
    ["[ -f x ] && cat x || echo n", "allow", "exec(cat *)"],
    ["[[ -f x ]] && cat x", "allow", "exec(cat *)"],
    ['if [[ "$a" == b* && -d /tmp ]]; then echo y; fi', "allow", "exec(echo *)"],
    ["test -f x && cat x", "allow", "exec(cat *)"],
    ["/usr/bin/[ -f x ] && cat x", "allow", "exec(cat *)"],
    ["while [ -f lock ]; do echo wait; done", "allow", "exec(echo *)"],
    ['[ "$(echo a)" = a ] && cat x', "allow", "exec(echo *)"],
    ['[ -f *.txt ] && [ ! -d "$HOME/x" ] && cat x', "allow", "exec(cat *)"],
    // A line that is only a test is judged as itself: an allow rule can name it.
    ["[ -f x ]", "allow", "exec([ -f *)"],
    ["[ -d x ]", "ask", "mode:strict"],
    // What a test guards, substitutions inside it and what it redirects to are still judged.
    ["[ -f x ] && rm -rf /", "deny", "exec(rm -rf *)"],
    ["[[ -f x ]] || rm -rf /", "deny", "exec(rm -rf *)"],
    ["[[ $(curl evil) ]]", "ask", "mode:strict"],
    ["[ $(curl evil) ] && cat x", "ask", "mode:strict"],
    ['[ -n "`rm -rf /`" ]', "deny", "exec(rm -rf *)"],
    ["[ x ] ; redis-cli FLUSHALL", "ask", "mode:strict"],
    ["[ -f x ] > /etc/passwd", "ask", "mode:strict"],
    ["[ -v 'a[$(id)]' ] && cat x", "ask", null],
    ["sudo [ -f x ] && cat x", "ask", "mode:strict"],
    ["PATH=/tmp [ -f x ] && cat x", "ask", "mode:strict"],
    ["alias [=rm; [ x ] && cat x", "ask", null],
    ["[ -d x && cat x", "ask", "mode:strict"],
  ];
  it.each(rows)("%j → %s (%s)", (line, decision, rule) => {
    const d = strict.evaluate({ toolName: "exec", params: { command: line } });
    expect(d.decision).toBe(decision);
    expect(d.rule).toBe(rule);
  });

  it("is judged, not refused as a glob, in default mode", () => {
    const d = engine({}).evaluate({ toolName: "exec", params: { command: "if [ -f x ]; then echo y; fi" } });
    expect(d.decision).toBe("allow");
    expect(analyseShell("[ -f x ]").commands[0]).not.toHaveProperty("unparsed");
    // Still a glob elsewhere: `[ab]*` as a command name matches files.
    for (const line of ["[ab]* x", "/bin/[r]m x", "@(rm) x", "/bin/r? x"]) expect(analyseShell(line).commands[0]?.unparsed, line).toBe("command name is a glob pattern");
  });
});
