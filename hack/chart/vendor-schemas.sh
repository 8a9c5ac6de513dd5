#!/usr/bin/env bash
# Regenerates hack/schemas/monitoring.coreos.com/*.json, the kubeconform schemas of the Prometheus
# Operator CRDs the chart renders (ServiceMonitor, PrometheusRule), from the CRD YAML shipped in the
# prometheus-operator Go module at PROMETHEUS_OPERATOR_VERSION. The output is committed, so the
# chart checks need neither Go nor the network; run this only to move to another version.
set -euo pipefail
LOG_TAG=chart-schemas; source "$(dirname "$0")/../lib.sh"

command -v go >/dev/null || die "go is needed to fetch the prometheus-operator module"
module="github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
log "fetching $module from the Go module proxy"
dir="$(cd "$(mktemp -d)" && go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "$dir/example/prometheus-operator-crd" ]] || die "$module has no example/prometheus-operator-crd folder"

out="$REPO_ROOT/hack/schemas"
rm -rf "$out/monitoring.coreos.com"
node "$HACK_DIR/chart/crd-schemas.ts" "$out" \
  "$dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
  "$dir/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"
(cd "$REPO_ROOT" && npx prettier --write hack/schemas --log-level=warn)
echo "$PROMETHEUS_OPERATOR_VERSION" > "$out/monitoring.coreos.com/VERSION"
log "vendored Prometheus Operator $PROMETHEUS_OPERATOR_VERSION schemas into hack/schemas/monitoring.coreos.com"
