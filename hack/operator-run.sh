#!/usr/bin/env bash
# make run-operator: the operator as a local process against the current KUBECONFIG, as kubebuilder's
# `make run` does. Installs the CRD and the lease namespace first (server-side apply, idempotent).
set -euo pipefail
LOG_TAG=operator; source "$(dirname "$0")/lib.sh"

export PATH="$CACHE_ROOT/bin:$PATH"
[[ -n "${KUBECONFIG:-}" && -f "$KUBECONFIG" ]] || die "KUBECONFIG (${KUBECONFIG:-unset}) is not a file: run 'make cluster-up' or export KUBECONFIG"
command -v kubectl >/dev/null || die "kubectl not found: run 'make tools'"
[[ -f "$REPO_ROOT/operator/dist/main.js" ]] || die "operator/dist is missing: run 'make operator-build'"

log "installing the ExpressApp CRD and namespace expressapp-system on $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
kubectl apply -f "$REPO_ROOT/manifests/crd/platform.sqlize.dev_expressapps.yaml" >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/expressapps.platform.sqlize.dev >/dev/null
kubectl create namespace expressapp-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null

export POD_NAMESPACE="${POD_NAMESPACE:-expressapp-system}"
# Off the usual 8080/8081 so a local run does not collide with other services on the machine.
export METRICS_PORT="${METRICS_PORT:-18080}" HEALTH_PORT="${HEALTH_PORT:-18081}" BIND_ADDRESS="${BIND_ADDRESS:-127.0.0.1}"
log "running the operator (metrics :$METRICS_PORT/metrics, probes :$HEALTH_PORT/healthz); Ctrl-C stops it"
exec node --enable-source-maps "$REPO_ROOT/operator/dist/main.js"
