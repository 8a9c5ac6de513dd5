#!/usr/bin/env bash
# Builds the cluster and chart tools from their upstream Go modules into the tool cache:
#   $CACHE_ROOT/<tool>-<version>/<binary>   one directory per pinned version (hack/versions.env)
#   $CACHE_ROOT/bin/<name>                  stable symlinks: what PATH and the Makefile use
# No release binary is downloaded: only the Go module proxy is needed. A tool whose binary is
# already in the cache is skipped, so a warm run takes seconds.
#   hack/tools.sh              install every tool of the local control plane and the chart checks
#   hack/tools.sh kwok helm4   install only these (names as in the lists below)
#   hack/tools.sh @kind        install what the kind node image and its add-ons need (KIND_TOOLS)
#   hack/tools.sh --list       print name, version and cache path of every tool
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=tools; source "$(dirname "$0")/lib.sh"

BIN_DIR="$CACHE_ROOT/bin"
# The kind node's binaries get links of their own, off the PATH that `make env` and the Makefile
# build: a containerd (or its shim) found first on PATH would be started by the host's dockerd.
KIND_BIN_DIR="$CACHE_ROOT/kind/bin"
SRC_DIR="$CACHE_ROOT/src"
LOG_DIR="$CACHE_ROOT/logs"
ALL_TOOLS=(kube-apiserver etcd kwok kube-controller-manager kube-scheduler kubectl helm4 helm3 kubeconform kind)
# The kind node image (hack/kind/node-image.sh) and the images of the kind tier's add-ons.
KIND_TOOLS=(kubelet kubeadm kube-proxy containerd crictl coredns traefik metrics-server kube-router
  prometheus-operator prometheus-config-reloader kube-state-metrics prometheus)
KUBERNETES_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kubeadm kube-proxy)

# version_of TOOL: the pinned version of a tool.
version_of() {
  case "$1" in
    kube-apiserver | kube-controller-manager | kube-scheduler | kubectl | kubelet | kubeadm | kube-proxy) echo "$KUBERNETES_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    helm3) echo "$HELM3_VERSION" ;;
    helm4) echo "$HELM4_VERSION" ;;
    kubeconform) echo "$KUBECONFORM_VERSION" ;;
    kind) echo "$KIND_VERSION" ;;
    containerd) echo "$CONTAINERD_VERSION" ;;
    crictl) echo "$CRI_TOOLS_VERSION" ;;
    coredns) echo "$COREDNS_VERSION" ;;
    traefik) echo "$TRAEFIK_VERSION" ;;
    metrics-server) echo "$METRICS_SERVER_VERSION" ;;
    kube-router) echo "$KUBE_ROUTER_VERSION" ;;
    prometheus-operator | prometheus-config-reloader) echo "$PROMETHEUS_OPERATOR_VERSION" ;;
    kube-state-metrics) echo "$KUBE_STATE_METRICS_VERSION" ;;
    prometheus) echo "$PROMETHEUS_VERSION" ;;
    *) die "unknown tool '$1' (known: ${ALL_TOOLS[*]} ${KIND_TOOLS[*]})" ;;
  esac
}
tool_dir() { echo "$CACHE_ROOT/$1-$(version_of "$1")"; }

if [[ "${1:-}" == --list ]]; then
  for t in "${ALL_TOOLS[@]}" "${KIND_TOOLS[@]}"; do printf '%-24s %-10s %s\n' "$t" "$(version_of "$t")" "$(tool_dir "$t")"; done
  exit 0
fi

# One build per source at a time: make test starts this in the background while the Node tiers run,
# and a tier that asks for a tool meanwhile must wait for that build, not race it. Tools of different
# sources build side by side (the commands of k8s.io/kubernetes share one wrapper module, so one lock;
# so do Prometheus Operator's two).
mkdir -p "$CACHE_ROOT"
lock_source() {
  local source="$1"
  case "$source" in
    kube-apiserver | kube-controller-manager | kube-scheduler | kubectl | kubelet | kubeadm | kube-proxy) source=kubernetes ;;
    prometheus-config-reloader) source=prometheus-operator ;;
  esac
  exec 9>"$CACHE_ROOT/.tools-$source.lock"
  if ! flock -n 9; then
    log "another build of $source is running; waiting for it to finish"
    flock 9
  fi
}

