#!/usr/bin/env bash
# Runs the test tiers named on the command line (make targets) in order, keeps going after a
# failure so one run reports every broken tier, and ends with one summary line.
set -uo pipefail
LOG_TAG=test; source "$(dirname "$0")/lib.sh"

passed=0; failed=0; failed_names=()
start_all=$SECONDS
for tier in "$@"; do
  log "=== $tier"
  start=$SECONDS
  if make --no-print-directory "$tier"; then
    passed=$((passed + 1)); log "=== $tier passed ($((SECONDS - start))s)"
  else
    failed=$((failed + 1)); failed_names+=("$tier"); log "=== $tier FAILED ($((SECONDS - start))s)"
  fi
done
log "all tiers finished in $((SECONDS - start_all))s"
(( failed == 0 )) || log "failed tiers: ${failed_names[*]}"
echo "tiers: $passed passed, $failed failed"
(( failed == 0 ))
