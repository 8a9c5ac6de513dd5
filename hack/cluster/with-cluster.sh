#!/usr/bin/env bash
# hack/cluster/with-cluster.sh CMD...
# Runs CMD with KUBECONFIG pointing at the local cluster. Starts the cluster when none of its
# processes runs, and then stops it (and deletes its data) when CMD ends, also when CMD fails;
# a cluster that was already running is left running, as it was found.
set -uo pipefail
LOG_TAG=cluster; source "$(dirname "$0")/common.sh"
(( $# )) || die "usage: $0 CMD..."

owned=1
for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null && owned=0; done
if (( owned )); then
  trap '"$CLUSTER_SRC/down.sh" || true' EXIT
else
  log "using the local cluster that is already running (it stays up afterwards)"
fi
# Also fills in a component that stopped, so a half-running cluster is usable.
"$CLUSTER_SRC/up.sh" >/dev/null || exit 1
export KUBECONFIG="$KUBECONFIG_PATH" PATH="$TOOLS_BIN:$PATH"
"$@"
