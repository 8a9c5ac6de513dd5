#!/usr/bin/env bash
# The container images of the kind tier, built in the project's Docker engine from the binaries of the
# tool cache and Debian's packages (no registry is reachable here):
#   hack/cluster/kind/images.sh node OUT.tar   what the node image carries, saved into OUT.tar:
#     kubeadm's images under the names kubeadm of KUBERNETES_VERSION asks for (control plane and
#     etcd FROM scratch, CoreDNS, pause compiled from its C source, kube-proxy on a Debian base for
#     iptables), and the add-ons' images: Traefik, metrics-server, kube-router, and the monitoring
#     add-on's Prometheus Operator, its config reloader, kube-state-metrics and Prometheus
#   hack/cluster/kind/images.sh deps           PostgreSQL and Redis from Debian's packages, for the
#                                              in-cluster dependencies of the e2e suites
# Docker's layer cache makes a rebuild with unchanged inputs take seconds.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=kind-images; source "$(dirname "$0")/../common.sh"

KIND_SRC="$CLUSTER_SRC/kind"
"$HACK_DIR/docker-base.sh" privileged
# No buildx here: the engine's own builder, quietly (it warns that it is the legacy one).
export DOCKER_BUILDKIT=0
ADDON_REGISTRY=esp.local/kind
POSTGRESQL_IMAGE="$ADDON_REGISTRY/postgresql:15-bookworm"
REDIS_IMAGE="$ADDON_REGISTRY/redis:7-bookworm"

work="$(mktemp -d "${TMPDIR:-/tmp}/esp-kind-images.XXXX")"
trap 'rm -rf "$work"' EXIT

# build TAG DOCKERFILE [FILE...]: docker build of DOCKERFILE (text) with FILE... in its context.
build() {
  local tag="$1" dockerfile="$2" ctx; shift 2
  ctx="$(mktemp -d "$work/ctx.XXXX")"
  printf '%s\n' "$dockerfile" >"$ctx/Dockerfile"
  local f; for f in "$@"; do cp -L "$f" "$ctx/"; done
  docker build -q -t "$tag" "$ctx" >/dev/null 2>"$ctx/build.log" || { cat "$ctx/build.log" >&2; die "building $tag failed"; }
  log "$tag ($(docker image inspect "$tag" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"
}

# scratch_image TAG BINARY PATH_IN_IMAGE [ENTRYPOINT_JSON]: one static binary, nothing else.
scratch_image() {
  local tag="$1" binary="$2" dest="$3" entrypoint="${4:-}"
  build "$tag" "FROM scratch
COPY $(basename "$binary") $dest
ENV PATH=/usr/local/bin:/usr/bin:/bin
${entrypoint:+ENTRYPOINT $entrypoint}" "$binary"
}

# debian_base NAME PKG...: a Debian bookworm image with PKG... (hack/rootfs.sh), named by its tar.
debian_base() {
  local name="$1"; shift
  local tar; tar="$("$HACK_DIR/rootfs.sh" "$@")"
  local tag="$ADDON_REGISTRY/$name-base:$(basename "$tar" .tar)"
  docker image inspect "$tag" >/dev/null 2>&1 \
    || docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$tar" "$tag" >/dev/null
  echo "$tag"
}

# pause: kubernetes' own C source (build/pause in the k8s.io/kubernetes module), linked statically
# with Debian's gcc, as upstream's image is.
pause_binary() {
  command -v gcc >/dev/null || apt_install gcc libc6-dev
  local dir; dir="$(module_dir "k8s.io/kubernetes@$KUBERNETES_VERSION")"
  [[ -f "$dir/build/pause/linux/pause.c" ]] || die "pause.c is missing from k8s.io/kubernetes@$KUBERNETES_VERSION"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION" -o "$work/pause" "$dir/build/pause/linux/pause.c"
  strip "$work/pause"
  echo "$work/pause"
}

# The tags kubeadm asks for, from kubeadm itself, so a version bump can never leave one behind.
kubeadm_image() {
  "$KIND_BIN/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null | grep "/$1:"
}

