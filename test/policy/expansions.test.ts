import { describe, expect, it } from "vitest";
import { arithmeticReadsValues } from "../../src/policy/shell/expansions.ts";
import { engine } from "./helpers.ts";

/** The configuration the attack tables are written against. */
const attacked = engine({ deny: ["exec(rm -rf *)", "exec(id)"], allow: ["exec(echo *)", "exec(find *)", "exec(rg *)"] });
const judge = (command: string) => attacked.evaluate({ toolName: "exec", params: { command } });

describe("expansions that run code hidden in a value need approval, never pass", () => {
  // Each runs `id` in bash 5.2 when the value holds `a[$(id)]` (or `$(id)` for @P).
  const rows: string[] = [
    "echo ${x@P}",
    'echo "${x@P}"',
    "x='$(id)'; echo ${x@P}",
    "echo ${x@Q}",
    "echo ${x@E}",
    "echo ${x@A}",
    "echo ${!x}",
    'echo "${!x}"',
    "echo $((x))",
    "x='a[$(id)]'; echo $((x))",
    "echo $((x + 1))",
    "echo $(( $(cat n.txt) + 1 ))",
    "echo $[x]",
    "(( x ))",
    "let y=x",
    "builtin let y=x",
    "for ((i=x; i<3; i++)); do echo $i; done",
    "[[ $x -eq 0 ]]",
    '[[ 1 -lt "$x" ]]',
    "[[ -v $x ]]",
    "[[ -v 'a[$(id)]' ]]",
    'test -v "$x"',
    "[ -v 'a[$(id)]' ]",
    "echo ${a[i]}",
    'echo "${a[$x]}"',
    "echo ${#a[i]}",
    "echo ${s:x}",
    'echo "${s:0:$n}"',
    "echo ${@:x}",
    "a[i]=1",
    "b=([x]=1)",
    "declare -n ref=x; echo $ref",
    "local -n ref=x",
    "declare -i n; n=$x",
    "typeset -i y=x",
    "declare 'a[$(id)]=1'",
    'declare "$name=1"',
    "readonly 'a[$(id)]=1'",
    "printf -v 'a[$(id)]' %s x",
    'printf -v "$x" %s y',
    "read 'a[$(id)]' <<< x",
    'read -r "$x"',
    "unset 'a[$(id)]'",
    "mapfile -C 'id #' -c 1 < f",
    "readarray -t 'a[$(id)]' < f",
    "getopts ab 'a[$(id)]'",
    "compgen -W '$(id)'",
    "cat <<EOF\n$((x))\nEOF",
    "x=$((y)) true",
    "case $((x)) in 1) echo;; esac",
    "PS4='$(id)' bash -xc :",
    "env -i PS4='`id`' bash -x -c true",
    "env 'BASH_FUNC_ls%%=() { id; }' bash -c ls",
    "BASH_ENV=/tmp/x bash -c :",
    "timeout 5 echo ${x@P}",
    "bash -c 'echo ${!x}'",
  ];
  it.each(rows)("%j asks", (line) => {
    const d = judge(line);
    expect(d.decision).toBe("ask");
    expect(d.source).toBe("unparsed");
    expect(d.alwaysAllowRule).toBeNull();
  });

  it("keeps the deny of a command written in the value", () => {
    expect(judge("echo ${a[$(id)]}").decision).toBe("deny");
    expect(judge("echo $(( $(id -u) + ${x@P} ))").decision).toBe("ask");
  });

  it("asks in strict mode although an allow rule covers the command, and dontAsk mode denies", () => {
    const strict = engine({ mode: "strict", allow: ["exec(echo *)"] });
    expect(strict.evaluate({ toolName: "exec", params: { command: "echo ${x@P}" } }).decision).toBe("ask");
    expect(engine({ mode: "dontAsk", allow: ["exec(echo *)"] }).evaluate({ toolName: "exec", params: { command: "echo ${!x}" } }).decision).toBe("deny");
  });

  const safe: string[] = [
    "echo $(( $# + 1 )) $((2*3)) $((16#ff)) $((0x1f)) $((i=0))",
    "echo ${#x} ${#a[@]} ${x^^} ${x,,} ${x:-default} ${x#pre} ${x/a/b}",
    "echo ${!x[@]} ${!pre*} ${!pre@}",
    "echo ${a[1]} ${a[@]} ${a[*]} ${s:1:2}",
    '[ "$x" -eq 0 ] && echo zero',
    "[[ -v x ]] && echo set",
    "[[ $x == 0 ]] && echo zero",
    "declare x=1; local y; export PATH_EXTRA=1; readonly z",
    "printf -v out %s x",
    "read -r -p 'name: ' name",
    "unset -f fn; unset x",
    "mapfile -t lines < f",
    "PS4='+ ' bash -x -c true",
    "env A=1 B=2 echo ok",
  ];
  it.each(safe)("%j is not held up", (line) => {
    expect(judge(line).decision).toBe("allow");
  });
});

describe("arithmeticReadsValues", () => {
  const rows: [text: string, reads: boolean][] = [
    ["1 + 2", false],
    ["$# - 1", false],
    ["16#ff + 2#101 + 0x1F", false],
    ["i = 0", false],
    ["${#name} * 2", false],
    ["i == 0", true],
    ["i += 1", true],
    ["x", true],
    ["$x", true],
    ["${x}", true],
    ["a[0]", true],
    ["$(cat f)", true],
    ["'1'", true],
    ["i=j", true],
  ];
  it.each(rows)("%j → %s", (text, reads) => {
    expect(arithmeticReadsValues(text)).toBe(reads);
  });
});
