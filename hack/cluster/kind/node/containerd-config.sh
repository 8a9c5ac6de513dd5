#!/usr/bin/env bash
# Prints kind's containerd config (the file given) as the node image built here needs it:
# - the sandbox image is the pause version kubeadm of this release expects (it is imported, not pulled);
# - restrict_oom_score_adj: pod sandboxes ask for oom_score_adj -998, which needs CAP_SYS_RESOURCE;
#   where the host's bounding set lacks it, every sandbox fails ("can't get final child's PID from
#   pipe: EOF"). containerd then clamps the value to its own, as kind does for rootless nodes. On a
#   host with the capability it changes nothing that a test cluster notices;
# - no fuse-overlayfs proxy plugin (only rootless kind uses it, and its binary is not built here).
set -euo pipefail
source "$(dirname "$0")/../../../versions.env"
sed -e "s|^\(\s*sandbox_image = \).*|\1\"registry.k8s.io/pause:$PAUSE_VERSION\"|" \
  -e 's|^\(\s*restrict_oom_score_adj = \).*|\1true|' \
  -e '/^\[proxy_plugins/,/^$/d' -e '/^# fuse-overlayfs is used for rootless/d' "$1"
grep -q 'restrict_oom_score_adj' "$1" || { echo "kind's containerd config has no restrict_oom_score_adj line" >&2; exit 1; }
