#!/usr/bin/env bash
# Regenerates hack/schemas/<group>/*.json, the kubeconform schemas of the custom resources the chart
# renders, from the CRD YAML shipped in their upstream Go modules:
#   monitoring.coreos.com       ServiceMonitor, PrometheusRule  prometheus-operator  PROMETHEUS_OPERATOR_VERSION
#   gateway.networking.k8s.io   HTTPRoute (standard channel)    gateway-api          GATEWAY_API_VERSION
# The output is committed, so the chart checks need neither Go nor the network; run this only to
# move to another version (hack/versions.env).
set -euo pipefail
LOG_TAG=chart-schemas; source "$(dirname "$0")/../lib.sh"

command -v go >/dev/null || die "go is needed to fetch the CRD modules"
out="$REPO_ROOT/hack/schemas"

# vendor GROUP VERSION CRD.yaml...: one schema per served version of each CRD, and the VERSION file.
vendor() {
  local group="$1" version="$2"; shift 2
  local file
  for file in "$@"; do [[ -f "$file" ]] || die "$file is missing from the module"; done
  rm -rf "${out:?}/$group"
  node "$HACK_DIR/chart/crd-schemas.ts" "$out" "$@"
  echo "$version" > "$out/$group/VERSION"
  log "vendored $group schemas at $version"
}

log "fetching the CRD modules from the Go module proxy"
dir="$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")"
vendor monitoring.coreos.com "$PROMETHEUS_OPERATOR_VERSION" \
  "$dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
  "$dir/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"

dir="$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")"
vendor gateway.networking.k8s.io "$GATEWAY_API_VERSION" \
  "$dir/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml"

(cd "$REPO_ROOT" && npx prettier --write hack/schemas --log-level=warn)
