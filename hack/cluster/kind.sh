#!/usr/bin/env bash
# A kind cluster with real pods, on any machine with Debian's packages and the Go module proxy:
#   hack/cluster/kind.sh up       create it (reused when it exists), with its add-ons; prints KUBECONFIG
#   hack/cluster/kind.sh down     delete it (the node image stays in Docker's image store)
#   hack/cluster/kind.sh status   say whether it exists and its node is Ready
# The nodes run in the project's Docker engine (hack/docker-base.sh). The node image is kind's
# published one where it can be pulled (KIND_NODE_IMAGE, hack/versions.env) and otherwise built here
# (kind/node-image.sh, cached); KIND_NODE_SOURCE=local|published|auto (default auto) picks.
# Add-ons: Traefik as the Ingress controller on the node's ports 80/443 (mapped to
# 127.0.0.1:KIND_HTTP_PORT/KIND_HTTPS_PORT), metrics-server, and kube-router for NetworkPolicy with
# the local image (kind's published image brings kindnet, which enforces it itself), and monitoring:
# Prometheus Operator, kube-state-metrics and a Prometheus selecting `release: monitoring` (kind/addons/
# monitoring.yaml).
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=kind; source "$(dirname "$0")/common.sh"

CLUSTER_NAME="${KIND_CLUSTER_NAME:-express-sqlize-platform}"
KIND_DIR="$STATE_ROOT/kind"
KIND_KUBECONFIG="$KIND_DIR/kubeconfig"
KIND_HTTP_PORT="${KIND_HTTP_PORT:-8080}"
KIND_HTTPS_PORT="${KIND_HTTPS_PORT:-8443}"
KIND_NODE_SOURCE="${KIND_NODE_SOURCE:-auto}"
KIND="$TOOLS_BIN/kind"
KIND_SRC="$CLUSTER_SRC/kind"
export KUBECONFIG="$KIND_KUBECONFIG"

exists() { [[ -x "$KIND" ]] && docker info >/dev/null 2>&1 && "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; }
kubectl() { "$TOOLS_BIN/kubectl" "$@"; }

# node_image: prints the image to create the node from, pulling or building it.
node_image() {
  case "$KIND_NODE_SOURCE" in
    published | auto)
      if docker image inspect "$KIND_NODE_IMAGE" >/dev/null 2>&1 \
        || { log "pulling $KIND_NODE_IMAGE"; timeout 120 docker pull -q "$KIND_NODE_IMAGE" >/dev/null 2>&1; }; then
        echo "$KIND_NODE_IMAGE"; return
      fi
      [[ "$KIND_NODE_SOURCE" == auto ]] || die "kind's node image $KIND_NODE_IMAGE cannot be pulled (KIND_NODE_SOURCE=published)"
      log "kind's node image cannot be pulled here: building one from Debian's packages and Go modules"
      ;;
    local) ;;
    *) die "KIND_NODE_SOURCE is '$KIND_NODE_SOURCE': use auto, local or published" ;;
  esac
  "$KIND_SRC/node-image.sh"
}

# apply_addon FILE: the manifest with the pinned versions (${NAME_VERSION} of hack/versions.env) substituted.
apply_addon() {
  local subst=() name
  for name in $(grep -o '^[A-Z0-9_]*_VERSION' "$HACK_DIR/versions.env"); do subst+=(-e "s|\${$name}|${!name}|g"); done
  sed "${subst[@]}" "$KIND_SRC/addons/$1" | kubectl apply -f - >/dev/null
}

# install_monitoring: what kube-prometheus-stack installs, from the upstream modules' own files: the
# Prometheus Operator CRDs (the release of hack/schemas/monitoring.coreos.com), its ClusterRoles and
# kube-state-metrics', then kind/addons/monitoring.yaml, and waits for Prometheus to be ready.
install_monitoring() {
  local operator ksm
  operator="$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")"
  ksm="$(module_dir "k8s.io/kube-state-metrics/v2@$KUBE_STATE_METRICS_VERSION")"
  log "installing monitoring: Prometheus Operator $PROMETHEUS_OPERATOR_VERSION, kube-state-metrics $KUBE_STATE_METRICS_VERSION, Prometheus $PROMETHEUS_VERSION"
  # Server-side: the CRDs exceed the 256 KiB annotation a client-side apply records.
  kubectl apply --server-side --field-manager=esp-kind -f "$operator/example/prometheus-operator-crd" >/dev/null
  kubectl wait --for=condition=Established --timeout=60s -f "$operator/example/prometheus-operator-crd" >/dev/null
  kubectl apply -f "$operator/example/rbac/prometheus-operator/prometheus-operator-cluster-role.yaml" \
    -f "$operator/example/rbac/prometheus/prometheus-cluster-role.yaml" \
    -f "$operator/example/rbac/prometheus-operator-crd" -f "$ksm/examples/standard/cluster-role.yaml" >/dev/null
  apply_addon monitoring.yaml
  monitoring_ready
}

monitoring_ready() {
  kubectl -n monitoring rollout status deployment/prometheus-operator --timeout=180s >/dev/null
  kubectl -n monitoring rollout status deployment/kube-state-metrics --timeout=180s >/dev/null
  # The operator creates the StatefulSet once it has reconciled the Prometheus.
  wait_for "statefulset prometheus-monitoring (the operator's logs: kubectl -n monitoring logs deployment/prometheus-operator)" \
    120 kubectl -n monitoring get statefulset prometheus-monitoring
  kubectl -n monitoring rollout status statefulset/prometheus-monitoring --timeout=180s >/dev/null
}

