#!/usr/bin/env bash
# hack/with-deps.sh postgres redis -- CMD...
# Starts the named local dependencies, exports their URLs, runs CMD, then stops exactly the
# dependencies this call started (one that was already running is left as it was), also when CMD fails.
set -uo pipefail
LOG_TAG=deps; source "$(dirname "$0")/lib.sh"

deps=()
while [[ $# -gt 0 && "$1" != "--" ]]; do deps+=("$1"); shift; done
[[ "${1:-}" == "--" ]] && shift || die "usage: $0 postgres|redis ... -- CMD..."
[[ $# -gt 0 ]] || die "no command given after --"

started=()
cleanup() {
  local d
  for d in "${started[@]}"; do "$HACK_DIR/$d.sh" down || true; done
}
trap cleanup EXIT
for d in "${deps[@]}"; do
  [[ -x "$HACK_DIR/$d.sh" ]] || die "unknown dependency '$d' (expected hack/$d.sh)"
  if ! "$HACK_DIR/$d.sh" status >/dev/null 2>&1; then
    "$HACK_DIR/$d.sh" up || exit 1
    started+=("$d")
  fi
  eval "$("$HACK_DIR/$d.sh" env)"
done
"$@"
