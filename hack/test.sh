#!/usr/bin/env bash
# Runs the test tiers named on the command line (make targets) in order, keeps going after a
# failure so one run reports every broken tier, and ends with one summary line.
# TEST_BACKGROUND (make targets, default "tools kind-image") are started in the background first: on
# a fresh machine the Go tool builds and the kind node image then overlap the tiers that need only
# Node, and the cluster tiers wait for them through the locks of hack/tools.sh and node-image.sh.
set -uo pipefail
LOG_TAG=test; source "$(dirname "$0")/lib.sh"

log_dir="$STATE_ROOT/logs"; mkdir -p "$log_dir"
background=()
for target in ${TEST_BACKGROUND-tools kind-image}; do
  log "starting 'make $target' in the background (log: $log_dir/$target.log)"
  make --no-print-directory "$target" >"$log_dir/$target.log" 2>&1 &
  background+=("$!")
done
cleanup() { local pid; for pid in "${background[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# The tiers of this run, for suites that say what another tier covers (e2e/platform/not-run.js).
export ESP_TEST_TIERS="$*"
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
