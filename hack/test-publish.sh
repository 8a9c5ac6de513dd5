#!/usr/bin/env bash
# make test-publish: a release as a user makes one, against a real OCI registry on loopback
# (Debian's docker-registry, the CNCF distribution registry): both images through
# `make image-push`, both charts through `helm push`, then everything pulled back and checked
# against what was built, and the charts rendered with the registry set must name images that the
# registry serves. The registry and its data live only for this run.
#   REGISTRY_PORT (default 31500) picks its port.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=publish; source "$(dirname "$0")/lib.sh"

PORT="${REGISTRY_PORT:-31500}"
REGISTRY="127.0.0.1:$PORT"
HELM="$CACHE_ROOT/bin/helm4"
[[ -x "$HELM" ]] || die "helm 4 is not in the tool cache: run make tools first"
command -v docker-registry >/dev/null 2>&1 || apt_install docker-registry
port_free "$PORT" REGISTRY_PORT

work="$(mktemp -d)"
registry_pid=""
tag="publish-$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo local)"
cleanup() {
  # The run's tags only; the layers stay shared with the images other tiers build.
  docker rmi "$REGISTRY/express-sqlize/service:$tag" "$REGISTRY/express-sqlize/expressapp-operator:$tag" \
    "express-sqlize/service:$tag" "ghcr.io/express-sqlize/expressapp-operator:$tag" >/dev/null 2>&1 || true
  [[ -z "$registry_pid" ]] || kill "$registry_pid" 2>/dev/null || true
  [[ -z "$registry_pid" ]] || wait "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Plain HTTP on loopback only: Docker and Helm accept 127.0.0.0/8 without TLS (Helm with
# --plain-http), and nothing else can reach it.
cat >"$work/config.yml" <<EOF
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $work/data }
  delete: { enabled: true }
http: { addr: $REGISTRY }
EOF
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
wait_for "the registry on $REGISTRY" 30 curl -fsS "http://$REGISTRY/v2/"
log "registry up on $REGISTRY ($(docker-registry --version 2>/dev/null | awk '{print $NF}'))"

# digest REPO TAG: the manifest digest the registry serves for REPO:TAG (empty when absent).
digest() {
  curl -fsS -o /dev/null -D - \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://$REGISTRY/v2/$1/manifests/$2" 2>/dev/null | tr -d '\r' | awk 'tolower($1)=="docker-content-digest:" {print $2}'
}
# served IMAGE_REF: the registry answers for REGISTRY/REPO:TAG.
served() {
  local ref="${1#"$REGISTRY/"}"
  [[ "$ref" != "$1" ]] || die "$1 does not name the registry $REGISTRY"
  [[ -n "$(digest "${ref%:*}" "${ref##*:}")" ]]
}

start=$SECONDS
log "make image-push REGISTRY=$REGISTRY IMAGE_TAG=$tag"
# Image names as a user's own `make image-push` derives them from IMAGE_TAG, not the ones an
# enclosing make exported for its own tag.
env -u SERVICE_IMAGE -u OPERATOR_IMAGE \
  make -C "$REPO_ROOT" --no-print-directory image-push REGISTRY="$REGISTRY" IMAGE_TAG="$tag"
log "both images built and pushed in $((SECONDS - start))s"

# Each pushed image comes back from the registry as the very image that was built.
for pair in "express-sqlize/service:$tag=express-sqlize/service:$tag" \
  "express-sqlize/expressapp-operator:$tag=ghcr.io/express-sqlize/expressapp-operator:$tag"; do
  pushed="$REGISTRY/${pair%%=*}" built="${pair#*=}"
  served "$pushed" || die "$pushed is not in the registry after make image-push"
  built_id="$(docker image inspect -f '{{.Id}}' "$built")"
  docker rmi -f "$pushed" >/dev/null
  docker pull -q "$pushed" >/dev/null
  pulled_id="$(docker image inspect -f '{{.Id}}' "$pushed")"
  [[ "$pulled_id" == "$built_id" ]] || die "$pushed pulled back as $pulled_id, but $built is $built_id"
  log "pulled back $pushed: same image as $built (${built_id:7:12})"
done

# Charts: packaged as a release does, pushed, pulled back byte for byte, and rendered from the
# registry with the image settings the READMEs give.
mkdir -p "$work/charts" "$work/pulled"
make -C "$REPO_ROOT" --no-print-directory chart-package >/dev/null
cp "$REPO_ROOT"/.local/chart/express-sqlize-*.tgz "$work/charts/"
"$HELM" package "$REPO_ROOT/operator/chart" -d "$work/charts" >/dev/null
for pkg in "$work"/charts/*.tgz; do
  name="$(basename "$pkg" .tgz)" version="${name##*-}" chart="${name%-*}"
  "$HELM" push "$pkg" "oci://$REGISTRY/charts" --plain-http >"$work/push.log" 2>&1 \
    || { cat "$work/push.log" >&2; die "helm push $pkg failed"; }
  "$HELM" pull "oci://$REGISTRY/charts/$chart" --version "$version" --plain-http -d "$work/pulled" >/dev/null
  cmp -s "$pkg" "$work/pulled/$name.tgz" || die "$chart $version pulled back differs from the package pushed"
  log "pushed and pulled back chart $chart $version ($(du -h "$pkg" | cut -f1))"
done

# render CHART ARGS...: the image references of a chart rendered from the registry.
render_images() {
  local chart="$1"; shift
  "$HELM" template publish-check "oci://$REGISTRY/charts/$chart" --plain-http "$@" 2>"$work/template.log" \
    | awk '$1=="image:" || $1=="-" && $2=="image:" {print $NF}' | tr -d '"' | sort -u
}
service_version="$(awk '$1=="version:" {print $2; exit}' "$REPO_ROOT/chart/Chart.yaml")"
operator_version="$(awk '$1=="version:" {print $2; exit}' "$REPO_ROOT/operator/chart/Chart.yaml")"
checked=0
while read -r image; do
  served "$image" || die "the service chart from the registry runs $image, which the registry does not serve"
  checked=$((checked + 1))
done < <(render_images express-sqlize --version "$service_version" \
  --set image.registry="$REGISTRY" --set image.tag="$tag" \
  --set database.password=publish-check --set jwt.secret=publish-check-0123456789-abcdefghijklmnop)
while read -r image; do
  served "$image" || die "the operator chart from the registry runs $image, which the registry does not serve"
  checked=$((checked + 1))
done < <(render_images expressapp-operator --version "$operator_version" \
  --set image.repository="$REGISTRY/express-sqlize/expressapp-operator" --set image.tag="$tag")
(( checked >= 2 )) || { cat "$work/template.log" >&2; die "the charts rendered from the registry named $checked image(s); expected at least one each"; }
log "ok: 2 images and 2 charts published to $REGISTRY and read back; $checked image reference(s) of the rendered charts served ($((SECONDS - start))s)"
