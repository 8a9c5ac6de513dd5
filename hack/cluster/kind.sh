#!/usr/bin/env bash
# A kind cluster for machines where Docker can run kind's node image; elsewhere it says why not
# and points to the local control plane (make cluster-up), which needs neither.
#   hack/cluster/kind.sh up | down | status
# KIND_NODE_IMAGE (pinned in hack/versions.env) picks the node image; KIND_HTTP_PORT/KIND_HTTPS_PORT the ingress ports.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=kind; source "$(dirname "$0")/common.sh"

CLUSTER_NAME="${KIND_CLUSTER_NAME:-express-sqlize-platform}"
KIND_DIR="$STATE_ROOT/kind"
KIND_KUBECONFIG="$KIND_DIR/kubeconfig"
KIND_HTTP_PORT="${KIND_HTTP_PORT:-8080}"
KIND_HTTPS_PORT="${KIND_HTTPS_PORT:-8443}"
KIND="$TOOLS_BIN/kind"

unavailable() {
  die "$1; kind cannot run here. Use the local control plane instead: make cluster-up (real etcd + kube-apiserver with kwok nodes, no Docker needed)"
}

preflight() {
  [[ -x "$KIND" ]] || die "$KIND is missing: run 'make tools' first"
  command -v docker >/dev/null 2>&1 || unavailable "docker is not installed"
  docker info >/dev/null 2>&1 || unavailable "the Docker daemon is not reachable ($(docker info 2>&1 | tail -1))"
  if ! docker image inspect "$KIND_NODE_IMAGE" >/dev/null 2>&1; then
    log "pulling $KIND_NODE_IMAGE"
    docker pull "$KIND_NODE_IMAGE" >/dev/null 2>&1 || unavailable "kind's node image $KIND_NODE_IMAGE cannot be pulled"
  fi
}

case "${1:-}" in
  up)
    preflight
    if "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
      log "kind cluster $CLUSTER_NAME already exists"
    else
      for pv in "$KIND_HTTP_PORT:KIND_HTTP_PORT" "$KIND_HTTPS_PORT:KIND_HTTPS_PORT"; do port_free "${pv%%:*}" "kind ingress (${pv#*:})"; done
      mkdir -p "$KIND_DIR"
      sed -e "s/\${KIND_HTTP_PORT}/$KIND_HTTP_PORT/" -e "s/\${KIND_HTTPS_PORT}/$KIND_HTTPS_PORT/" \
        "$CLUSTER_SRC/kind/kind.yaml" >"$KIND_DIR/kind.yaml"
      timed "kind create cluster $CLUSTER_NAME" "$KIND" create cluster --name "$CLUSTER_NAME" \
        --config "$KIND_DIR/kind.yaml" --kubeconfig "$KIND_KUBECONFIG" --wait 120s --image "$KIND_NODE_IMAGE" \
        || unavailable "kind create cluster failed (is kind's node image reachable from Docker?)"
    fi
    echo "export KUBECONFIG=$KIND_KUBECONFIG"
    ;;
  down)
    if [[ -x "$KIND" ]] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
      "$KIND" delete cluster --name "$CLUSTER_NAME" --kubeconfig "$KIND_KUBECONFIG"
    else
      log "Docker is not available, so there is no kind cluster to delete"
    fi
    rm -rf "$KIND_DIR"
    ;;
  status)
    preflight
    "$KIND" get clusters | grep -qx "$CLUSTER_NAME" && echo "kind cluster $CLUSTER_NAME exists" || echo "no kind cluster $CLUSTER_NAME"
    ;;
  *) die "usage: $0 up|down|status" ;;
esac
