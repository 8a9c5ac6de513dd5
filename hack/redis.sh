#!/usr/bin/env bash
# A private Redis for development and tests, on loopback, state under .local/redis.
#   hack/redis.sh up       install (Debian's redis-server) if missing and start; no-op when running
#   hack/redis.sh down     stop it and delete its state
#   hack/redis.sh stop     stop it (fault tests); start brings it back on the same port
#   hack/redis.sh start | status | env   (env prints `export REDIS_URL=...`)
# REDIS_PORT (default 56379) picks the port. Only the server started here (by its pid file) is stopped.
set -euo pipefail
LOG_TAG=redis; source "$(dirname "$0")/lib.sh"

REDIS_PORT="${REDIS_PORT:-56379}"
base="$STATE_ROOT/redis"
pidfile="$base/redis.pid"
url="redis://127.0.0.1:$REDIS_PORT"

ensure_installed() {
  command -v redis-server >/dev/null && return 0
  apt_install redis-server
  # The package starts a system-wide server on 6379; ours is separate, and that one is left alone.
}

is_running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# A server of this checkout on another port is not the one the caller asked for: say so.
check_port() {
  local port; port="$(cat "$base/port" 2>/dev/null || true)"
  if [[ -n "$port" && "$port" != "$REDIS_PORT" ]]; then
    die "this checkout's Redis already runs on port $port, not REDIS_PORT=$REDIS_PORT; stop it first (REDIS_PORT=$port $0 down) or use that port"
  fi
}

start_server() {
  port_free "$REDIS_PORT" "Redis (REDIS_PORT)"
  mkdir -p "$base"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$pidfile" \
    --dir "$base" --logfile "$base/redis.log" --save '' --appendonly no >/dev/null \
    || die "redis-server did not start; see $base/redis.log"
  wait_for "Redis on port $REDIS_PORT" 10 redis-cli -p "$REDIS_PORT" ping
  echo "$REDIS_PORT" > "$base/port"
}

cmd_stop() {
  if is_running; then
    local pid; pid="$(cat "$pidfile")"
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$pid"
    wait_for "Redis to exit" 10 bash -c "! kill -0 $pid 2>/dev/null"
    rm -f "$pidfile" "$base/port"
    log "stopped"
  else
    log "not running"
  fi
}

case "${1:-}" in
  up|start) ensure_installed
            if is_running; then check_port; log "already running on 127.0.0.1:$REDIS_PORT"
            else start_server; log "up on 127.0.0.1:$REDIS_PORT ($url)"; fi ;;
  stop) cmd_stop ;;
  down) cmd_stop; rm -rf "$base"; log "down (state removed)" ;;
  status) if is_running; then check_port; echo "redis: running on 127.0.0.1:$REDIS_PORT"; else echo "redis: stopped"; exit 3; fi ;;
  env) echo "export REDIS_URL=$url" ;;
  *) die "usage: $0 up|down|start|stop|status|env" ;;
esac
