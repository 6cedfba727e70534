/**
 * Options of common tools, for option-aware rule matching (options.ts): which spellings mean
 * the same option, which take a value, and which subcommands are other names of each other.
 * Tools not listed are read by the POSIX conventions alone (docs/policy.md).
 *
 * `options` holds space-separated groups of `|`-separated spellings, the first being the
 * option's name in matches. After a spelling: `=` takes a value (`-n prod`, `-nprod`,
 * `--namespace=prod`), `?` takes an optional value given only attached (`-i.bak`,
 * `--force-with-lease=main`), `...` takes the words up to `;` or `+` (`find -exec`). A group
 * `-D:-d,-f` is one spelling standing for several options (`git branch -D` is `-d -f`).
 * Options of a tool hold for all its subcommands (global options), a subcommand's only there.
 */

export interface OptionNode {
  options?: string;
  /** Subcommands; a string is another spelling of the subcommand path it names (`i` → `install`). */
  subs?: Record<string, OptionNode | string>;
  /** An option that makes this subcommand another one: `terraform apply -destroy` is `terraform destroy`. */
  becomes?: Record<string, string>;
  /** Operands whose first character stands for an option: `git push origin +main` forces, `:main` deletes. */
  operandFlags?: Record<string, string>;
}

export interface ToolOptions extends OptionNode {
  /**
   * `posix` (default): `-abc` is `-a -b -c`, `--name[=value]`. `single-dash`: Go's flag
   * package (`-auto-approve`, `--auto-approve`, `-var=x`, `-lock=false`), no clusters.
   * `pflag`: posix, and `-n=prod` is `-n prod` (cobra tools: docker, kubectl, helm, gh).
   */
  style?: "posix" | "single-dash" | "pflag";
  /** `kill -9`, `-KILL`, `-SIGKILL`, `-s KILL`, `--signal=9`, `-n 9` are one option, `-s=KILL`. */
  signals?: boolean;
  /** `NAME=value` operands are options (dd's `if=… of=…`: any order). */
  assignments?: boolean;
}

// GNU rm, and BSD/macOS rm's -P, -W and -x (one file system).
const RM = "-r|-R|--recursive -f|--force -i -I --interactive? -d|--dir -v|--verbose --one-file-system|-x --no-preserve-root --preserve-root? -P -W";
const OWNER = "-R|--recursive -c|--changes -f|--silent|--quiet -v|--verbose -h|--no-dereference --dereference -H -L -P --from= --reference= --no-preserve-root --preserve-root";
const KILL = "-s=|--signal= -l|--list? -L|--table -q|--queue= --timeout=";
const NPM_GLOBAL = "-g|--global -f|--force -w=|--workspace= --ws|--workspaces --registry= -y|--yes --dry-run --ignore-scripts -C=|--prefix= --otp= --access= --tag= -D|--save-dev -S|--save -O|--save-optional -E|--save-exact -P|--save-prod --no-save -q|--quiet -s|--silent --loglevel=";
const K8S_GLOBAL =
  "-n=|--namespace= --context= --kubeconfig= --cluster= --user= -s=|--server= --token= --as= --as-group= --request-timeout= --insecure-skip-tls-verify --cache-dir= -v=|--v= -o=|--output= -A|--all-namespaces -l=|--selector= -f=|--filename= -k=|--kustomize= -R|--recursive --dry-run? --field-selector= --all --force --grace-period= --now --wait? --cascade? --ignore-not-found? -i|--interactive --timeout= --server-side --prune -w|--watch --overwrite";
const DOCKER_RUN =
  "--privileged -v=|--volume= --rm -d|--detach -i|--interactive -t|--tty -e=|--env= -p=|--publish= -P|--publish-all --name= --network=|--net= -u=|--user= -w=|--workdir= --entrypoint= --pid= --ipc= --uts= --userns= --cap-add= --cap-drop= --security-opt= --device= --mount= -m=|--memory= --gpus= --platform= --restart= -h=|--hostname= --env-file= -l=|--label= --init --read-only -a=|--attach= --add-host= --dns= --cgroupns= --group-add= --tmpfs=";
const DOCKER_PRUNE = "-a|--all -f|--force --filter= --volumes";

