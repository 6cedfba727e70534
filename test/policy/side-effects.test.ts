import { describe, expect, it } from "vitest";
import { analyseShell } from "../../src/policy/shell/analyse.ts";
import { engine, runtime } from "./helpers.ts";

/** The configuration the attack tables are written against. */
const policy = { deny: ["exec(rm -rf *)", "exec(id)"], allow: ["exec(echo *)", "exec(find *)", "exec(rg *)"] };
const attacked = engine(policy);
const judge = (command: string) => attacked.evaluate({ toolName: "exec", params: { command } });

describe("an allow rule for a read tool does not pass the options that make it write or run programs", () => {
  // [line, decision, risk class]: each would have been allowed by exec(find *) / exec(rg *) at low risk.
  const rows: [line: string, decision: string, cls: string][] = [
    ["find . -fprint /tmp/x", "ask", "medium"],
    ["find . -name '*.ts' -fprintf out.txt '%p\\n'", "ask", "medium"],
    ["find / -fls /tmp/listing", "ask", "medium"],
    ["find . -fprint0 /tmp/x", "ask", "medium"],
    ["find . -name '*.tmp' -delete", "ask", "high"],
    ["find . -maxdepth 1 -delete -print", "ask", "high"],
    ["rg --pre sh foo", "ask", "high"],
    ["rg --pre=./decode foo", "ask", "high"],
    ["rg --pre-glob '*.gz' --pre zcat foo", "ask", "high"],
    ["rg --hostname-bin=./x foo", "ask", "high"],
    ["timeout 5 find . -fprint /tmp/x", "ask", "medium"],
    ["bash -c 'find . -delete'", "ask", "high"],
    // The program find -exec runs is judged on its own (and denied here).
    ["find . -exec id \\;", "deny", "low"],
    ["find . -name '*.tmp' -exec rm -fr {} +", "deny", "high"],
    ["find . -name '*.ts' -exec grep -l foo {} +", "allow", "low"],
    // Reading stays allowed.
    ["find . -name '*.ts' -print", "allow", "low"],
    ["rg -n TODO src", "allow", "low"],
    ["rg --pretty foo", "allow", "low"],
  ];
  it.each(rows)("%j → %s (%s risk)", (line, decision, cls) => {
    const d = judge(line);
    expect(d.decision).toBe(decision);
    expect(d.risk.class).toBe(cls);
  });

  it("says which option the allow rule does not name, and offers the exact line to allow always", () => {
    const d = judge("find . -fprint /tmp/x");
    expect(d.reason).toBe('needs approval: "find . -fprint /tmp/x": find -fprint writes a file, and rule "exec(find *)" does not name that option');
    expect(d.alwaysAllowRule).toBe("exec(find . -fprint /tmp/x)");
    const approved = engine(policy, runtime({}, ["exec(find . -fprint /tmp/x)"]));
    expect(approved.evaluate({ toolName: "exec", params: { command: "find . -fprint /tmp/x" } }).decision).toBe("allow");
  });

  it("passes what a rule names: the option, or the exact command", () => {
    const named = engine({ tools: { exec: "allowlist" }, allow: ["exec(find * -delete)", "exec(rg --pre zcat *)", "exec(sed -i *)", "exec(sed *)", 'exec(awk {print > "out"} in)'] });
    const d = (command: string): string => named.evaluate({ toolName: "exec", params: { command } }).decision;
    expect(d("find build -delete")).toBe("allow");
    expect(d("rg --pre zcat foo")).toBe("allow");
    expect(d("sed -i s/a/b/ f")).toBe("allow");
    expect(d("sed -i -n s/a/b/p f")).toBe("allow");
    // Allow rules match as written: `exec(sed -i *)` is not `sed -ni`, and `exec(sed *)` does not name -i.
    expect(d("sed -ni s/a/b/p f")).toBe("ask");
    // A `w` command in the script is no option a rule can name: only the exact line passes it.
    expect(d("sed -i 's/a/b/w /etc/x' f")).toBe("ask");
    expect(d("awk '{print > \"out\"}' in")).toBe("allow");
    expect(d("awk '{print > \"/etc/x\"}' in")).toBe("ask");
  });

  it("holds only rules written for the tool to it: exec(*) and exec(sudo *) allow whatever runs", () => {
    const d = (allow: string[], command: string): string => engine({ mode: "strict", allow }).evaluate({ toolName: "exec", params: { command } }).decision;
    expect(d(["exec(*)"], "find . -delete")).toBe("allow");
    expect(d(["exec(sudo *)"], "sudo find . -delete")).toBe("allow");
    expect(d(["exec(find *)"], "find . -delete")).toBe("ask");
    expect(d(["exec(git *)"], "git -c core.pager=less log")).toBe("ask");
    expect(d(["exec(*)"], "git -c core.pager=less log")).toBe("allow");
  });

  it("judges files they write as writes and commands they run as commands", () => {
    const env = engine({ allow: ["exec(find *)"], ask: ["write(**/.env*)"] });
    expect(env.evaluate({ toolName: "exec", params: { command: "find . -fprint .env" } }).decision).toBe("ask");
    expect(analyseShell("find . -fprint out.txt -fls /tmp/ls").writes).toEqual(["out.txt", "/tmp/ls"]);
    expect(analyseShell("sed -i s/a/b/ a.txt b.txt").writes).toEqual(["a.txt", "b.txt"]);
    const runs = (line: string): string[] => analyseShell(line).commands.map((c) => c.levels[0] as string);
    expect(runs("tar --to-command='sh -c id' -xf a.tar")).toContain("id");
    expect(runs("git -c core.pager='id' log")).toContain("id");
    expect(runs("ssh -o ProxyCommand='nc %h %p' host")).toContain("nc %h %p");
    expect(runs("git -c alias.p='push -f' p")).toContain("git push -f");
    expect(runs("git clone 'ext::sh -c id' x")).toContain("id");
    expect(runs("fd -e tmp -x rm -rf")).toContain("rm -rf");
  });

  it("denies what those programs are, by the deny rules", () => {
    const strict = engine({ deny: ["exec(id)", "exec(git push --force *)", "exec(rm -rf *)"] });
    const d = (command: string): string => strict.evaluate({ toolName: "exec", params: { command } }).decision;
    expect(d("git -c alias.p='push -f' p origin")).toBe("deny");
    expect(d("git -c alias.p='!id' p")).toBe("deny");
    expect(d("git -c credential.helper='!id' fetch")).toBe("deny");
    expect(d("git clone 'ext::sh -c id' x")).toBe("deny");
    expect(d("fd -e tmp -x rm -fr")).toBe("deny");
    expect(d("tar -xf a.tar --to-command='id'")).toBe("deny");
    expect(d("git rebase --exec=id main")).toBe("deny");
    expect(d("git submodule foreach id")).toBe("deny");
    expect(d("git bisect run id")).toBe("deny");
    expect(d("git filter-branch --tree-filter 'rm -rf /' HEAD")).toBe("deny");
    expect(d("less '+!id' f")).toBe("deny");
    expect(d("vim -c ':!id' f")).toBe("deny");
  });
});