# check_go: a readable message instead of a wall of module errors when Go is missing or too old.
check_go() {
  command -v go >/dev/null 2>&1 \
    || die "Go >= $GO_MIN_VERSION is needed to build the tools: install it from https://go.dev/dl (or a golang-$GO_MIN_VERSION package) and put it on PATH"
  local have; have="$(go env GOVERSION)"; have="${have#go}"
  if [[ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$have" | sort -V | head -1)" != "$GO_MIN_VERSION" ]]; then
    die "Go $have is too old: the pinned modules need Go >= $GO_MIN_VERSION (https://go.dev/dl)"
  fi
  # Module and build caches stay Go's own (shared, reused across versions); say where they are.
  log "using Go $have (module cache $(go env GOMODCACHE), build cache $(go env GOCACHE))"
}

# run_logged LOGFILE CMD...: keeps Go's output out of the terminal unless it fails.
run_logged() {
  local logfile="$1"; shift
  mkdir -p "$LOG_DIR"
  if ! "$@" >"$logfile" 2>&1; then
    tail -n 25 "$logfile" >&2
    die "'$*' failed (full log: $logfile). Is the Go module proxy ($(go env GOPROXY)) reachable?"
  fi
}

export CGO_ENABLED=0

# go_install TOOL PKG@VERSION BINARY [LDFLAGS]: modules that build with a plain `go install`.
go_install() {
  local tool="$1" pkg="$2" binary="$3" ldflags="-s -w ${4:-}" dir; dir="$(tool_dir "$tool")"
  rm -rf "$dir.partial"; mkdir -p "$dir.partial"
  GOBIN="$dir.partial" run_logged "$LOG_DIR/$tool.log" go install -trimpath -ldflags="$ldflags" "$pkg"
  # As `go install` names it: the last path element, or the one before a major-version suffix (/v2).
  local built="${pkg%@*}"
  [[ ! "$built" =~ /v[0-9]+$ ]] || built="${built%/*}"
  built="$(basename "$built")"
  [[ "$built" == "$binary" ]] || mv "$dir.partial/$built" "$dir.partial/$binary"
}

# kubernetes_wrapper: k8s.io/kubernetes requires its staging modules at v0.0.0 and points them at
# ./staging with replace directives, which do not apply to a dependency. A generated wrapper module
# replaces each of them with the published k8s.io/<name> v0.<minor>.<patch> of the same release.
kubernetes_wrapper() {
  local dir="$SRC_DIR/kubernetes-$KUBERNETES_VERSION" staging="v0.${KUBERNETES_VERSION#v1.}"
  if [[ -f "$dir/.ready" ]]; then echo "$dir"; return; fi
  log "generating wrapper module for k8s.io/kubernetes $KUBERNETES_VERSION (staging modules at $staging)"
  rm -rf "$dir"; mkdir -p "$dir"
  local gomod; gomod="$(module_gomod "k8s.io/kubernetes@$KUBERNETES_VERSION")"
  (
    cd "$dir"
    go mod init esp.local/tools/kubernetes >/dev/null 2>&1
    # The release's own go and godebug lines, so the binaries behave as upstream builds them.
    go mod edit -go="$(awk '$1=="go"{print $2; exit}' "$gomod")"
    awk '$1=="godebug" && $2 !~ /\(/ {print $2}' "$gomod" | while read -r d; do go mod edit -godebug="$d"; done
    awk '$2=="v0.0.0" && $1 ~ /^k8s\.io\// {print $1}' "$gomod" | while read -r m; do
      go mod edit -replace="$m=$m@$staging"
    done
    go mod edit -require="k8s.io/kubernetes@$KUBERNETES_VERSION"
    for cmd in "${KUBERNETES_COMMANDS[@]}"; do
      run_logged "$LOG_DIR/kubernetes-get.log" go get -tool "k8s.io/kubernetes/cmd/$cmd@$KUBERNETES_VERSION"
    done
  )
  touch "$dir/.ready"
  echo "$dir"
}

# wrapper_build TOOL WRAPPER_DIR PKG BINARY [LDFLAGS]: go build of a main package required by a
# wrapper module.
wrapper_build() {
  local tool="$1" wrapper="$2" pkg="$3" binary="$4" ldflags="-s -w ${5:-}" dir; dir="$(tool_dir "$tool")"
  rm -rf "$dir.partial"; mkdir -p "$dir.partial"
  (cd "$wrapper" && run_logged "$LOG_DIR/$tool.log" go build -trimpath -ldflags="$ldflags" -o "$dir.partial/$binary" "$pkg")
}

