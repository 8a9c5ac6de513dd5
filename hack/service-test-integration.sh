#!/usr/bin/env bash
# The service's integration tier, run by `make test-integration` under hack/with-deps.sh (which
# starts PostgreSQL if needed and stops it only when it started it):
#  1. unit + integration suites in parallel, against SQLite and this PostgreSQL, with the
#     coverage gate (>= 85% lines of service/src, enforced by jest);
#  2. the fault suite, alone, because it stops and restarts PostgreSQL (hack/postgres.sh).
set -euo pipefail
LOG_TAG=service-it; source "$(dirname "$0")/lib.sh"

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-${DATABASE_URL:-}}"
[[ -n "$TEST_DATABASE_URL" ]] || die "no PostgreSQL: run through hack/with-deps.sh postgres -- $0"
unset DATABASE_URL
cd "$REPO_ROOT/service"
jest=(node --experimental-vm-modules ../node_modules/jest/bin/jest.js)

log "unit + integration suites with coverage (PostgreSQL ${TEST_DATABASE_URL//:*@/:***@})"
"${jest[@]}" --coverage --selectProjects unit integration "$@"

log "fault suite (stops and restarts PostgreSQL)"
"${jest[@]}" --selectProjects faults --runInBand "$@"
