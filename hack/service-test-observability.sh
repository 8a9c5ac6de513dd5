#!/usr/bin/env bash
# The observability tier, run by `make test-observability` under hack/with-deps.sh (PostgreSQL and
# Redis on this tier's ports). The suites stop and start Redis and run a Prometheus: one at a time.
set -euo pipefail
LOG_TAG=service-obs; source "$(dirname "$0")/lib.sh"

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-${DATABASE_URL:-}}"
[[ -n "$TEST_DATABASE_URL" ]] || die "no PostgreSQL: run through hack/with-deps.sh postgres redis -- $0"
export TEST_REDIS_URL="${TEST_REDIS_URL:-${REDIS_URL:-}}"
unset DATABASE_URL REDIS_URL
cd "$REPO_ROOT/service"
node --experimental-vm-modules ../node_modules/jest/bin/jest.js --selectProjects observability --runInBand --forceExit "$@"
