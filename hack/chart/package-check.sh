#!/usr/bin/env bash
# Proves that the packaged chart (make chart-package) is the chart: its Chart.yaml carries the
# publishing metadata, and with every ci/ values file it renders byte for byte what chart/ renders.
# Usage: hack/chart/package-check.sh CHART.tgz
set -euo pipefail
LOG_TAG=chart-package; source "$(dirname "$0")/../lib.sh"; source "$HACK_DIR/chart/tools.sh"
need_tools "$HELM4"
package="${1:?usage: package-check.sh CHART.tgz}"
[[ -f "$package" ]] || die "$package is missing: run make chart-package"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

"$HELM4" show chart "$package" >"$work/Chart.yaml"
for field in kubeVersion icon home sources maintainers artifacthub.io/license; do
  grep -q "$field" "$work/Chart.yaml" || die "$package: Chart.yaml lacks $field"
done
for values in "$CHART_DIR"/ci/*.yaml; do
  "$HELM4" template orders "$CHART_DIR" --namespace shop -f "$values" >"$work/dir.yaml"
  "$HELM4" template orders "$package" --namespace shop -f "$values" >"$work/tgz.yaml"
  diff -u "$work/dir.yaml" "$work/tgz.yaml" >&2 || die "$package renders differently from chart/ with ci/$(basename "$values")"
done
log "$package ($(du -k "$package" | cut -f1) KiB) renders as chart/ does with every ci/ values file"
