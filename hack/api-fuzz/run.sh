#!/usr/bin/env bash
# make test-api: schemathesis, a property-based API tester, against the service's own OpenAPI
# document. Starts the built service the way `make run` does (SQLite, embedded defaults) on a
# private port and a throwaway state directory, logs in as the bootstrap admin and runs every
# check on every operation with a fixed number of examples and a fixed seed, so a run is
# reproducible; any failure fails the tier.
#   hack/api-fuzz/run.sh [extra schemathesis options]
# API_FUZZ_PORT (default 31470), API_FUZZ_EXAMPLES (examples per operation, default 20) and
# API_FUZZ_SEED (default 1) change the run; the virtualenv is cached in the tool cache.
set -euo pipefail
LOG_TAG=test-api; source "$(dirname "$0")/../lib.sh"

here="$HACK_DIR/api-fuzz"
port="${API_FUZZ_PORT:-31470}"
examples="${API_FUZZ_EXAMPLES:-20}"
seed="${API_FUZZ_SEED:-1}"
base="http://127.0.0.1:$port"

# The virtualenv is keyed by the requirements file's hash: a changed pin builds a fresh one.
venv="$CACHE_ROOT/api-fuzz/venv-$(sha256sum "$here/requirements.txt" | cut -c1-12)"
# A virtualenv cannot be moved (its scripts name their own path), so the stamp marks it complete.
if [[ ! -f "$venv/.installed" ]]; then
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  log "installing $(grep -v '^#' "$here/requirements.txt" | xargs) into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  quiet "$venv/bin/pip" install --disable-pip-version-check -q -r "$here/requirements.txt"
  touch "$venv/.installed"
fi
log "$("$venv/bin/schemathesis" --version) from $venv"

[[ -f "$REPO_ROOT/service/dist/main.js" ]] || die "service/dist/main.js is missing: run make build first"
port_free "$port" "the service (API_FUZZ_PORT)"
state="$(mktemp -d)"
service_pid= service_up=0
cleanup() {
  local rc=$?
  ((rc == 0 || service_up)) || { log "the service's log:"; tail -n 40 "$state/service.log" >&2 || true; }
  [[ -n "$service_pid" ]] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  rm -rf "$state"
}
trap cleanup EXIT

admin_email="${ADMIN_EMAIL:-admin@example.com}"
admin_password="${ADMIN_PASSWORD:-Fuzz-Pw9-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')}"
log "starting the service on $base (SQLite and state in $state, admin $admin_email)"
# As `make run` serves: the embedded SQLite and in-process stand-ins, whatever the shell points at.
(cd "$REPO_ROOT/service" && exec env -u DATABASE_URL -u REDIS_URL -u REDIS_HOST -u FEATURE_FLAGS_FILE \
  -u RULES_FILE PORT="$port" HOST=127.0.0.1 STATE_DIR="$state" DB_DIALECT=sqlite SHUTDOWN_DELAY_MS=0 \
  BCRYPT_COST=4 ADMIN_EMAIL="$admin_email" ADMIN_PASSWORD="$admin_password" \
  node --enable-source-maps dist/main.js >"$state/service.log" 2>&1) &
service_pid=$!
wait_for "the service's /startup" 30 curl -fsS "$base/startup"
service_up=1

login() {
  curl -fsS "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "$(printf '{"email":"%s","password":"%s"}' "$admin_email" "$admin_password")" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["accessToken"])'
}
main_token="$(login)" && session_token="$(login)" && logout_token="$(login)" \
  || { service_up=0; die "the admin login failed"; }
log "logged in as $admin_email three times: a token for the run, one each for the operations that end one"

# st PHASE_NAME TOKEN OPTIONS...: one schemathesis run; its figures are added up for the summary.
total_cases=0 total_failures=0 rc=0
st() {
  local name="$1" token="$2"; shift 2
  local report="$state/$name.json" status=0
  log "schemathesis run $base/openapi.json --checks all --max-examples $examples --seed $seed $* ($name)"
  (cd "$state" && "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
    --checks all --max-examples "$examples" --seed "$seed" --workers 2 \
    --header "Authorization: Bearer $token" --report-json-path "$report" "$@" "${extra[@]}") \
    || status=$?
  local cases=0 failing=0
  if [[ -f "$report" ]]; then
    read -r cases failing < <(python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["test_cases"]
print(t["generated"], t["with_failures"] + t["errored"])' "$report")
  fi
  total_cases=$((total_cases + cases)) total_failures=$((total_failures + failing))
  log "$name: $cases cases, $failing failing (exit $status)"
  ((status == 0)) || rc=1
}
extra=("$@")
start=$SECONDS
# Logging out and deleting one's own session revoke the token they are sent with: in the main run
# the first such case would turn every later one into a 401. Each runs apart, after it, with a token
# of its own (deleting a session is tested first: it ends its own only when given that id).
# GET /api/v1/events is a stream that stays open (Server-Sent Events): a tool that reads each answer
# to its end would wait forever, so it is left out here; its tests read it as a stream
# (service/test/postgres/events-sse.test.ts, service/test/redis/events-replicas.test.ts).
st main "$main_token" --exclude-path /api/v1/auth/logout --exclude-path '/api/v1/auth/sessions/{id}' \
  --exclude-path /api/v1/events
st session "$session_token" --include-path '/api/v1/auth/sessions/{id}'
st logout "$logout_token" --include-path /api/v1/auth/logout
log "schemathesis: $total_cases cases, $total_failures failures in $((SECONDS - start))s (seed $seed, $examples examples per operation)"
exit $rc
