#!/usr/bin/env bash
# Puts this checkout onto the kind cluster of hack/cluster/kind.sh (created first when missing):
#   hack/cluster/kind/deploy.sh images   build the service and operator images from the real Dockerfile
#                                        (the project's usual engine) and load them into the node, with
#                                        PostgreSQL and Redis images built from Debian's packages
#   hack/cluster/kind/deploy.sh deps     a throw-away PostgreSQL and Redis in namespace express-sqlize
#                                        (hack/skaffold/dev-dependencies.yaml, as skaffold's kind profile)
#   hack/cluster/kind/deploy.sh app      all of the above, then the chart as release express-sqlize with
#                                        hack/skaffold/values-kind.yaml: served through Traefik on
#                                        127.0.0.1:KIND_HTTP_PORT with Host express-sqlize.localtest.me
# SERVICE_IMAGE and OPERATOR_IMAGE name the images (make sets them).
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=kind-deploy; source "$(dirname "$0")/../common.sh"

KIND_SRC="$CLUSTER_SRC/kind"
CLUSTER_NAME="${KIND_CLUSTER_NAME:-express-sqlize-platform}"
KIND_HTTP_PORT="${KIND_HTTP_PORT:-8080}"
: "${SERVICE_IMAGE:?run through make (SERVICE_IMAGE is set by hack/make/chart.mk)}"
: "${OPERATOR_IMAGE:?run through make (OPERATOR_IMAGE is set by hack/make/chart.mk)}"
export PATH="$TOOLS_BIN:$PATH"
export KUBECONFIG="$STATE_ROOT/kind/kubeconfig"

images() {
  make -C "$REPO_ROOT" --no-print-directory image-build-service image-build-operator
  local postgresql redis
  read -r postgresql redis < <("$KIND_SRC/images.sh" deps)
  timed "kind load (service, operator, PostgreSQL, Redis)" quiet kind load docker-image \
    "$SERVICE_IMAGE" "$OPERATOR_IMAGE" "$postgresql" "$redis" --name "$CLUSTER_NAME"
  DEPS_IMAGES=("$postgresql" "$redis")
}

deps() {
  kubectl create namespace express-sqlize --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  sed -e "s|image: postgres:.*|image: ${DEPS_IMAGES[0]}|" -e "s|image: redis:.*|image: ${DEPS_IMAGES[1]}|" \
    "$HACK_DIR/skaffold/dev-dependencies.yaml" | kubectl apply -f - >/dev/null
  timed "PostgreSQL and Redis ready" bash -c '
    kubectl -n express-sqlize rollout status deployment/postgresql --timeout=300s &&
    kubectl -n express-sqlize rollout status deployment/redis --timeout=300s' >/dev/null
}

app() {
  timed "helm upgrade --install express-sqlize" helm upgrade --install express-sqlize "$REPO_ROOT/chart" \
    -n express-sqlize --wait --timeout 300s -f "$HACK_DIR/skaffold/values-kind.yaml" \
    --set "image.repository=${SERVICE_IMAGE%:*},image.tag=${SERVICE_IMAGE##*:},image.pullPolicy=IfNotPresent" >/dev/null
  local url="http://express-sqlize.localtest.me:$KIND_HTTP_PORT"
  wait_for "GET /health through the Ingress" 60 \
    curl -fsS --resolve "express-sqlize.localtest.me:$KIND_HTTP_PORT:127.0.0.1" "$url/health"
  log "the service answers through the Ingress: curl --resolve express-sqlize.localtest.me:$KIND_HTTP_PORT:127.0.0.1 $url/health"
}

"$HACK_DIR/cluster/kind.sh" up >/dev/null
DEPS_IMAGES=()
case "${1:-}" in
  images) images ;;
  deps) images; deps ;;
  app) images; deps; app ;;
  *) die "usage: $0 images|deps|app" ;;
esac