describe("a program named in a command's environment is judged as a command", () => {
  const rows: [line: string, decision: string][] = [
    ["GIT_PAGER=id git log", "deny"],
    ["env GIT_PAGER=id git log", "deny"],
    ["PAGER='id;' man ls", "deny"],
    ["GIT_SSH_COMMAND='id' git fetch", "deny"],
    ["EDITOR=id git commit", "deny"],
    ["sudo EDITOR=id visudo", "deny"],
    ["LESSOPEN='|rm -rf / %s' less f", "deny"],
    ["GIT_PAGER=cat git log", "allow"],
    ["RSYNC_RSH=id rsync a b:c", "deny"],
    ["export MANPAGER=id; man ls", "deny"],
    ["GIT_SSH_COMMAND='ssh -o ProxyCommand=id' git fetch", "deny"],
    ["rsync -e 'ssh -o ProxyCommand=id' a b:c", "deny"],
    // Options and configuration read from the environment are not on the line: they ask.
    ["GIT_CONFIG_PARAMETERS=\"'core.pager'='id'\" git log", "ask"],
    ["GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.pager GIT_CONFIG_VALUE_0=id git log", "ask"],
    ["RIPGREP_CONFIG_PATH=/tmp/rc rg foo", "ask"],
    ["export RIPGREP_CONFIG_PATH=/tmp/rc; rg foo", "ask"],
    ["TAR_OPTIONS=--to-command=id tar xf a.tar", "ask"],
    ["MANOPT='-P id' man ls", "ask"],
    ["LESS='+!id' less f", "ask"],
  ];
  it.each(rows)("%j → %s", (line, decision) => {
    expect(judge(line).decision).toBe(decision);
  });
});

