#!/usr/bin/env bash
# make test-service-cluster: the service against the local control plane (run under
# hack/cluster/with-cluster.sh, which starts it when needed): service processes watch their flags
# ConfigMap through the API with the chart's Role, survive an API server restart and fall back to
# the mounted file while the API is unreachable.
set -euo pipefail
LOG_TAG=service-cluster; source "$(dirname "$0")/lib.sh"
[[ -n "${KUBECONFIG:-}" ]] && kubectl version >/dev/null 2>&1 \
  || die "no cluster: run through hack/cluster/with-cluster.sh (make test-service-cluster)"
cd "$REPO_ROOT/service"
log "flags watch suite against $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
exec node --experimental-vm-modules ../node_modules/jest/bin/jest.js --selectProjects cluster --runInBand "$@"
