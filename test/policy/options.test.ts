import { describe, expect, it } from "vitest";
import { OptionRule } from "../../src/policy/options.ts";
import { engine } from "./helpers.ts";

const decide = (policy: unknown, command: string): string => engine(policy).evaluate({ toolName: "exec", params: { command } }).decision;

/** Every spelling that runs what the rule names, and near misses that do not. */
const table: [rule: string, matches: string[], misses: string[]][] = [
  [
    "exec(rm -rf *)",
    [
      "rm -rf /x", "rm -fr /x", "rm -r -f /x", "rm --recursive --force /x", "rm -Rf /", "rm /x -rf", "rm /x -f -r", "rm -rfv /x", "rm -r --force /x",
      "rm -vRf /", "rm -f -R /x", "rm -fr -- /x", "rm --force -r /", "rm -d -r -f x", "rm -r -r -f -f x", "rm --rec --forc /x", "rm --recursive -f x",
      "command rm -fr x", "\\rm -fr x", "r''m -f''r x", "rm $'-fr' x", "sudo -u root rm -fR /", "xargs rm -fr", "find . -exec rm -fr {} +", "rm -rfx /",
      "bash -c 'rm -Rf ~'", "rm -rf",
    ],
    ["rm -f x", "rm /x -f", "rm -f x || sort -n -r y", "rm -f x && ls -r", "rm -r x", "rm -- -rf", "rm -r -- -f", "rm -i x", "echo rm -fr /", "rmdir -fr x"],
  ],
  ["exec(chmod -R 777 *)", ["chmod 777 -R /x", "chmod --recursive 777 /x", "chmod -vR 777 /", "chmod -R -v 777 /", "chmod 777 /x --recursive"], ["chmod 777 /x", "chmod -R 755 /x"]],
  ["exec(chown -R *)", ["chown root -R /x", "chown --recursive root /", "chown -hR a:b x"], ["chown root x"]],
  [
    "exec(git push --force *)",
    ["git push -f", "git push origin main -f", "git push origin main --force", "git push -uf origin main", "git push origin +main", "git -C x push -f", "git -c a=b push origin main --force", "git push -vf origin"],
    ["git push origin main", "git push --force-with-lease", "git fetch -f", "git push --forc origin"],
  ],
  ["exec(git push --delete *)", ["git push origin :old", "git push -d origin old", "git push origin --delete old"], ["git push origin new"]],
  ["exec(git reset --hard *)", ["git reset HEAD~1 --hard", "git reset -q --hard", "git reset --ha"], ["git reset --soft HEAD~1"]],
  ["exec(git clean -fdx *)", ["git clean -xfd", "git clean -f -d -x", "git clean --force -dx", "git clean -xdf .", "git clean -fdxn"], ["git clean -fd", "git clean -n"]],
  ["exec(git branch -D *)", ["git branch -d -f x", "git branch --delete --force x", "git branch -D x", "git branch -fd x", "git branch x --delete -f"], ["git branch -d x"]],
  [
    "exec(curl -X DELETE *)",
    ["curl --request DELETE http://x", "curl -XDELETE http://x", "curl --request=DELETE http://x", "curl http://x -X DELETE", "curl -sSfX DELETE http://x", "curl -sX DELETE http://x"],
    ["curl -X GET http://x", "curl http://x"],
  ],
  ["exec(wget -O * *)", ["wget --output-document=x http://y", "wget http://y -O x", "wget -qO x http://y"], ["wget http://y"]],
  [
    "exec(docker rm -f *)",
    ["docker rm --force x", "docker container rm -f x", "docker container remove --force x", "docker -H tcp://h rm -f x", "docker rm -fv x", "docker rm x --force"],
    ["docker rm x", "docker run -f x"],
  ],
  ["exec(docker system prune -a *)", ["docker system prune --all -f", "docker system prune -af", "docker --context p system prune --all"], ["docker system prune -f"]],
  [
    "exec(kubectl delete --all *)",
    ["kubectl delete pods --all -n prod", "kubectl -n prod delete pods --all", "kubectl --namespace prod delete pods --all", "kubectl delete --all=true pods"],
    ["kubectl delete pod x", "kubectl get pods --all"],
  ],
  ["exec(kubectl delete * -n prod)", ["kubectl delete pod x --namespace=prod", "kubectl -nprod delete pod x", "kubectl -n=prod delete pod x", "kubectl --namespace prod delete pod x"], ["kubectl delete pod x -n dev"]],
  ["exec(kubectl delete *)", ["kubectl -n prod delete pod x", "kubectl --context=p delete pod x"], ["kubectl get pods"]],
  [
    "exec(terraform destroy *)",
    ["terraform destroy", "terraform apply -destroy", "terraform apply --destroy -auto-approve", "terraform -chdir=x apply -destroy", "terraform -chdir=infra destroy"],
    ["terraform apply", "terraform apply -destroy=false", "terraform plan -destroy"],
  ],
  ["exec(terraform apply -auto-approve *)", ["terraform apply --auto-approve", "terraform apply -auto-approve=true", "terraform -chdir=x apply -target=a -auto-approve"], ["terraform apply -auto-approve=false", "terraform apply"]],
  ["exec(find * -delete)", ["find . -delete", "find . -name x -delete -print", "find / -delete -maxdepth 2"], ["find . -name x -print"]],
  ["exec(sed -i *)", ["sed --in-place s/a/b/ f", "sed -i.bak s/a/b/ f", "sed -ni s/a/b/ f", "sed -Ei s/a/b/ f", "sed --in-place=.bak s/a/b/ f", "sed -e s/a/b/ -i f", "sed -i'' s/a/b/ f"], ["sed -n p f", "sed -e s/i/x/ f"]],
  ["exec(kill -9 *)", ["kill -KILL 1", "kill -SIGKILL 1", "kill -s KILL 1", "kill -s 9 1", "kill --signal=SIGKILL 1", "kill -n 9 1", "kill -s sigkill 1", "kill -kill 1", "kill -Sigkill 1"], ["kill 1", "kill -15 1", "kill -s TERM 1"]],
  ["exec(dd if=* of=/dev/sd*)", ["dd of=/dev/sda if=/dev/zero", "dd if=/dev/zero bs=1M of=/dev/sdb"], ["dd if=/dev/zero of=/tmp/x"]],
  ["exec(mkfs -t ext4 *)", ["mkfs --type=ext4 /dev/x", "mkfs -text4 /dev/x", "mkfs /dev/x -t ext4"], ["mkfs -t xfs /dev/x"]],
  ["exec(systemctl stop *)", ["systemctl --now stop x", "systemctl -q stop x"], ["systemctl start x"]],
  ["exec(npm publish *)", ["npm --otp 123 publish", "npm -w x publish", "npm publish --tag next"], ["npm pack"]],
  ["exec(npm install *)", ["npm i lodash", "npm add x", "npm -g i x"], ["npm ci"]],
  ["exec(pip install --user *)", ["pip install x --user", "pip --quiet install --user x"], ["pip install x"]],
  ["exec(helm uninstall *)", ["helm delete x", "helm -n prod uninstall x", "helm del x"], ["helm install x"]],
  // Tools not in the table: POSIX clusters and `--opt=value`.
  ["exec(mytool -ab --mode=fast *)", ["mytool -ba --mode=fast x", "mytool x -b -a --mode fast", "mytool -a --mode=fast -b"], ["mytool -a --mode=fast", "mytool -ab --mode=slow"]],
];

