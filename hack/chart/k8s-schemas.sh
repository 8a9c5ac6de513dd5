#!/usr/bin/env bash
# Prints the folder of kubeconform schemas for the built-in kinds of KUBERNETES_VERSION, generating
# it once into the tool cache from the OpenAPI document in the k8s.io/kubernetes Go module (the same
# module `make tools` builds the control plane from), so validation never needs the network again.
set -euo pipefail
LOG_TAG=chart-schemas; source "$(dirname "$0")/../lib.sh"

# KUBERNETES_VERSION: hack/versions.env, the local cluster's pin.
version="${KUBERNETES_VERSION:?KUBERNETES_VERSION is not set (hack/versions.env)}"
out="$CACHE_ROOT/schemas/kubernetes-$version"
if [[ ! -f "$out/.complete" ]]; then
  command -v go >/dev/null || die "go is needed once to fetch the Kubernetes OpenAPI document (k8s.io/kubernetes@$version)"
  log "fetching k8s.io/kubernetes@$version (OpenAPI document) from the Go module proxy"
  dir="$(module_dir "k8s.io/kubernetes@$version")"
  swagger="$dir/api/openapi-spec/swagger.json"
  [[ -f "$swagger" ]] || die "k8s.io/kubernetes@$version has no api/openapi-spec/swagger.json"
  rm -rf "$out"
  node "$HACK_DIR/chart/k8s-schemas.ts" "$swagger" "$out" >&2
  touch "$out/.complete"
fi
echo "$out"