# cluster_only_dns: CoreDNS answers for the cluster's own names only. The test cluster has nothing
# to reach outside, and where the node's upstream resolver does not answer, kubeadm's
# `forward . /etc/resolv.conf` made every other name wait 4-8 s before failing: long enough to fill
# a Node process's DNS thread pool and time out its database connection queued behind it.
cluster_only_dns() {
  local corefile
  corefile="$(kubectl -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}')"
  grep -q 'forward \. /etc/resolv.conf' <<<"$corefile" || return 0
  corefile="$(awk '/^[[:space:]]*forward \. \/etc\/resolv.conf/ {skip = /\{[[:space:]]*$/; next} skip {if (/\}/) skip = 0; next} {print}' <<<"$corefile")"
  kubectl -n kube-system create configmap coredns --from-literal=Corefile="$corefile" --dry-run=client -o yaml \
    | kubectl apply -f - >/dev/null 2>&1
  kubectl -n kube-system rollout restart deployment/coredns >/dev/null
  kubectl -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null
}

install_addons() {
  local image="$1" addons=(traefik.yaml metrics-server.yaml)
  if [[ "$image" == "$KIND_NODE_IMAGE" ]]; then
    # The published image lacks the add-ons' images: build them here and load them into the node.
    local tar; tar="$(mktemp "${TMPDIR:-/tmp}/esp-kind-addons.XXXX.tar")"
    "$KIND_SRC/images.sh" node "$tar"
    timed "kind load image-archive (add-ons)" "$KIND" load image-archive "$tar" --name "$CLUSTER_NAME" >/dev/null
    rm -f "$tar"
  else
    addons=(kube-router.yaml "${addons[@]}")
    cluster_only_dns
  fi
  log "installing add-ons: ${addons[*]%.yaml}"
  local a; for a in "${addons[@]}"; do apply_addon "$a"; done
  timed "add-ons ready" bash -c '
    kubectl() { "$0" "$@"; }
    kubectl -n traefik rollout status deployment/traefik --timeout=180s &&
    kubectl -n kube-system rollout status deployment/metrics-server --timeout=180s &&
    { [[ "$1" != *kube-router* ]] || kubectl -n kube-system rollout status daemonset/kube-router --timeout=180s; }' \
    "$TOOLS_BIN/kubectl" "${addons[*]}" >/dev/null
  timed "monitoring installed and ready" install_monitoring
}

up() {
  "$HACK_DIR/tools.sh" kind kubectl >/dev/null
  "$HACK_DIR/docker-base.sh" privileged
  if exists; then
    "$KIND" export kubeconfig --name "$CLUSTER_NAME" --kubeconfig "$KIND_KUBECONFIG" >/dev/null 2>&1
    if [[ "$(docker inspect -f '{{.State.Running}}' "$CLUSTER_NAME-control-plane" 2>/dev/null)" == true ]] \
      && (wait_for "the existing cluster's API" 60 kubectl get --raw /readyz); then
      log "kind cluster $CLUSTER_NAME already exists (make kind-down deletes it)"
      return
    fi
    # A node stopped with its engine (a reboot, a killed session) does not come back whole.
    log "kind cluster $CLUSTER_NAME exists but does not answer: recreating it"
    "$KIND" delete cluster --name "$CLUSTER_NAME" --kubeconfig "$KIND_KUBECONFIG" >/dev/null 2>&1
  fi
  local image; image="$(node_image)"
  local pv; for pv in "$KIND_HTTP_PORT:KIND_HTTP_PORT" "$KIND_HTTPS_PORT:KIND_HTTPS_PORT"; do port_free "${pv%%:*}" "kind ingress (${pv#*:})"; done
  mkdir -p "$KIND_DIR"
  local disable_cni=true; [[ "$image" != "$KIND_NODE_IMAGE" ]] || disable_cni=false
  sed -e "s/\${KIND_HTTP_PORT}/$KIND_HTTP_PORT/" -e "s/\${KIND_HTTPS_PORT}/$KIND_HTTPS_PORT/" \
    -e "s/\${DISABLE_DEFAULT_CNI}/$disable_cni/" "$KIND_SRC/kind.yaml" >"$KIND_DIR/kind.yaml"
  timed "kind create cluster $CLUSTER_NAME ($image)" "$KIND" create cluster --name "$CLUSTER_NAME" \
    --config "$KIND_DIR/kind.yaml" --kubeconfig "$KIND_KUBECONFIG" --image "$image" --wait 180s \
    || die "kind create cluster failed; the node's logs: $KIND export logs --name $CLUSTER_NAME"
  # Workloads can be created only once the namespace's ServiceAccount exists.
  wait_for "the default ServiceAccount" 60 kubectl get serviceaccount default -n default
  install_addons "$image"
  log "kind cluster $CLUSTER_NAME is up: $(kubectl get nodes --no-headers -o wide | awk '{print $1, $2, $5, $NF}')"
}

down() {
  if exists; then
    timed "kind delete cluster $CLUSTER_NAME" "$KIND" delete cluster --name "$CLUSTER_NAME" --kubeconfig "$KIND_KUBECONFIG"
  fi
  rm -rf "$KIND_DIR"
}

case "${1:-}" in
  up) up; echo "export KUBECONFIG=$KIND_KUBECONFIG" ;;
  down) down ;;
  status)
    if exists; then
      echo "kind cluster $CLUSTER_NAME exists: $(kubectl get nodes --no-headers 2>&1 | awk '{print $1, $2}')"
    else
      echo "no kind cluster $CLUSTER_NAME"
    fi
    ;;
  *) die "usage: $0 up|down|status" ;;
esac
