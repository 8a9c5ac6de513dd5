#!/usr/bin/env bash
# The default runtime of the Docker engine the project starts (hack/docker-base.sh) where the
# capability bounding set lacks CAP_SYS_RESOURCE: runc, with that capability taken out of the
# container's capability sets first. Without it runc cannot grant a privileged container every
# capability and fails with "unable to apply caps: operation not permitted"; kind's nodes are
# privileged. Nothing else changes: every argument goes to runc as it came.
# docker-base.sh installs a copy with REAL_RUNC filled in, so the engine never depends on a checkout.
set -euo pipefail
REAL_RUNC="${REAL_RUNC:-@REAL_RUNC@}"

# `runc create --bundle DIR` reads DIR/config.json; `runc exec --process FILE` reads FILE.
spec=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --bundle | -b) spec="${args[i + 1]:-}/config.json" ;;
    --bundle=*) spec="${args[i]#--bundle=}/config.json" ;;
    --process | -p) spec="${args[i + 1]:-}" ;;
    --process=*) spec="${args[i]#--process=}" ;;
  esac
done

if [[ -n "$spec" && -f "$spec" ]] && grep -q CAP_SYS_RESOURCE "$spec"; then
  jq -c '
    def drop: if . == null then . else with_entries(.value |= ((. // []) | map(select(. != "CAP_SYS_RESOURCE")))) end;
    if has("ociVersion") then .process.capabilities |= drop else .capabilities |= drop end' \
    "$spec" >"$spec.esp" && mv "$spec.esp" "$spec"
fi
exec "$REAL_RUNC" "$@"
