#!/usr/bin/env bash
# Re-takes the screenshot of the interactive API docs (service/docs/api-docs.png): starts the built
# service with the embedded defaults on a throwaway state directory, opens /docs in Debian's headless
# chromium, and stops it.
#   hack/docs-screenshot.sh [OUTPUT.png]     (make docs-screenshot)
# DOCS_PORT (default 3900) picks the port, DOCS_HEIGHT (default 1900) the window's height, and
# DOCS_ANCHOR an operation to open, e.g. /users/post_api_v1_users; run `make build` first.
set -euo pipefail
LOG_TAG=docs-screenshot; source "$(dirname "$0")/lib.sh"

out="$(realpath -m "${1:-$REPO_ROOT/service/docs/api-docs.png}")"
port="${DOCS_PORT:-3900}"
anchor="${DOCS_ANCHOR:-}"

browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$browser" ]]; then
  [[ $EUID -eq 0 ]] || die "chromium is not installed; run: sudo apt-get install -y chromium"
  log "installing Debian's chromium package"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >/dev/null \
    || die "apt-get install chromium failed"
  browser="$(command -v chromium)"
fi
[[ -f "$REPO_ROOT/service/dist/main.js" ]] || die "service/dist/main.js is missing: run make build first"
port_free "$port" "the service (DOCS_PORT)"

state="$(mktemp -d)"
service_pid=
cleanup() {
  [[ -n "$service_pid" ]] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  rm -rf "$state"
}
trap cleanup EXIT

log "starting the service on 127.0.0.1:$port (state in $state)"
(cd "$REPO_ROOT/service" && PORT="$port" HOST=127.0.0.1 STATE_DIR="$state" SHUTDOWN_DELAY_MS=0 BCRYPT_COST=4 \
  exec node dist/main.js >"$state/service.log" 2>&1) &
service_pid=$!
wait_for "the service's /health" 30 curl -fsS "http://127.0.0.1:$port/health"

log "screenshot of http://127.0.0.1:$port/docs${anchor:+#$anchor} with $(basename "$browser") -> $out"
mkdir -p "$(dirname "$out")"
# --no-sandbox: chromium refuses to start as root otherwise; the page is our own, on loopback.
# --virtual-time-budget lets Swagger UI fetch /openapi.json and render before the capture.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --user-data-dir="$state/chromium" --window-size=1280,${DOCS_HEIGHT:-1900} --virtual-time-budget=15000 \
  --screenshot="$out" "http://127.0.0.1:$port/docs${anchor:+#$anchor}" 2>"$state/chromium.log" \
  || { cat "$state/chromium.log" >&2; die "chromium failed"; }
[[ -s "$out" ]] || die "chromium wrote no screenshot"
log "wrote $out ($(stat -c %s "$out") bytes)"