node_images() {
  local out="$1" tags=() component
  for component in kube-apiserver kube-controller-manager kube-scheduler; do
    tags+=("$(kubeadm_image "$component")")
    scratch_image "${tags[-1]}" "$TOOLS_BIN/$component" "/usr/local/bin/$component"
  done
  tags+=("$(kubeadm_image etcd)")
  scratch_image "${tags[-1]}" "$TOOLS_BIN/etcd" /usr/local/bin/etcd
  tags+=("$(kubeadm_image coredns)")
  [[ "${tags[-1]}" == *":$COREDNS_VERSION" ]] \
    || die "kubeadm $KUBERNETES_VERSION asks for ${tags[-1]}, but hack/versions.env pins CoreDNS $COREDNS_VERSION"
  scratch_image "${tags[-1]}" "$KIND_BIN/coredns" /coredns '["/coredns"]'
  tags+=("registry.k8s.io/pause:$PAUSE_VERSION")
  scratch_image "${tags[-1]}" "$(pause_binary)" /pause '["/pause"]'
  # kube-proxy and kube-router program iptables and ipset, so they get Debian's.
  local netbase; netbase="$(debian_base netfilter iptables conntrack ipset kmod)"
  tags+=("$(kubeadm_image kube-proxy)")
  build "${tags[-1]}" "FROM $netbase
COPY kube-proxy /usr/local/bin/kube-proxy" "$KIND_BIN/kube-proxy"
  tags+=("$ADDON_REGISTRY/kube-router:$KUBE_ROUTER_VERSION")
  build "${tags[-1]}" "FROM $netbase
COPY kube-router /usr/local/bin/kube-router
ENTRYPOINT [\"/usr/local/bin/kube-router\"]" "$KIND_BIN/kube-router"
  tags+=("$ADDON_REGISTRY/traefik:$TRAEFIK_VERSION")
  scratch_image "${tags[-1]}" "$KIND_BIN/traefik" /traefik '["/traefik"]'
  tags+=("$ADDON_REGISTRY/metrics-server:$METRICS_SERVER_VERSION")
  scratch_image "${tags[-1]}" "$KIND_BIN/metrics-server" /metrics-server '["/metrics-server"]'
  # The paths of upstream's images: the operator starts the reloader as /bin/prometheus-config-reloader
  # and gives Prometheus only its arguments.
  tags+=("$ADDON_REGISTRY/prometheus-operator:$PROMETHEUS_OPERATOR_VERSION")
  scratch_image "${tags[-1]}" "$KIND_BIN/prometheus-operator" /bin/operator '["/bin/operator"]'
  tags+=("$ADDON_REGISTRY/prometheus-config-reloader:$PROMETHEUS_OPERATOR_VERSION")
  scratch_image "${tags[-1]}" "$KIND_BIN/prometheus-config-reloader" /bin/prometheus-config-reloader \
    '["/bin/prometheus-config-reloader"]'
  tags+=("$ADDON_REGISTRY/kube-state-metrics:$KUBE_STATE_METRICS_VERSION")
  scratch_image "${tags[-1]}" "$KIND_BIN/kube-state-metrics" /kube-state-metrics '["/kube-state-metrics"]'
  tags+=("$ADDON_REGISTRY/prometheus:$PROMETHEUS_VERSION")
  scratch_image "${tags[-1]}" "$KIND_BIN/prometheus" /bin/prometheus '["/bin/prometheus"]'
  log "saving ${#tags[@]} images for the node's containerd"
  docker save "${tags[@]}" -o "$out"
}

deps_images() {
  local base
  base="$(debian_base postgresql postgresql)"
  build "$POSTGRESQL_IMAGE" "FROM $base
COPY postgresql-entrypoint.sh /usr/local/bin/entrypoint
ENV PGDATA=/var/lib/postgresql/data PGHOST=/tmp
USER postgres
ENTRYPOINT [\"/usr/local/bin/entrypoint\"]" "$KIND_SRC/images/postgresql-entrypoint.sh"
  base="$(debian_base redis redis-server)"
  build "$REDIS_IMAGE" "FROM $base
USER redis
ENTRYPOINT [\"redis-server\", \"--bind\", \"0.0.0.0\", \"--protected-mode\", \"no\"]"
}

case "${1:-}" in
  node) [[ -n "${2:-}" ]] || die "usage: $0 node OUT.tar"; node_images "$2" ;;
  deps) deps_images; echo "$POSTGRESQL_IMAGE $REDIS_IMAGE" ;;
  *) die "usage: $0 node OUT.tar | deps" ;;
esac