describe("deny rules match every spelling of the options they name", () => {
  for (const [rule, matches, misses] of table) {
    it.each(matches)(`${rule} denies %j`, (command) => {
      expect(decide({ deny: [rule] }, command)).toBe("deny");
    });
    it.each(misses)(`${rule} leaves %j`, (command) => {
      expect(decide({ deny: [rule] }, command)).toBe("allow");
    });
  }
});

describe("which lists read options", () => {
  it("ask rules and dangerousPatterns do", () => {
    expect(decide({ ask: ["exec(git push --force *)"] }, "git push -f")).toBe("ask");
    expect(decide({ allow: ["exec(git push *)"], dangerousPatterns: ["exec(git push --force *)"] }, "git push origin main -f")).toBe("ask");
  });

  it("allow rules match as written: a spelling they do not show asks in strict mode instead of passing", () => {
    const strict = { mode: "strict", allow: ["exec(ls -la *)"] };
    expect(decide(strict, "ls -la src")).toBe("allow");
    expect(decide(strict, "ls -al src")).toBe("ask");
  });

  it("a rule naming a subcommand without options keeps the rest as written", () => {
    const ask = { ask: ["exec(npm test)"] };
    expect(decide(ask, "npm t")).toBe("ask");
    expect(decide(ask, "npm --silent test")).toBe("ask");
    expect(decide(ask, "npm test --watch")).toBe("allow");
    expect(decide({ deny: ["exec(kubectl delete pod web)"] }, "kubectl -n prod delete pod web")).toBe("deny");
    expect(decide({ deny: ["exec(kubectl delete pod web)"] }, "kubectl delete pod web --now")).toBe("allow");
  });

  it("a rule without options or a subcommand matches as before", () => {
    expect(decide({ deny: ["exec(id)"] }, "id -u")).toBe("allow");
    expect(decide({ deny: ["exec(id)"] }, "id")).toBe("deny");
    expect(OptionRule.compile("rm *")).toBeNull();
    expect(OptionRule.compile("curl * | sh")).toBeNull();
    // A `*` inside an option word keeps the rule textual (`--force*` covers --force-with-lease).
    expect(OptionRule.compile("git push --force*")).toBeNull();
    expect(decide({ deny: ["exec(git push --force*)"] }, "git push --force-with-lease")).toBe("deny");
  });
});
