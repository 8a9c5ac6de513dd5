#!/usr/bin/env bash
# make e2e: the e2e suites (e2e/: chart and platform) on the cluster E2E_CLUSTER names.
#   hack/e2e.sh local   the local control plane (kwok pods): make test-e2e-chart test-e2e-platform
#   hack/e2e.sh kind    a kind cluster with real pods: images built and loaded, ingress-nginx,
#                       in-cluster PostgreSQL and Redis, the operator as its Deployment; adds the
#                       kind-only tests of e2e/platform/kind/ (helm test, the Ingress, real probes).
# kind needs Docker and kind's node image; where either is missing this stops before building anything.
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

# 1. The cluster first: without Docker or the node image it fails here, with the reason.
"$HACK_DIR/cluster/kind.sh" up >/dev/null \
  || die "no kind cluster, so no suite ran; make e2e (E2E_CLUSTER=local) runs them on the local control plane, without the kind-only tests of e2e/platform/kind/"
export KUBECONFIG="$STATE_ROOT/kind/kubeconfig"

# 2. The images, loaded into the nodes (no registry: imagePullPolicy IfNotPresent finds them there).
make -C "$REPO_ROOT" --no-print-directory image-build-service image-build-operator
for image in "$SERVICE_IMAGE" "$OPERATOR_IMAGE"; do
  timed "kind load docker-image $image" kind load docker-image "$image" --name "$KIND_CLUSTER_NAME"
done

# 3. What the release needs around it: an Ingress controller on the node's mapped ports (kind's
#    guide), PostgreSQL and Redis (the same throw-away ones as skaffold's kind profile).
log "installing ingress-nginx ($INGRESS_NGINX_KIND_MANIFEST)"
kubectl apply -f "$INGRESS_NGINX_KIND_MANIFEST" >/dev/null
kubectl create namespace express-sqlize --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f "$HACK_DIR/skaffold/dev-dependencies.yaml" >/dev/null
# Each suite brings its own database password (a value or a Secret per namespace); this throw-away,
# in-cluster-only PostgreSQL accepts any of them.
kubectl -n express-sqlize set env deployment/postgresql POSTGRES_HOST_AUTH_METHOD=trust >/dev/null
timed "ingress-nginx, PostgreSQL and Redis ready" bash -c '
  kubectl -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s &&
  kubectl -n express-sqlize rollout status deployment/postgresql --timeout=300s &&
  kubectl -n express-sqlize rollout status deployment/redis --timeout=300s' >/dev/null

# 4. Values every install of the suites adds (E2E_VALUES): the loaded image and the database.
mkdir -p "$STATE_ROOT/e2e"
values="$STATE_ROOT/e2e/values-kind.yaml"
cat >"$values" <<EOF
# Written by hack/e2e.sh for the kind run: the image loaded into the nodes, the in-cluster database.
image:
  repository: ${SERVICE_IMAGE%:*}
  tag: ${SERVICE_IMAGE##*:}
  pullPolicy: IfNotPresent
database:
  host: postgresql.express-sqlize.svc.cluster.local
EOF

log "running the chart and platform suites on kind (operator as its Deployment, image $OPERATOR_IMAGE)"
cd "$REPO_ROOT"
E2E_CLUSTER=kind E2E_OPERATOR=deployment E2E_VALUES="$values" \
  npm run --silent -w e2e test -- --selectProjects chart platform
