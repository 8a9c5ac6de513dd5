#!/usr/bin/env bash
# make bench-operator: operator figures (printed, not asserted) against $KUBECONFIG or the local
# control plane. BENCH_CHANGES (100), BENCH_APPS (200), BENCH_IDLE_SECONDS (600) and
# BENCH_RESYNC_SECONDS (30) size the run; BENCH_FLAG_CHANGES (10) and BENCH_FLAG_REPLICAS (3) the
# flag propagation phase (service processes from service/dist, so `make build` comes first).
set -euo pipefail
LOG_TAG=operator-bench; source "$(dirname "$0")/lib.sh"
export PATH="$CACHE_ROOT/bin:$PATH"
if [[ -z "${KUBECONFIG:-}" || ! -f "$KUBECONFIG" ]]; then
  export KUBECONFIG="$STATE_ROOT/cluster/kubeconfig"
  kubectl version >/dev/null 2>&1 || make -C "$REPO_ROOT" --no-print-directory cluster-up >/dev/null
fi
kubectl version >/dev/null 2>&1 || die "cannot reach the cluster of KUBECONFIG=$KUBECONFIG"
kubectl apply -f "$REPO_ROOT/manifests/crd/platform.sqlize.dev_expressapps.yaml" >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/expressapps.platform.sqlize.dev >/dev/null
kubectl create namespace expressapp-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
log "running the operator benchmark (idle phase: ${BENCH_IDLE_SECONDS:-600}s)"
exec node --disable-warning=ExperimentalWarning "$REPO_ROOT/hack/operator-bench/bench.ts"
