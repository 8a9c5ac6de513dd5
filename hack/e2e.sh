#!/usr/bin/env bash
# make e2e: the e2e suites (e2e/: chart and platform) on the cluster E2E_CLUSTER names.
#   hack/e2e.sh local   the local control plane (kwok pods): make test-e2e-chart test-e2e-platform
#   hack/e2e.sh kind    a kind cluster with real pods (hack/cluster/kind.sh: created unless it exists,
#                       Traefik as its Ingress controller): both images built and loaded, in-cluster
#                       PostgreSQL and Redis, the operator as its Deployment; adds the kind-only tests
#                       of e2e/platform/kind/ (helm test, the Ingress, real probes, NetworkPolicy).
# KIND_KEEP=0 deletes a kind cluster this run created once the suites end (make test does so);
# by default it stays for the next run (make kind-down deletes it).
# E2E_TESTS=REGEX runs only the test files whose path matches (jest --testPathPatterns), e.g.
# `make e2e E2E_CLUSTER=kind E2E_TESTS=governed`.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=e2e; source "$(dirname "$0")/lib.sh"

cluster="${1:-local}"
case "$cluster" in
  local)
    exec make -C "$REPO_ROOT" --no-print-directory test-e2e-chart test-e2e-platform
    ;;
  kind) ;;
  *) die "E2E_CLUSTER is '$cluster': use local (the local control plane) or kind" ;;
esac

export PATH="$CACHE_ROOT/bin:$PATH"
KIND_CLUSTER_NAME="${KIND_CLUSTER_NAME:-express-sqlize-platform}"
export KIND_HTTP_PORT="${KIND_HTTP_PORT:-8080}"
: "${SERVICE_IMAGE:?run through make e2e (SERVICE_IMAGE is set by hack/make/chart.mk)}"
: "${OPERATOR_IMAGE:?run through make e2e (OPERATOR_IMAGE is set by hack/make/chart.mk)}"

created=0
# node_memory: the kind node's peak memory so far, from its container's cgroup (v1 or v2).
node_memory() {
  local id file
  id="$(docker inspect -f '{{.Id}}' "$KIND_CLUSTER_NAME-control-plane" 2>/dev/null)" || return 0
  for file in "/sys/fs/cgroup/memory/docker/$id/memory.max_usage_in_bytes" "/sys/fs/cgroup/docker/$id/memory.peak"; do
    [[ -r "$file" ]] && { log "kind node: peak memory $(awk '{printf "%.2f GiB", $1/2^30}' "$file")"; return 0; }
  done
}
finish() {
  local rc=$?
  node_memory
  if ((created)) && [[ "${KIND_KEEP:-1}" == 0 ]]; then "$HACK_DIR/cluster/kind.sh" down; fi
  return "$rc"
}
trap finish EXIT

# 1. The cluster (reused when it exists): kind's published node image, or the one built here.
"$HACK_DIR/cluster/kind.sh" status | grep -q '^kind cluster .* exists' || created=1
"$HACK_DIR/cluster/kind.sh" up >/dev/null || die "no kind cluster, so no suite ran"
export KUBECONFIG="$STATE_ROOT/kind/kubeconfig"

# 2. The images loaded into the node (no registry: imagePullPolicy IfNotPresent finds them there) and
#    a throw-away PostgreSQL and Redis in the cluster, as `make kind-deploy` has them.
"$HACK_DIR/cluster/kind/deploy.sh" deps
# Each suite brings its own database password (a value or a Secret per namespace); this throw-away,
# in-cluster-only PostgreSQL accepts any of them.
kubectl -n express-sqlize set env deployment/postgresql POSTGRES_HOST_AUTH_METHOD=trust >/dev/null
kubectl -n express-sqlize rollout status deployment/postgresql --timeout=300s >/dev/null

# 3. Values every install of the suites adds (E2E_VALUES): the loaded image and the database.
mkdir -p "$STATE_ROOT/e2e"
values="$STATE_ROOT/e2e/values-kind.yaml"
cat >"$values" <<EOF
# Written by hack/e2e.sh for the kind run: the image loaded into the node, the in-cluster database.
image:
  repository: ${SERVICE_IMAGE%:*}
  tag: ${SERVICE_IMAGE##*:}
  pullPolicy: IfNotPresent
database:
  host: postgresql.express-sqlize.svc.cluster.local
EOF

log "running the chart and platform suites on kind (operator as its Deployment, image $OPERATOR_IMAGE)"
cd "$REPO_ROOT"
# --verbose: every test with its duration, so a run on real pods shows where its time goes.
# --runInBand: one file at a time, as the suites share one operator and governed.test.ts deletes its
# leader pod.
E2E_CLUSTER=kind E2E_OPERATOR=deployment E2E_VALUES="$values" \
  npm run --silent -w e2e test -- --selectProjects chart platform --verbose --runInBand \
  ${E2E_TESTS:+--testPathPatterns "$E2E_TESTS"}
