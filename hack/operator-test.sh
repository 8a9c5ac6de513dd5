#!/usr/bin/env bash
# make test-operator: the operator's cluster tier. Uses $KUBECONFIG when it reaches a cluster,
# otherwise starts the local control plane (make cluster-up); installs manifests/ with kubectl -k and
# runs operator/test/cluster, where the operator runs as a local process with its ServiceAccount token.
set -euo pipefail
LOG_TAG=operator-test; source "$(dirname "$0")/lib.sh"
export PATH="$CACHE_ROOT/bin:$PATH"

if [[ -z "${KUBECONFIG:-}" || ! -f "$KUBECONFIG" ]]; then
  export KUBECONFIG="$STATE_ROOT/cluster/kubeconfig"
  if ! kubectl version >/dev/null 2>&1; then
    [[ -x "$HACK_DIR/cluster/up.sh" ]] || die "no cluster: export KUBECONFIG, or merge main for make cluster-up"
    log "starting the local control plane (make cluster-up)"
    make -C "$REPO_ROOT" --no-print-directory cluster-up >/dev/null
  fi
fi
kubectl version >/dev/null 2>&1 || die "cannot reach the cluster of KUBECONFIG=$KUBECONFIG"
log "installing manifests/ on $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
kubectl apply -k "$REPO_ROOT/manifests/" >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/expressapps.platform.sqlize.dev >/dev/null
# The in-cluster operator pods are simulated on kwok nodes; scale them away so the operator under test
# is the only candidate for the Lease.
kubectl -n expressapp-system scale deployment/expressapp-operator --replicas=0 >/dev/null
cd "$REPO_ROOT/operator"
exec node --experimental-vm-modules "$REPO_ROOT/node_modules/jest/bin/jest.js" --runInBand "${@:-test/cluster}"
