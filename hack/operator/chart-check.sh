#!/usr/bin/env bash
# make test-operator-chart: the operator's install artefacts, statically. helm lint --strict of
# operator/chart (Helm 3 and 4, defaults and every ci/*.yaml); its RBAC rules equal to manifests/;
# the values that change what is rendered (watched namespaces, leader election, the metrics options);
# the README's values table and manifests/install.yaml up to date.
set -euo pipefail
LOG_TAG=operator-chart; source "$(dirname "$0")/../lib.sh"; source "$HACK_DIR/chart/tools.sh"
need_tools "$HELM3" "$HELM4"
CHART="$REPO_ROOT/operator/chart"
cd "$REPO_ROOT"

mapfile -t ci < <(find "$CHART/ci" -name '*.yaml' | sort)
for helm in "$HELM3" "$HELM4"; do
  for values in "" "${ci[@]}"; do
    "$helm" lint --strict --quiet "$CHART" ${values:+-f "$values"} >/dev/null \
      || { "$helm" lint --strict "$CHART" ${values:+-f "$values"}; exit 1; }
  done
  log "$("$helm" version --template '{{.Version}}'): lint --strict clean with defaults and ${#ci[@]} ci values file(s)"
done

render() { "$HELM4" template expressapp-operator "$CHART" --namespace expressapp-system "$@"; }
render | node hack/operator/chart-rules.ts
render --set 'watchNamespaces={shop,payments}' | node hack/operator/chart-rules.ts
render --set metrics.secure.enabled=true | node hack/operator/chart-rules.ts

# Watched namespaces: a Role and RoleBinding in each, no cluster-wide list or watch, the env set.
out="$(render --set 'watchNamespaces={shop,payments}')"
[[ "$(grep -c '^kind: Role$' <<<"$out")" == 3 ]] || die "watchNamespaces={shop,payments}: expected 2 Roles of the controller + the leader-election Role"
grep -q 'name: expressapp-operator-namespace-reader' <<<"$out" || die "watchNamespaces: no namespace-reader ClusterRole"
grep -A1 'name: WATCH_NAMESPACES' <<<"$out" | grep -q 'value: "shop,payments"' || die "watchNamespaces: WATCH_NAMESPACES not set to shop,payments"
log "watchNamespaces={shop,payments}: Roles in both namespaces, WATCH_NAMESPACES=shop,payments"

# Two replicas without leader election would reconcile at once: refused with a clear message.
if err="$(render --set leaderElection.enabled=false 2>&1)"; then die "replicaCount 2 without leader election was accepted"; fi
grep -q 'needs leaderElection.enabled=true' <<<"$err" || die "unclear refusal: $err"
# Values are checked by the schema: a typo is refused.
if err="$(render --set replicaCont=3 2>&1)"; then die "a misspelt value (replicaCont) was accepted"; fi
grep -q 'replicaCont' <<<"$err" || die "unclear refusal of a misspelt value: $err"
# The image, replicas and resources reach the Deployment.
out="$(render --set image.tag=9.9.9,replicaCount=3,resources.limits.memory=512Mi)"
grep -q 'image: "ghcr.io/express-sqlize/expressapp-operator:9.9.9"' <<<"$out" || die "image.tag does not reach the Deployment"
grep -q 'replicas: 3' <<<"$out" || die "replicaCount does not reach the Deployment"
grep -q 'memory: 512Mi' <<<"$out" || die "resources do not reach the Deployment"
log "leader election guard, schema, image/replicas/resources: as expected"

# The metrics options (ServiceMonitor, secure metrics) object by object, under Helm 3 and 4.
need_tools "$KUBECONFORM"
node --test --test-reporter=dot hack/operator/chart-render-test.ts >/dev/null \
  || node --test --test-reporter=spec hack/operator/chart-render-test.ts \
  || die "hack/operator/chart-render-test.ts failed"
log "metrics options: every ServiceMonitor option and metrics.secure rendered, kubeconform -strict, kustomize alike"
node hack/chart/values-docs.ts --chart=operator/chart --check

"$HACK_DIR/operator/install-yaml.sh" --check
