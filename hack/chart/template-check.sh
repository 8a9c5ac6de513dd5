#!/usr/bin/env bash
# Renders the chart with every values file in chart/ci/ under Helm 3 and Helm 4 and validates each
# object with kubeconform -strict against the schemas of the built-in kinds, of our ExpressApp CRD
# (generated from manifests/), of the Prometheus Operator CRDs and of the Gateway API HTTPRoute
# (both vendored in hack/schemas/).
set -euo pipefail
LOG_TAG=chart-template; source "$(dirname "$0")/../lib.sh"; source "$HACK_DIR/chart/tools.sh"
need_tools "$HELM3" "$HELM4" "$KUBECONFORM"
cd "$REPO_ROOT"

k8s_schemas="$("$HACK_DIR/chart/k8s-schemas.sh")"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

# Our CRD's schema is generated from the committed CRD every run, so it can never be stale.
skip=()
mapfile -t crds < <([[ -d "$REPO_ROOT/manifests" ]] && find "$REPO_ROOT/manifests" -name '*.yaml' -exec grep -l '^kind: CustomResourceDefinition' {} + | sort || true)
if ((${#crds[@]} > 0)) && grep -qh 'kind: ExpressApp$' "${crds[@]}"; then
  node "$HACK_DIR/chart/crd-schemas.ts" "$work/crds" "${crds[@]}" >/dev/null
else
  warn "manifests/ has no ExpressApp CRD yet (the operator's part): ExpressApp objects are NOT validated in this run"
  skip=(-skip ExpressApp)
fi

kubeconform() {
  "$KUBECONFORM" -strict -summary -output text "${skip[@]}" \
    -schema-location "$k8s_schemas/{{.ResourceKind}}{{.KindSuffix}}.json" \
    -schema-location "$REPO_ROOT/hack/schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" \
    -schema-location "$work/crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" "$@" 2>&1
}

# Self-test: misspelt fields in a Deployment, a ServiceMonitor and an HTTPRoute must be refused.
if out="$(kubeconform "$HACK_DIR/chart/testdata/invalid.yaml")" \
  || [[ "$out" != *"additional properties 'replicass' not allowed"* || "$out" != *"additional properties 'intervall' not allowed"* \
    || "$out" != *"additional properties 'weigth' not allowed"* ]]; then
  echo "$out" >&2
  die "kubeconform accepted hack/chart/testdata/invalid.yaml: the schemas are not found or not strict"
fi
log "self-test: kubeconform refuses the misspelt fields of testdata/invalid.yaml"

failed=0
for helm in "$HELM3" "$HELM4"; do
  label="helm $("$helm" version --template '{{.Version}}')"
  for values in "$CHART_DIR"/ci/*.yaml; do
    name="$(basename "$values" .yaml)"
    if ! "$helm" template orders "$CHART_DIR" --namespace shop -f "$values" > "$work/$name.yaml" 2> "$work/$name.err"; then
      warn "$label: helm template with ci/$name.yaml failed:"; cat "$work/$name.err" >&2
      failed=$((failed + 1)); continue
    fi
    if out="$(kubeconform "$work/$name.yaml")"; then
      log "$label ci/$name.yaml: $(tail -1 <<<"$out")"
    else
      warn "$label ci/$name.yaml failed validation:"; echo "$out" >&2
      failed=$((failed + 1))
    fi
  done
done
((failed == 0)) || die "$failed rendering(s) failed"

# The alerts: PromQL that Prometheus accepts, and alerts that fire exactly when they should.
if ! command -v promtool >/dev/null; then
  log "installing Debian's prometheus package for promtool"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null \
    || die "promtool is missing and apt-get install prometheus failed"
fi
"$HELM4" template orders "$CHART_DIR" --namespace shop -f "$CHART_DIR/ci/everything-on.yaml" \
  --show-only templates/prometheusrule.yaml >"$work/prometheusrule.yaml"
node --input-type=module -e '
  import fs from "node:fs"; import { parse, stringify } from "yaml";
  fs.writeFileSync(process.argv[2], stringify(parse(fs.readFileSync(process.argv[1], "utf8")).spec));
' "$work/prometheusrule.yaml" "$work/rules.yaml"
sed "s#RULES#$work/rules.yaml#" "$HACK_DIR/chart/testdata/alerts-test.yaml" >"$work/alerts-test.yaml"
promtool check rules "$work/rules.yaml" >/dev/null || { promtool check rules "$work/rules.yaml"; die "promtool refuses the PrometheusRule"; }
promtool test rules "$work/alerts-test.yaml" >"$work/promtool.out" 2>&1 || { cat "$work/promtool.out" >&2; die "the alert unit tests failed"; }
log "PrometheusRule: promtool check and $(grep -c '^  - name:' "$HACK_DIR/chart/testdata/alerts-test.yaml") alert unit tests pass"
log "every values file renders valid objects under Helm 3 and Helm 4"
