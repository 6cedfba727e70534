#!/usr/bin/env bash
# Rehearses the Dockerfile's runtime stage without a Docker daemon: the same
# `npm ci --omit=dev --ignore-scripts` into an empty folder, the built dist/ and bin/, then
# `clawgate serve` under tini as an unprivileged user against REDIS_URL, probed with the image's
# HEALTHCHECK command and stopped with SIGTERM (graceful: exit 0); the CLI (its bundle) runs
# there too. Catches a runtime import of a devDependency, a missing file in the image, and
# signal handling under an init.
# Usage: bash deploy/check-runtime.sh   (needs dist/ — npm run build — tini, and a Redis)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
TINI="$(command -v tini || true)"
[[ -n "$TINI" ]] || { echo "check-runtime: tini is not installed (apt-get install tini)" >&2; exit 1; }
[[ -f "$ROOT/dist/src/cli/main.js" ]] || { echo "check-runtime: run npm run build first" >&2; exit 1; }

APP="$(mktemp -d /tmp/clawgate-runtime.XXXXXX)"
PID=""
cleanup() { [[ -n "$PID" ]] && kill -KILL "$PID" 2>/dev/null || true; rm -rf "$APP"; }
trap cleanup EXIT

cp "$ROOT/package.json" "$ROOT/package-lock.json" "$APP/"
(cd "$APP" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
cp -r "$ROOT/dist" "$ROOT/bin" "$APP/"
mkdir -p "$APP/etc"
cp "$ROOT/deploy/clawgate.yaml" "$APP/etc/clawgate.yaml"
chmod -R a+rX "$APP"
# As the image's /var/lib/clawgate: a folder only the serve user writes, where it makes its decision key.
install -d -m 700 -o nobody -g nogroup "$APP/state"
if [[ -d "$APP/node_modules/tsx" || -d "$APP/node_modules/typescript" ]]; then echo "check-runtime: dev dependencies in the production install" >&2; exit 1; fi

PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
LOG="$APP/serve.log"
# As the image does: non-root, tini as the parent, JSON logs, read-only app folder.
setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH="$PATH" HOME=/tmp NODE_ENV=production LOG_FORMAT=json \
  REDIS_URL="$REDIS_URL" CLAWGATE_CONFIG="$APP/etc/clawgate.yaml" CLAWGATE_DATA_DIR="$APP/state" \
  "$TINI" -- node "$APP/bin/clawgate.js" serve --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 &
PID=$!

healthy=""
for _ in $(seq 1 100); do
  # The image's HEALTHCHECK command, pointed at this port.
  if node -e "fetch('http://127.0.0.1:$PORT/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then healthy=1; break; fi
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.2
done
[[ -n "$healthy" ]] || { echo "check-runtime: serve never became ready:" >&2; cat "$LOG" >&2; exit 1; }

# The CLI runs its bundle (dist/cli): it must start on production dependencies alone too.
cli() {
  setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH="$PATH" HOME=/tmp NODE_ENV=production \
    REDIS_URL="$REDIS_URL" CLAWGATE_CONFIG="$APP/etc/clawgate.yaml" node "$APP/bin/clawgate.js" "$@"
}
[[ -f "$APP/dist/cli/main.js" ]] || { echo "check-runtime: dist/cli (the CLI bundle) is missing" >&2; exit 1; }
[[ "$(cli --version)" == "$(node -p 'require(process.argv[1]).version' "$ROOT/package.json")" ]] || { echo "check-runtime: clawgate --version failed" >&2; exit 1; }
cli list --json >/dev/null || { echo "check-runtime: clawgate list failed" >&2; exit 1; }

kill -TERM "$PID"
code=0
wait "$PID" || code=$?
PID=""
grep -q '"msg":"clawgate serve stopped"' "$LOG" || { echo "check-runtime: no graceful stop in the log:" >&2; cat "$LOG" >&2; exit 1; }
[[ "$code" == 0 ]] || { echo "check-runtime: exit code $code after SIGTERM" >&2; cat "$LOG" >&2; exit 1; }
echo "check-runtime: ok (production install, non-root under tini, /readyz healthy, CLI runs, SIGTERM → exit 0)"
