#!/usr/bin/env bash
# Stops the local cluster's processes (exactly the recorded pids) and removes its data.
#   hack/cluster/down.sh                         stop everything, delete .local/cluster
#   hack/cluster/down.sh etcd kube-apiserver     stop only these, keep all data (restart tests)
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=cluster; source "$(dirname "$0")/common.sh"

if (( $# )); then
  for c in "$@"; do is_component "$c" || die "unknown component '$c' (known: ${COMPONENTS[*]})"; done
  # Reverse start order, so a client (apiserver) goes before what it depends on (etcd).
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    c="${COMPONENTS[$i]}"
    [[ " $* " == *" $c "* ]] && stop_process "$c"
  done
  exit 0
fi

for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_process "${COMPONENTS[$i]}"; done
if [[ -d "$CLUSTER_DIR" ]]; then
  # The logs outlive the data, so a failed test run can still be diagnosed after the teardown.
  if [[ -d "$LOG_DIR" ]]; then
    rm -rf "$STATE_ROOT/cluster-logs" && mv "$LOG_DIR" "$STATE_ROOT/cluster-logs"
    log "kept the logs of this run in $STATE_ROOT/cluster-logs"
  fi
  rm -rf "$CLUSTER_DIR"
  log "removed $CLUSTER_DIR"
else
  log "no local cluster state in $CLUSTER_DIR"
fi
