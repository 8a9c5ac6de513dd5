# Shared by hack/cluster/*.sh: where the local cluster keeps its state, its ports, and how its
# processes are started, recognised and stopped. Source it; it changes no state by itself.
# shellcheck source=../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

CLUSTER_SRC="$HACK_DIR/cluster"
CLUSTER_DIR="$STATE_ROOT/cluster"
PKI_DIR="$CLUSTER_DIR/pki"
PID_DIR="$CLUSTER_DIR/pids"
LOG_DIR="$CLUSTER_DIR/logs"
KUBECONFIG_PATH="$CLUSTER_DIR/kubeconfig"
TOOLS_BIN="$CACHE_ROOT/bin"
# The kind node's own binaries (hack/tools.sh @kind), kept off PATH.
KIND_BIN="$CACHE_ROOT/kind/bin"

# Every listener is on loopback; each port can be moved with its variable.
ETCD_PORT="${ETCD_PORT:-52379}"
ETCD_PEER_PORT="${ETCD_PEER_PORT:-52380}"
APISERVER_PORT="${APISERVER_PORT:-56443}"
CONTROLLER_MANAGER_PORT="${CONTROLLER_MANAGER_PORT:-50257}"
SCHEDULER_PORT="${SCHEDULER_PORT:-50259}"
KWOK_PORT="${KWOK_PORT:-50247}"
KWOK_NODES="${KWOK_NODES:-3}"
SERVICE_CIDR="${SERVICE_CIDR:-10.96.0.0/16}"
APISERVER_URL="https://127.0.0.1:$APISERVER_PORT"

# Start order; stop order is the reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# ports_of COMPONENT: "PORT:VARIABLE" pairs a component listens on.
ports_of() {
  case "$1" in
    etcd) echo "$ETCD_PORT:ETCD_PORT $ETCD_PEER_PORT:ETCD_PEER_PORT" ;;
    kube-apiserver) echo "$APISERVER_PORT:APISERVER_PORT" ;;
    kube-controller-manager) echo "$CONTROLLER_MANAGER_PORT:CONTROLLER_MANAGER_PORT" ;;
    kube-scheduler) echo "$SCHEDULER_PORT:SCHEDULER_PORT" ;;
    kwok) echo "$KWOK_PORT:KWOK_PORT" ;;
  esac
}

is_component() {
  local c; for c in "${COMPONENTS[@]}"; do [[ "$c" == "$1" ]] && return 0; done
  return 1
}

# pid_of COMPONENT: the recorded pid, printed only while that process still runs our binary.
# Checking /proc/PID/exe guards against a recycled pid belonging to something else.
pid_of() {
  local file="$PID_DIR/$1.pid" pid exe
  [[ -f "$file" ]] || return 1
  pid="$(<"$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
  [[ "$(basename "${exe% (deleted)}")" == "$1" ]] || return 1
  echo "$pid"
}

# start_process COMPONENT ARGS...: runs the cached binary detached (its own session, so a Ctrl-C
# in make does not kill the cluster), output to logs/COMPONENT.log, pid to pids/COMPONENT.pid.
start_process() {
  local name="$1"; shift
  local bin="$TOOLS_BIN/$name"
  [[ -x "$bin" ]] || die "$bin is missing: run 'make tools' (hack/tools.sh) first"
  mkdir -p "$PID_DIR" "$LOG_DIR"
  setsid "$(readlink -f "$bin")" "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$PID_DIR/$name.pid"
  log "started $name (pid $!, log $LOG_DIR/$name.log)"
}

# alive PID: running, and not a zombie. The detached processes are reparented to whatever reaps
# orphans here, which may be slow to do it, so an exited process can linger as a zombie.
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ "$(awk '{print $1}' <<<"${stat##*)}")" != Z ]]
}

# stop_process COMPONENT: TERM, then KILL after STOP_GRACE_SECONDS; only the recorded pid is touched.
# kube-apiserver 1.36 logs its whole graceful shutdown within a second of SIGTERM and then often
# lingers without doing anything visible, so waiting longer only slows restarts down.
stop_process() {
  local name="$1" pid
  if ! pid="$(pid_of "$name")"; then
    rm -f "$PID_DIR/$name.pid"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local grace="${STOP_GRACE_SECONDS:-5}" killed=0
  local deadline=$((SECONDS + grace))
  while alive "$pid"; do
    if (( SECONDS >= deadline && ! killed )); then
      log "$name (pid $pid) still there ${grace}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      killed=1
    fi
    sleep 0.2
  done
  rm -f "$PID_DIR/$name.pid"
  log "stopped $name (pid $pid)"
}

# kubectl with the cluster's admin kubeconfig and the cached binary.
kc() { "$TOOLS_BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# apiserver_ready: /readyz answers ok to the admin client certificate.
apiserver_ready() {
  curl -fsS --max-time 2 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" \
    "$APISERVER_URL/readyz" 2>/dev/null | grep -qx ok
}
