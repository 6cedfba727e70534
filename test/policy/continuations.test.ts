import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { rng } from "../../bench/corpus.ts";
import { analyseShell } from "../../src/policy/shell/analyse.ts";
import { joinContinuations } from "../../src/policy/shell/continuations.ts";
import { engine } from "./helpers.ts";

/** The configuration the attack tables are written against. */
const attacked = engine({ deny: ["exec(rm -rf *)", "exec(id)"], allow: ["exec(echo *)", "exec(find *)", "exec(rg *)"] });
const decide = (command: string): string => attacked.evaluate({ toolName: "exec", params: { command } }).decision;

describe("line continuations are removed where bash removes them", () => {
  // What bash 5.2 runs for each line (checked by running both through bash).
  const rows: [line: string, joined: string][] = [
    ['echo "ok $\\\n(id -u)"', 'echo "ok $(id -u)"'],
    ["echo ok $\\\n(id -u)", "echo ok $(id -u)"],
    ["echo $\\\n{HOME}", "echo ${HOME}"],
    ["i\\\nd", "id"],
    ["echo `i\\\nd`", "echo `id`"],
    ["echo a &\\\n& id", "echo a && id"],
    ["echo $((1\\\n+2))", "echo $((1+2))"],
    ['x=; echo "${x:-\'a\\\nb\'}"', 'x=; echo "${x:-\'ab\'}"'],
    ["echo `echo 'a\\\nb'`", "echo `echo 'ab'`"],
    ["cat <<EOF\nx\\\nEOF\nid\nEOF", "cat <<EOF\nxEOF\nid\nEOF"],
    ["cat <<E\\\nOF\nhi\nEOF", "cat <<EOF\nhi\nEOF"],
    ["echo a\\\\\nid", "echo a\\\\\nid"],
    // Kept: single quotes, $'…', quotes in ${…} and $((…)) outside double quotes, comments, quoted here-documents.
    ["echo 'a\\\nb'", "echo 'a\\\nb'"],
    ["echo $'a\\\nb'", "echo $'a\\\nb'"],
    ["x=; echo ${x:-'a\\\nb'}", "x=; echo ${x:-'a\\\nb'}"],
    ['echo "$(echo \'a\\\nb\')"', 'echo "$(echo \'a\\\nb\')"'],
    ["echo $(case a in a) echo 'x\\\ny';; esac)", "echo $(case a in a) echo 'x\\\ny';; esac)"],
    ["# a \\\nid", "# a \\\nid"],
    ["cat <<'EOF'\nx\\\nEOF\nid\nEOF", "cat <<'EOF'\nx\\\nEOF\nid\nEOF"],
  ];
  it.each(rows)("%j", (line, joined) => {
    expect(joinContinuations(line).text).toBe(joined);
  });

  const PIECES = [
    'echo "a $(echo b)"', "echo 'q r'", "echo $'s t'", "echo ${X:-'u v'}", "echo \"${X:-'w x'}\"", "echo $((1 + 2))", "echo `echo y`", "echo \"`echo 'y z'`\"",
    "echo \"$(echo 'z 1')\"", "# note 'x'", "cat <<EOF\nbody $((3+4))\nEOF", "cat <<'EOF'\nraw\nEOF", "cat <<-EOF\n\tt1\n\tEOF", "echo $(case a in a) echo 'c d';; esac)",
    "X=1; echo $X", "echo a && echo b", "echo a | cat", "echo $(( (1+2) * 3 ))", "printf '%s\\n' \"p q\"", 'echo "\\\\" e', "echo $[2+3]", 'echo "${X:-"n m"}"',
    "echo ${X:-$(echo 'k l')}", "echo \"$(echo \"$(echo 'deep x')\")\"", "echo $(echo a # c\n)", "echo \"$(cat <<'EOF'\nin doc\nEOF\n)\"", "echo a#b", "echo \\# no",
    "echo $(( 2#101 ))", "echo \"a'b\"", "echo 'a\"b'", "echo \\'x", 'echo $"loc"',
  ];

  // Each line runs twice through bash: as written and as joined. Any continuation removed
  // where bash keeps it (or kept where bash removes it) changes what the echoes print.
  it("as bash 5 does, on 200 random lines with continuations anywhere", { timeout: 60_000 }, () => {
    const r = rng(7);
    const bad: string[] = [];
    let kept = 0;
    for (let n = 0; n < 200; n++) {
      let line = "";
      const pieces = 1 + Math.floor(r() * 3);
      for (let j = 0; j < pieces; j++) line += (j > 0 ? (r() < 0.5 ? "\n" : "; ") : "") + PIECES[Math.floor(r() * PIECES.length)];
      for (let j = 1 + Math.floor(r() * 3); j > 0; j--) {
        const at = Math.floor(r() * (line.length + 1));
        line = `${line.slice(0, at)}\\\n${line.slice(at)}`;
      }
      const joined = joinContinuations(line);
      if (joined.text.includes("\\\n")) kept++;
      const a = spawnSync("bash", ["-c", line], { encoding: "utf8", timeout: 5000 });
      const b = spawnSync("bash", ["-c", joined.text], { encoding: "utf8", timeout: 5000 });
      if (a.error) throw a.error;
      if (a.stdout !== b.stdout || a.status !== b.status) bad.push(line);
    }
    expect(kept).toBeGreaterThan(20);
    expect(bad.slice(0, 3)).toEqual([]);
  });
});

