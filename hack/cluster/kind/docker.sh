#!/usr/bin/env bash
# The Docker engine that runs kind's nodes: a dockerd of the project's own, beside any other engine
# on the machine, so that nothing of the host's Docker set-up changes:
# - its own socket, exec root and pid file under .local/kind/docker, and its image store in the tool
#   cache (the node image is built once and survives `make kind-down`);
# - no default bridge, no iptables or masquerading rules of its own (kind's network still works, and
#   the node's mapped ports are served by docker-proxy on 127.0.0.1);
# - as default runtime, runc behind runc-wrapper.sh, which drops CAP_SYS_RESOURCE from a container's
#   capabilities where the host's bounding set lacks it (privileged containers fail otherwise).
#   hack/cluster/kind/docker.sh up      start it unless it answers (idempotent); prints DOCKER_HOST
#   hack/cluster/kind/docker.sh down    remove kind's network and stop it (only the recorded pid)
#   hack/cluster/kind/docker.sh env     print the DOCKER_HOST export
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=kind-docker; source "$(dirname "$0")/../common.sh"

RUN_DIR="$STATE_ROOT/kind/docker"
DATA_ROOT="$CACHE_ROOT/kind/docker"
SOCKET="$RUN_DIR/docker.sock"
export DOCKER_HOST="unix://$SOCKET"
# An address pool of its own, so kind's network never takes a subnet the host's engine uses.
KIND_DOCKER_ADDRESS_POOL="${KIND_DOCKER_ADDRESS_POOL:-172.31.0.0/16}"

answers() { docker info >/dev/null 2>&1; }

# bounding_set_lacks_sys_resource: bit 24 of CapBnd is CAP_SYS_RESOURCE.
bounding_set_lacks_sys_resource() {
  local bnd; bnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
  (( (16#$bnd >> 24 & 1) == 0 ))
}

up() {
  if answers; then log "the kind engine answers on $SOCKET"; return 0; fi
  # One engine per image store: another checkout's engine on the same store would corrupt it.
  local owner="$DATA_ROOT/.engine-socket" other
  if [[ -f "$owner" ]] && other="$(<"$owner")" && [[ "$other" != "$SOCKET" ]] \
    && DOCKER_HOST="unix://$other" docker info >/dev/null 2>&1; then
    die "the kind engine of another checkout runs on $other with the same image store; run 'make kind-down' there first"
  fi
  command -v dockerd >/dev/null || apt_install docker.io
  command -v jq >/dev/null || apt_install jq
  local runc_path; runc_path="$(command -v runc)" || die "runc is missing (Debian's docker.io brings it)"
  mkdir -p "$RUN_DIR" "$DATA_ROOT"
  local runtime=(--default-runtime runc)
  if bounding_set_lacks_sys_resource; then
    sed "s|@REAL_RUNC@|$runc_path|" "$CLUSTER_SRC/kind/runc-wrapper.sh" >"$RUN_DIR/runc-wrapper"
    chmod 0755 "$RUN_DIR/runc-wrapper"
    runtime=(--add-runtime "esp-runc=$RUN_DIR/runc-wrapper" --default-runtime esp-runc)
    log "the capability bounding set lacks CAP_SYS_RESOURCE: containers run through $RUN_DIR/runc-wrapper"
  fi
  log "starting the kind engine (socket $SOCKET, images in $DATA_ROOT, log $RUN_DIR/dockerd.log)"
  # The system's PATH only: dockerd starts the containerd and shim it finds first on PATH, and a
  # caller's PATH may hold other builds of them (the kind node's, in the tool cache).
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin setsid dockerd --host "$DOCKER_HOST" --data-root "$DATA_ROOT" --exec-root "$RUN_DIR/exec" \
    --pidfile "$RUN_DIR/dockerd.pid" --bridge=none --iptables=false --ip-masq=false \
    --default-address-pool "base=$KIND_DOCKER_ADDRESS_POOL,size=24" "${runtime[@]}" \
    >>"$RUN_DIR/dockerd.log" 2>&1 </dev/null &
  wait_for "the kind engine on $SOCKET" 60 docker info
  echo "$SOCKET" >"$owner"
  log "kind engine (Docker $(docker version --format '{{.Server.Version}}')) is up"
}

down() {
  local pid
  if answers; then
    docker network rm kind >/dev/null 2>&1 || true
  fi
  if [[ -f "$RUN_DIR/dockerd.pid" ]]; then
    pid="$(<"$RUN_DIR/dockerd.pid")"
    if [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */dockerd ]]; then
      log "stopping the kind engine (pid $pid)"
      kill "$pid"
      local deadline=$((SECONDS + 30))
      while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
  fi
  # The exec root holds mounts and sockets of the stopped engine only; the image store stays.
  awk -v root="$RUN_DIR" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l
  rm -rf "$RUN_DIR"
}

case "${1:-}" in
  up) up; echo "export DOCKER_HOST=$DOCKER_HOST" ;;
  down) down ;;
  env) echo "export DOCKER_HOST=$DOCKER_HOST" ;;
  *) die "usage: $0 up|down|env" ;;
esac