describe("risk knows the writing and program-running options of read tools", () => {
  const rows: [line: string, cls: string, type: string][] = [
    ["sed -i s/a/b/ f", "medium", "write"],
    ["sed -n 'w /tmp/out' f", "medium", "write"],
    ["sed 's/a/b/w /tmp/out' f", "medium", "write"],
    ["sed '1e id' f", "high", "exec"],
    ["sed 's/.*/id/e' f", "high", "exec"],
    ["sed --sandbox -n p f", "low", "read"],
    ["sed -f script.sed f", "high", "exec"],
    ["sed -n '0~3w out' f", "medium", "write"],
    ["sed -n '/a/,/b/w out' f", "medium", "write"],
    ["sed '\\,a,w out' f", "medium", "write"],
    ["sed '1,+2e' f", "high", "exec"],
    ["sed --in-pl s/a/b/ f", "medium", "write"],
    ["sed --expr='1e ./x' f", "high", "exec"],
    ["sed 's/error/warn/' f", "low", "read"],
    ["sed 'y/;w/ab/' f", "low", "read"],
    ["awk 'BEGIN{system(\"id\")}'", "high", "exec"],
    ["awk '{print | \"sh\"}' f", "high", "exec"],
    ["awk '{ \"date\" | getline d }' f", "high", "exec"],
    ["awk '{print > \"/tmp/x\"}' f", "medium", "write"],
    ["gawk -f prog.awk f", "high", "exec"],
    ["gawk -i inplace '{print}' f", "high", "exec"],
    ["awk '$1 > 5 {print}' f", "low", "read"],
    ["gawk 'BEGIN { f = \"system\"; @f(\"./x\") }'", "high", "exec"],
    ["gawk --fil=prog.awk f", "high", "exec"],
    ["awk -F: '{print $1 || $2}' f", "low", "read"],
    ["less '+!id' f", "high", "exec"],
    ["less -o /tmp/log f", "medium", "write"],
    ["tar --to-command='sh -c cat' -xf a.tar", "high", "exec"],
    ["tar --use-compress-program=./x -xf a.tar", "high", "exec"],
    ["tar -I ./x -xf a.tar", "high", "exec"],
    ["tar xIf ./x a.tar", "high", "exec"],
    ["tar --to-com=./x -xf a.tar", "high", "exec"],
    ["tar --checkpoint=1 --checkpoint-action=exec=./x -cf /dev/null .", "high", "exec"],
    ["git -c core.pager=./x log", "high", "exec"],
    ["git -c core.sshCommand='ssh -i k' fetch", "high", "exec"],
    ["git -c alias.x='!./x' x", "high", "exec"],
    ["git -c alias.x='!sh' x", "critical", "exec"],
    ["git --config-env=core.pager=PAGER_CMD log", "high", "exec"],
    ["git diff --ext-diff", "high", "exec"],
    ["git clone --upload-pack=./x repo dir", "high", "exec"],
    ["git clone -u ./x repo dir", "high", "exec"],
    ["git fetch --upload-pack=./x origin", "high", "exec"],
    ["git push --receive-pack=./x origin", "high", "exec"],
    ["git grep -Ovim foo", "high", "exec"],
    ["git config core.pager ./x", "high", "exec"],
    ["git config --get core.pager", "low", "read"],
    ["man -P ./x ls", "high", "exec"],
    ["man --pager=./x ls", "high", "exec"],
    ["vim -c ':!./x' f", "high", "exec"],
    ["vim -es f", "high", "exec"],
    ["nvim -l x.lua", "high", "exec"],
    ["git -c submodule.x.update='!./x' submodule update", "high", "exec"],
    ["git -c remote.origin.uploadpack=./x fetch", "high", "exec"],
    ["git -c 'url.ext::./x.insteadOf=https://a' fetch", "high", "exec"],
    ["git -c init.templateDir=/tmp/t clone repo", "high", "exec"],
    ["git -c core.hooksPath=/tmp/h commit -m x", "high", "exec"],
    ["git fetch --upload-p=./x origin", "high", "exec"],
    ["view +'!./x' f", "high", "exec"],
    ["zip -TT ./x a.zip f", "high", "exec"],
    ["rsync -e ./x a b:c", "high", "exec"],
    ["rsync -avze 'ssh -p 2' a b:c", "high", "exec"],
    ["ssh -o ProxyCommand=./x host", "high", "exec"],
    ["ssh -o 'proxycommand ./x' host", "high", "exec"],
    ["ssh -oLocalCommand=./x host", "high", "exec"],
    ["scp -S ./x a b:c", "high", "exec"],
    ["sort --compress-program=./x f", "high", "exec"],
    ["sort --comp=./x f", "high", "exec"],
    ["sort -o out.txt f", "medium", "write"],
    ["grep -r foo .", "low", "read"],
  ];
  it.each(rows)("%j → %s %s", (line, cls, type) => {
    const risk = engine({}).evaluate({ toolName: "exec", params: { command: line } }).risk;
    expect(risk.class).toBe(cls);
    expect(risk.actionType).toBe(type);
  });
});