# kubernetes_ldflags: the version stamps upstream's hack/lib/version.sh sets. Without them the
# binaries report v0.0.0-master, and Helm's kubeVersion checks against /version would fail.
kubernetes_ldflags() {
  local v="${KUBERNETES_VERSION#v}" flags="" key val
  local -A stamps=([gitVersion]="$KUBERNETES_VERSION" [gitMajor]="${v%%.*}" [gitMinor]="$(cut -d. -f2 <<<"$v")"
    [gitTreeState]=clean [buildDate]="$(module_time "k8s.io/kubernetes@$KUBERNETES_VERSION")")
  for key in "${!stamps[@]}"; do
    val="${stamps[$key]}"
    flags+=" -X k8s.io/component-base/version.$key=$val -X k8s.io/client-go/pkg/version.$key=$val"
  done
  echo "$flags"
}

# module_time MODULE@VERSION: the module's publication time from the proxy, the build date stamped
# into a binary, so rebuilds are identical.
module_time() {
  go list -m -json "$1" 2>/dev/null \
    | sed -n 's/^[[:space:]]*"Time": "\([^"]*\)".*/\1/p' | head -1
}

# module_wrapper NAME MODULE@VERSION PKG...: a module that requires PKG... as tools. `go install
# pkg@version` refuses a main module with replace directives (etcd's server, Traefik); those are
# copied from the upstream go.mod, so the build resolves exactly as upstream's does.
module_wrapper() {
  local name="$1" module="$2"; shift 2
  local dir="$SRC_DIR/$name-${module##*@}" gomod pkg
  if [[ -f "$dir/.ready" ]]; then echo "$dir"; return; fi
  log "generating wrapper module for $module"
  rm -rf "$dir"; mkdir -p "$dir"
  gomod="$(module_gomod "$module")"
  (
    cd "$dir"
    go mod init "esp.local/tools/$name" >/dev/null 2>&1
    # Single-line `replace a => b v` and the lines of a `replace (...)` block alike.
    awk '$1=="replace" && $2=="(" {block=1; next} block && $1==")" {block=0; next}
      block || $1=="replace" {sub(/^replace[ \t]+/, ""); print}' "$gomod" | while read -r from _ to version; do
      [[ "$to" == .* || "$to" == /* ]] && continue # a local path of upstream's tree: not in the module zip
      go mod edit -replace="$from=$to${version:+@$version}"
    done
    for pkg in "$@"; do run_logged "$LOG_DIR/$name-get.log" go get -tool "$pkg@${module##*@}"; done
  )
  touch "$dir/.ready"
  echo "$dir"
}

# helm3_ldflags: the stamps Helm 3's Makefile sets. Besides the version, the Kubernetes minor of its
# client-go: unstamped, `helm template` and `helm lint` assume Kubernetes v1.20 and refuse any chart
# whose kubeVersion asks for more. (Helm 4 reads it from its build info.)
helm3_ldflags() {
  local gomod minor
  gomod="$(module_gomod "helm.sh/helm/v3@$HELM3_VERSION")"
  minor="$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2] }' "$gomod")"
  [[ -n "$minor" ]] || die "could not read the client-go version of helm.sh/helm/v3@$HELM3_VERSION"
  local flags="-X helm.sh/helm/v3/internal/version.version=$HELM3_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in pkg/lint/rules pkg/chartutil; do
    flags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$minor"
  done
  echo "$flags"
}

# prometheus_ldflags VERSION MODULE@VERSION: the stamps of Prometheus's Makefile.common (promu), which
# the Prometheus projects share through github.com/prometheus/common/version: unstamped, the
# binaries and their *_build_info metric report an empty version.
prometheus_ldflags() {
  local pkg=github.com/prometheus/common/version
  echo "-X $pkg.Version=$1 -X $pkg.Branch=HEAD -X $pkg.BuildUser=express-sqlize-platform -X $pkg.BuildDate=$(module_time "$2")"
}

# prometheus_module_version: Prometheus 3.x tags its Go module v0.<major*100+minor>.<patch>
# (v3.5.0 is v0.305.0): its module path carries no /v3 suffix.
prometheus_module_version() {
  local v="${PROMETHEUS_VERSION#v}"
  local major="${v%%.*}" rest="${v#*.}"
  echo "v0.$((major * 100 + ${rest%%.*})).${rest#*.}"
}

# prometheus_source: a copy of the Prometheus module that registers only the kubernetes service
# discovery (plus file and http, always built in). Upstream's plugins.yml registers every SD, and
# their cloud SDKs (AWS, Azure, GCE, ...) made most of the build; Prometheus Operator only writes
# kubernetes_sd_configs. This is upstream's own switch for it (plugins.yml and the plugins/plugins.go
# generated from it), edited the way `make plugins` would regenerate it.
prometheus_source() {
  local dir="$SRC_DIR/prometheus-$PROMETHEUS_VERSION" module src
  if [[ -f "$dir/.ready" ]]; then echo "$dir"; return; fi
  module="github.com/prometheus/prometheus@$(prometheus_module_version)"
  log "copying $module with only the kubernetes service discovery"
  src="$(module_dir "$module")"
  [[ "$(cat "$src/VERSION")" == "${PROMETHEUS_VERSION#v}" ]] \
    || die "$module is Prometheus $(cat "$src/VERSION"), not $PROMETHEUS_VERSION (hack/versions.env)"
  rm -rf "$dir"; mkdir -p "$SRC_DIR"
  cp -r "$src" "$dir"; chmod -R u+w "$dir"
  echo "- github.com/prometheus/prometheus/discovery/kubernetes" >"$dir/plugins.yml"
  sed -i -e '/^[[:space:]]*\/\/ Register .* plugin\.$/d' \
    -e '/_ "github.com\/prometheus\/prometheus\/discovery\//{/\/discovery\/kubernetes"/!d}' "$dir/plugins/plugins.go"
  grep -q '_ "github.com/prometheus/prometheus/discovery/kubernetes"' "$dir/plugins/plugins.go" \
    || die "plugins/plugins.go of $module no longer has the layout this edit expects"
  touch "$dir/.ready"
  echo "$dir"
}

# binary_of TOOL: the file name inside the tool's cache directory.
binary_of() {
  case "$1" in helm3 | helm4) echo helm ;; *) echo "$1" ;; esac
}

build_tool() {
  local wrapper
  case "$1" in
    kube-apiserver | kube-controller-manager | kube-scheduler | kubectl | kubelet | kubeadm | kube-proxy)
      wrapper="$(kubernetes_wrapper)"
      # A command added to the list after the wrapper was generated is added to it here.
      grep -q "k8s.io/kubernetes/cmd/$1\$" "$wrapper/go.mod" \
        || (cd "$wrapper" && run_logged "$LOG_DIR/kubernetes-get.log" go get -tool "k8s.io/kubernetes/cmd/$1@$KUBERNETES_VERSION")
      wrapper_build "$1" "$wrapper" "k8s.io/kubernetes/cmd/$1" "$1" "$(kubernetes_ldflags)" ;;
    etcd)
      wrapper="$(module_wrapper etcd "go.etcd.io/etcd/server/v3@$ETCD_VERSION" go.etcd.io/etcd/server/v3)"
      wrapper_build etcd "$wrapper" go.etcd.io/etcd/server/v3 etcd ;;
    kwok) go_install kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" kwok ;;
    # Helm's Makefile stamps the full version; unstamped it says only v3.22 / v4.3.
    helm3) go_install helm3 "helm.sh/helm/v3/cmd/helm@$HELM3_VERSION" helm "$(helm3_ldflags)" ;;
    helm4) go_install helm4 "helm.sh/helm/v4/cmd/helm@$HELM4_VERSION" helm \
      "-X helm.sh/helm/v4/internal/version.version=$HELM4_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" ;;
    kubeconform) go_install kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" kubeconform ;;
    kind) go_install kind "sigs.k8s.io/kind@$KIND_VERSION" kind ;;
    # The node's runtime: containerd, its runc shim and ctr (kind load and the image build use ctr).
    # The snapshotters kind never selects are left out, as kind's base image does.
    containerd)
      local bin; rm -rf "$(tool_dir containerd).partial"
      for bin in containerd containerd-shim-runc-v2 ctr; do
        GOBIN="$(tool_dir containerd).partial" GOFLAGS="-tags=no_aufs,no_zfs,no_btrfs,no_devmapper" \
          run_logged "$LOG_DIR/containerd.log" go install -trimpath \
          -ldflags="-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
          "github.com/containerd/containerd/v2/cmd/$bin@$CONTAINERD_VERSION"
      done ;;
    crictl) go_install crictl "sigs.k8s.io/cri-tools/cmd/crictl@$CRI_TOOLS_VERSION" crictl \
      "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION" ;;
    coredns) go_install coredns "github.com/coredns/coredns@$COREDNS_VERSION" coredns ;;
    traefik)
      wrapper="$(module_wrapper traefik "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" github.com/traefik/traefik/v3/cmd/traefik)"
      wrapper_build traefik "$wrapper" github.com/traefik/traefik/v3/cmd/traefik traefik \
        "-X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" ;;
    metrics-server)
      wrapper="$(module_wrapper metrics-server "sigs.k8s.io/metrics-server@$METRICS_SERVER_VERSION" sigs.k8s.io/metrics-server/cmd/metrics-server)"
      wrapper_build metrics-server "$wrapper" sigs.k8s.io/metrics-server/cmd/metrics-server metrics-server ;;
    kube-router) go_install kube-router "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION" kube-router \
      "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" ;;
    # Its go.mod points its API and client modules at ./pkg/... with replace directives, so a wrapper
    # (those two resolve to their published modules of the same version).
    prometheus-operator | prometheus-config-reloader)
      local module="github.com/prometheus-operator/prometheus-operator" cmd=operator
      [[ "$1" == prometheus-operator ]] || cmd="$1"
      wrapper="$(module_wrapper prometheus-operator "$module@$PROMETHEUS_OPERATOR_VERSION" "$module/cmd/operator" "$module/cmd/prometheus-config-reloader")"
      wrapper_build "$1" "$wrapper" "$module/cmd/$cmd" "$1" \
        "$(prometheus_ldflags "${PROMETHEUS_OPERATOR_VERSION#v}" "$module@$PROMETHEUS_OPERATOR_VERSION")" ;;
    kube-state-metrics) go_install kube-state-metrics "k8s.io/kube-state-metrics/v2@$KUBE_STATE_METRICS_VERSION" kube-state-metrics \
      "$(prometheus_ldflags "$KUBE_STATE_METRICS_VERSION" "k8s.io/kube-state-metrics/v2@$KUBE_STATE_METRICS_VERSION")" ;;
    prometheus)
      wrapper="$(prometheus_source)"
      wrapper_build prometheus "$wrapper" ./cmd/prometheus prometheus \
        "$(prometheus_ldflags "${PROMETHEUS_VERSION#v}" "github.com/prometheus/prometheus@$(prometheus_module_version)")" ;;
  esac
}

# link NAME TARGET: the stable name in $CACHE_ROOT/bin, repointed when the pinned version changes.
is_kind_tool() { local t; for t in "${KIND_TOOLS[@]}"; do [[ "$t" == "$1" ]] && return 0; done; return 1; }
link() {
  if is_kind_tool "$1"; then
    ln -sfn "$2" "$KIND_BIN_DIR/$1"
    # containerd's three binaries share one directory; each gets its link.
    [[ "$1" != containerd ]] || ln -sfn "$(dirname "$2")"/{containerd-shim-runc-v2,ctr} "$KIND_BIN_DIR/"
    [[ ! -L "$BIN_DIR/$1" ]] || rm -f "$BIN_DIR/$1" # where an earlier layout linked it
  else
    ln -sfn "$2" "$BIN_DIR/$1"
  fi
}

tools=()
for arg in "$@"; do
  case "$arg" in @kind) tools+=("${KIND_TOOLS[@]}") ;; *) tools+=("$arg") ;; esac
done
(( ${#tools[@]} )) || tools=("${ALL_TOOLS[@]}")
mkdir -p "$BIN_DIR" "$KIND_BIN_DIR"
start_all=$SECONDS; built=0; go_checked=0
for tool in "${tools[@]}"; do
  dir="$(tool_dir "$tool")"; binary="$(binary_of "$tool")"
  [[ -x "$dir/$binary" ]] || lock_source "$tool"
  if [[ ! -x "$dir/$binary" ]]; then
    (( go_checked )) || { check_go; go_checked=1; }
    log "building $tool $(version_of "$tool") ..."
    start=$SECONDS
    build_tool "$tool"
    [[ -x "$dir.partial/$binary" ]] || die "building $tool produced no $binary (see $LOG_DIR/$tool.log)"
    rm -rf "$dir" && mv "$dir.partial" "$dir"
    log "built $tool $(version_of "$tool") in $((SECONDS - start))s ($(du -sh "$dir" | cut -f1))"
    built=$((built + 1))
  fi
  link "$tool" "$dir/$binary"
done
# helm is Helm 4, the current major; helm3 stays beside it because the chart must work on both.
[[ -e "$BIN_DIR/helm4" ]] && link helm "$BIN_DIR/helm4"
if (( built )); then
  log "built $built tool(s) in $((SECONDS - start_all))s; tool cache $(du -shL "$BIN_DIR" 2>/dev/null | cut -f1 || true) in $BIN_DIR"
else
  log "all ${#tools[@]} tool(s) already in $BIN_DIR ($((SECONDS - start_all))s)"
fi
