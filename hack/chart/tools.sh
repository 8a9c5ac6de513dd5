# Sourced by hack/chart/*.sh: the Helm 3, Helm 4 and kubeconform binaries (built by `make tools`
# into the tool cache; HELM3, HELM4 and KUBECONFORM override them) and the chart's location.
CHART_DIR="$REPO_ROOT/chart"
HELM3="${HELM3:-$CACHE_ROOT/bin/helm3}"
HELM4="${HELM4:-$CACHE_ROOT/bin/helm4}"
KUBECONFORM="${KUBECONFORM:-$CACHE_ROOT/bin/kubeconform}"

# need_tools NAME...: fails with the command that installs a missing tool.
need_tools() {
  local tool
  for tool in "$@"; do
    [[ -x "$tool" ]] || die "$tool is missing: run 'make tools' (or point HELM3/HELM4/KUBECONFORM at a binary)"
  done
}