export const OPTION_TABLE: Record<string, ToolOptions> = {
  rm: { options: RM },
  rmdir: { options: "-p|--parents -v|--verbose --ignore-fail-on-non-empty" },
  shred: { options: "-u|--remove? -z|--zero -n=|--iterations= -f|--force -v|--verbose -x|--exact -s=|--size=" },
  cp: { options: "-r|-R|--recursive -f|--force -a|--archive -p -i|--interactive -n|--no-clobber -u|--update? -v|--verbose -t=|--target-directory= -T|--no-target-directory -l|--link -s|--symbolic-link -b|--backup? -S=|--suffix= -x|--one-file-system -L|--dereference -P|--no-dereference -H --preserve? --remove-destination" },
  mv: { options: "-f|--force -i|--interactive -n|--no-clobber -u|--update? -v|--verbose -t=|--target-directory= -T|--no-target-directory -b|--backup? -S=|--suffix=" },
  ln: { options: "-s|--symbolic -f|--force -n|--no-dereference -T|--no-target-directory -t=|--target-directory= -r|--relative -v|--verbose -b|--backup? -S=|--suffix= -i|--interactive -L|--logical -P|--physical" },
  chmod: { options: OWNER },
  chown: { options: OWNER },
  chgrp: { options: OWNER },
  truncate: { options: "-s=|--size= -c|--no-create -o|--io-blocks -r=|--reference=" },
  find: {
    options:
      "-H -L -P -D= -O= -name= -iname= -path= -ipath= -wholename= -regex= -iregex= -type= -xtype= -newer= -mtime= -mmin= -atime= -amin= -ctime= -cmin= -size= -user= -group= -uid= -gid= -perm= -maxdepth= -mindepth= -links= -inum= -samefile= -fstype= -printf= -fprint= -fprint0= -fls= -fprintf= -regextype= -context= -exec... -execdir... -ok... -okdir... -delete -print -print0 -ls -prune -quit -depth -xdev -mount -follow -empty -readable -writable -executable -true -false -nouser -nogroup -not -and -or -a -o",
  },
  sed: { options: "-i|--in-place? -n|--quiet|--silent -e=|--expression= -f=|--file= -E|-r|--regexp-extended -s|--separate -z|--null-data -u|--unbuffered -l=|--line-length= --posix --debug --sandbox --follow-symlinks -b|--binary" },
  dd: { assignments: true },
  kill: { signals: true, options: KILL.replace("--signal=", "--signal=|-n=") },
  pkill: { signals: true, options: `${KILL} -f|--full -u=|--euid= -U=|--uid= -g=|--pgroup= -G=|--group= -P=|--parent= -t=|--terminal= -x|--exact -e|--echo -c|--count -i|--ignore-case -o|--oldest --newest` },
  killall: { signals: true, options: `${KILL} -u=|--user= -e|--exact -I|--ignore-case -i|--interactive -r|--regexp -w|--wait -o=|--older-than= -y=|--younger-than= -v|--verbose -g|--process-group` },
  systemctl: {
    options: "--now -f|--force --user --system -q|--quiet --no-block -H=|--host= -M=|--machine= -t=|--type= --state= -a|--all --no-pager -l|--full --runtime -i|--ignore-inhibitors --kill-whom= -s=|--signal= --no-reload",
    subs: { stop: {}, start: {}, restart: {}, reload: {}, kill: {}, disable: {}, enable: {}, mask: {}, unmask: {}, isolate: {}, poweroff: {}, reboot: {}, halt: {}, "daemon-reload": {}, edit: {}, "set-property": {}, "set-environment": {} },
  },
  mkfs: { options: "-t=|--type= -V|--verbose -c -l=" },
  crontab: { options: "-r -e -l -i -u=" },
  git: {
    // Global options (clawgate strips them from what rules see, but a rule may spell them).
    options: "-C= -c= --git-dir= --work-tree= --namespace= --config-env= -P|--no-pager -p|--paginate --bare --no-replace-objects --literal-pathspecs --exec-path?",
    subs: {
      push: {
        options:
          "-f|--force --force-with-lease? --force-if-includes -d|--delete --mirror --all --branches --tags --follow-tags -u|--set-upstream -o=|--push-option= --repo= -n|--dry-run -q|--quiet -v|--verbose --no-verify --verify --atomic --prune --receive-pack=|--exec= --signed? --recurse-submodules= --porcelain --progress --thin --no-thin -4|--ipv4 -6|--ipv6",
        operandFlags: { "+": "-f", ":": "-d" },
      },
      reset: { options: "--hard --soft --mixed --keep --merge -q|--quiet -p|--patch -N|--intent-to-add --recurse-submodules? --pathspec-from-file=" },
      clean: { options: "-f|--force -d -x -X -n|--dry-run -i|--interactive -q|--quiet -e=|--exclude=" },
      branch: {
        options: "-d|--delete -f|--force -m|--move -c|--copy -D:-d,-f -M:-m,-f -C:-c,-f -r|--remotes -a|--all -l|--list -v|--verbose -q|--quiet -t|--track? --no-track -u=|--set-upstream-to= --unset-upstream --merged --no-merged --contains --no-contains --points-at= --sort= --format= --show-current --create-reflog",
      },
      checkout: { options: "-f|--force -b= -B= --orphan= -t|--track? --no-track -p|--patch -q|--quiet --ours --theirs -m|--merge --detach --conflict= --recurse-submodules? --pathspec-from-file=" },
      switch: { options: "-c=|--create= -C=|--force-create= -f|--force|--discard-changes -d|--detach --orphan= -t|--track? -m|--merge -q|--quiet" },
      restore: { options: "-s=|--source= -S|--staged -W|--worktree -p|--patch -q|--quiet --ours --theirs -m|--merge --overlay --no-overlay --pathspec-from-file=" },
      commit: {
        options: "-a|--all -m=|--message= -F=|--file= --amend -n|--no-verify -s|--signoff -q|--quiet -v|--verbose --allow-empty --allow-empty-message -C=|--reuse-message= -c=|--reedit-message= --author= --date= -S?|--gpg-sign? --no-gpg-sign --fixup= --squash= -e|--edit --no-edit -p|--patch -u?|--untracked-files? -t=|--template= --cleanup= -o|--only -i|--include",
      },
      rebase: { options: "-i|--interactive -x=|--exec= --onto= --root --autosquash --no-autosquash -f|--force-rebase --no-ff --continue --abort --skip -q|--quiet -v|--verbose --autostash -r|--rebase-merges? --update-refs -s=|--strategy= -X=|--strategy-option=" },
      merge: { options: "--no-ff --ff-only --squash -m=|--message= --abort --continue -s=|--strategy= -X=|--strategy-option= --no-verify --allow-unrelated-histories -q|--quiet -v|--verbose --no-edit -e|--edit" },
      rm: { options: "-r -f|--force --cached -n|--dry-run -q|--quiet --ignore-unmatch --pathspec-from-file=" },
      stash: { subs: { drop: { options: "-q|--quiet" }, clear: {}, pop: { options: "--index -q|--quiet" }, push: { options: "-m=|--message= -u|--include-untracked -a|--all -k|--keep-index -p|--patch -q|--quiet" } } },
      tag: { options: "-d|--delete -f|--force -a|--annotate -s|--sign -m=|--message= -F=|--file= -l|--list -u=|--local-user=" },
      fetch: { options: "-f|--force --all -p|--prune -P|--prune-tags -t|--tags --depth= --unshallow --upload-pack= -q|--quiet -v|--verbose --dry-run" },
      pull: { options: "-f|--force --rebase? --no-rebase --ff-only --no-ff -q|--quiet -v|--verbose --all --autostash --upload-pack= -s=|--strategy=" },
      clone: { options: "-b=|--branch= --depth= --bare --mirror -u=|--upload-pack= -c=|--config= -o=|--origin= --recurse-submodules? -q|--quiet -v|--verbose --single-branch --no-checkout --template= --separate-git-dir= --filter= --reference=" },
      gc: { options: "--prune? --aggressive --auto -q|--quiet --force" },
      "filter-branch": { options: "-f|--force --env-filter= --tree-filter= --index-filter= --parent-filter= --msg-filter= --commit-filter= --tag-name-filter= --subdirectory-filter= --prune-empty -d= --original=" },
    },
  },
  curl: {
    options:
      "-X=|--request= -d=|--data= --data-raw= --data-binary= --data-urlencode= --data-ascii= --json= -F=|--form= --form-string= -H=|--header= -o=|--output= -O|--remote-name -L|--location -s|--silent -S|--show-error -f|--fail -k|--insecure -u=|--user= -T=|--upload-file= -K=|--config= -x=|--proxy= -A=|--user-agent= -e=|--referer= -b=|--cookie= -c=|--cookie-jar= -I|--head -v|--verbose -i|--include -w=|--write-out= -m=|--max-time= --connect-timeout= -r=|--range= -C=|--continue-at= -G|--get --compressed -#|--progress-bar --retry= -z=|--time-cond= -E=|--cert= --cacert= --key= -4|--ipv4 -6|--ipv6 --url= -n|--netrc --netrc-file= -D=|--dump-header= -Z|--parallel --create-dirs -J|--remote-header-name -R|--remote-time --unix-socket= --resolve= --connect-to=",
  },
  wget: {
    options:
      "-O=|--output-document= -o=|--output-file= -a=|--append-output= -q|--quiet -v|--verbose -nv|--no-verbose -r|--recursive -l=|--level= -P=|--directory-prefix= -i=|--input-file= -N|--timestamping -c|--continue -nc|--no-clobber -nd|--no-directories -nH|--no-host-directories -np|--no-parent --method= --post-data= --post-file= --body-data= --body-file= --header= --user= --password= --no-check-certificate --delete-after -m|--mirror -k|--convert-links -p|--page-requisites -b|--background -e=|--execute= -U=|--user-agent= -t=|--tries= -T=|--timeout= -S|--server-response --spider -x|--force-directories -A=|--accept= -R=|--reject= -D=|--domains= -H|--span-hosts -Q=|--quota= --limit-rate= -w=|--wait= --no-proxy",
  },
  docker: {
    style: "pflag",
    options: "-H=|--host= -c=|--context= --config= -D|--debug -l=|--log-level= --tls --tlsverify --tlscacert= --tlscert= --tlskey=",
    subs: {
      rm: { options: "-f|--force -v|--volumes -l|--link" },
      rmi: { options: "-f|--force --no-prune" },
      run: { options: DOCKER_RUN },
      create: { options: DOCKER_RUN },
      exec: { options: "-i|--interactive -t|--tty -u=|--user= -e=|--env= --env-file= -w=|--workdir= -d|--detach --privileged --detach-keys=" },
      kill: { options: "-s=|--signal=" },
      stop: { options: "-s=|--signal= -t=|--time=|--timeout=" },
      push: { options: "-a|--all-tags -q|--quiet --platform= --disable-content-trust" },
      build: { options: "-t=|--tag= -f=|--file= --build-arg= --no-cache --pull --platform= --target= --network= --secret= --ssh= --progress= -q|--quiet --push --load -o=|--output= --label=" },
      system: { subs: { prune: { options: DOCKER_PRUNE } } },
      volume: { subs: { rm: { options: "-f|--force" }, remove: "volume rm", prune: { options: DOCKER_PRUNE } } },
      image: { subs: { rm: "rmi", remove: "rmi", prune: { options: DOCKER_PRUNE } } },
      network: { subs: { rm: { options: "-f|--force" }, remove: "network rm", prune: { options: DOCKER_PRUNE } } },
      container: { subs: { rm: "rm", remove: "rm", run: "run", create: "create", exec: "exec", kill: "kill", stop: "stop", prune: { options: DOCKER_PRUNE } } },
      builder: { subs: { prune: { options: DOCKER_PRUNE } } },
      compose: {
        options: "-f=|--file= -p=|--project-name= --profile= --env-file= --project-directory=",
        subs: { down: { options: "-v|--volumes --rmi= --remove-orphans -t=|--timeout=" }, rm: { options: "-f|--force -s|--stop -v|--volumes" }, up: { options: "-d|--detach --build --force-recreate --remove-orphans -V|--renew-anon-volumes" } },
      },
    },
  },
  kubectl: {
    style: "pflag",
    options: K8S_GLOBAL,
    subs: {
      delete: {},
      apply: {},
      drain: { options: "--ignore-daemonsets --delete-emptydir-data --delete-local-data --disable-eviction --pod-selector=" },
      exec: { options: "-c=|--container= -t|--tty" },
      scale: { options: "--replicas= --current-replicas=" },
      patch: { options: "-p=|--patch= --type=" },
    },
  },
  helm: {
    style: "pflag",
    options: "-n=|--namespace= --kube-context= --kubeconfig= --debug",
    subs: {
      uninstall: { options: "--dry-run --keep-history --wait --timeout= --no-hooks --cascade=" },
      delete: "uninstall",
      del: "uninstall",
      un: "uninstall",
      install: { options: "-f=|--values= --set= --set-string= --set-file= --force --atomic --create-namespace --version= --wait --timeout= --dry-run? --no-hooks --replace" },
      upgrade: { options: "-i|--install -f=|--values= --set= --set-string= --set-file= --force --atomic --create-namespace --version= --wait --timeout= --dry-run? --no-hooks --reset-values --reuse-values" },
    },
  },
  terraform: {
    style: "single-dash",
    options: "-chdir= -help -version",
    subs: {
      destroy: { options: "-auto-approve -target= -var= -var-file= -lock? -lock-timeout= -input? -refresh? -parallelism= -state= -no-color -json" },
      apply: {
        options: "-auto-approve -destroy -target= -replace= -var= -var-file= -lock? -lock-timeout= -input? -refresh? -refresh-only -parallelism= -state= -state-out= -backup= -no-color -json -compact-warnings",
        becomes: { "-destroy": "destroy" },
      },
      plan: { options: "-destroy -target= -var= -var-file= -out= -refresh-only -lock? -input? -no-color -json" },
      state: { subs: { rm: { options: "-dry-run -lock? -state= -backup=" } } },
    },
  },
  npm: {
    options: NPM_GLOBAL,
    subs: {
      publish: {},
      unpublish: {},
      install: {},
      i: "install",
      add: "install",
      in: "install",
      isntall: "install",
      uninstall: {},
      un: "uninstall",
      remove: "uninstall",
      rm: "uninstall",
      r: "uninstall",
      unlink: "uninstall",
      ci: {},
      "clean-install": "ci",
      ic: "ci",
      "install-clean": "ci",
      run: {},
      "run-script": "run",
      rum: "run",
      urn: "run",
      exec: {},
      x: "exec",
      test: {},
      t: "test",
      tst: "test",
      cache: { subs: { clean: {} } },
    },
  },
  pip: {
    options: "-q|--quiet -v|--verbose --isolated --require-virtualenv --python= --proxy= --no-cache-dir --disable-pip-version-check",
    subs: {
      install: {
        options: "-r=|--requirement= -e=|--editable= -U|--upgrade --user -i=|--index-url= --extra-index-url= -t=|--target= --pre --no-deps --force-reinstall -I|--ignore-installed --break-system-packages --trusted-host= -c=|--constraint= -f=|--find-links= --no-index --upgrade-strategy= --root= --prefix= --require-hashes --no-build-isolation",
      },
      uninstall: { options: "-y|--yes -r=|--requirement= --break-system-packages" },
      download: { options: "-d=|--dest= -r=|--requirement= -i=|--index-url= --extra-index-url=" },
    },
  },
  gh: {
    style: "pflag",
    options: "-R=|--repo=",
    subs: {
      repo: { subs: { delete: { options: "--yes" }, edit: { options: "--visibility=" } } },
      release: { subs: { delete: { options: "-y|--yes --cleanup-tag" } } },
      pr: { subs: { merge: { options: "--admin -d|--delete-branch -s|--squash -m|--merge -r|--rebase --auto -b=|--body= -t=|--subject=" }, close: { options: "-d|--delete-branch -c=|--comment=" } } },
    },
  },
  rsync: {
    options:
      "-a|--archive -r|--recursive -v|--verbose -z|--compress -n|--dry-run --delete --delete-before --delete-during --delete-after --delete-excluded --remove-source-files -e=|--rsh= --rsync-path= --exclude= --include= -f=|--filter= -P --progress -h|--human-readable --chmod= --chown= -u|--update -c|--checksum --inplace -L|--copy-links -l|--links -H|--hard-links -A|--acls -X|--xattrs -o|--owner -g|--group -p|--perms -t|--times -D --force",
  },
};

// Same options, another name.
for (const [alias, tool] of [["pip3", "pip"], ["tofu", "terraform"], ["oc", "kubectl"], ["podman", "docker"], ["pnpm", "npm"], ["mkfs.ext4", "mkfs"], ["mkfs.xfs", "mkfs"]] as const) {
  OPTION_TABLE[alias] = OPTION_TABLE[tool] as ToolOptions;
}