describe("a continuation cannot hide a command", () => {
  const rows: [line: string, decision: string][] = [
    ['echo "ok $\\\n(id)"', "deny"],
    ["echo ok $\\\n(id)", "deny"],
    ["i\\\nd", "deny"],
    ['echo "$(i\\\nd)"', "deny"],
    ["echo `i\\\nd`", "deny"],
    ['echo "`i\\\nd`"', "deny"],
    ['echo "${x:-$\\\n(id)}"', "deny"],
    ["echo $\\\n{x:-$(id)}", "deny"],
    ["echo $\\\n(\\\nid\\\n)", "deny"],
    ['echo "ok $\\\n\\\n(id)"', "deny"],
    ["echo ok &\\\n& id", "deny"],
    ["echo ok |\\\n| id", "deny"],
    ["echo ok;\\\nid", "deny"],
    ["echo ok |\\\n id", "deny"],
    ["x=$\\\n(id) true", "deny"],
    ["r\\\nm -\\\nrf /", "deny"],
    ["rm -r\\\nf /tmp/x", "deny"],
    ["e\\\nval 'i\\\nd'", "deny"],
    ["bash -c 'echo \"$\\\n(id)\"'", "deny"],
    ["echo ok $(\\\n\\\nid)", "deny"],
    ["# note \\\nid", "deny"],
    ["cat <<'EOF'\nx\\\nEOF\nid\nEOF", "deny"],
    ["cat <<E\\\nOF\nhi\nEOF\nid", "deny"],
    ["cat <\\\n <(id)", "deny"],
    ["echo ok <\\\n<(id)", "ask"],
    // CRLF: bash reads `\<CR>` as an escaped CR, a runtime that turns CRLF into LF as a continuation: both are judged.
    ['echo "ok $\\\r\n(id)"', "deny"],
    ["echo ok $\\\r\n(id)", "deny"],
    ["i\\\r\nd", "deny"],
    ["echo ok\r\nid", "deny"],
    // Not attacks: what the continuation leaves is what runs.
    ["echo 'a\\\nb'", "allow"],
    ["echo $'\\\nid'", "allow"],
    ["cat <<EOF\nx\\\nEOF\nid\nEOF", "allow"],
    ["echo a\\\\\nfind .", "allow"],
    ["echo one \\\n  two \\\n  three", "allow"],
  ];
  it.each(rows)("%j → %s", (line, decision) => {
    expect(decide(line)).toBe(decision);
  });

  it("keeps a multi-line command one command", () => {
    expect(analyseShell("docker run \\\n  -v /a:/b \\\n  --rm alpine ls").commands.map((c) => c.levels[0])).toEqual(["docker run -v /a:/b --rm alpine ls"]);
  });
});
