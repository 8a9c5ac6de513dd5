#!/usr/bin/env bash
# A private Prometheus (Debian's package) on loopback that scrapes one target, state under
# .local/prometheus. Used by the observability tier to prove /metrics parses with the real thing.
#   hack/prometheus.sh up HOST:PORT [PATH]   install if missing, write the scrape config, start;
#                                            when running, rewrite the config and reload it
#   hack/prometheus.sh down                  stop it and delete its state
#   hack/prometheus.sh status | env          (env prints `export PROMETHEUS_URL=...`)
# PROMETHEUS_PORT (default 59090) picks the port, PROMETHEUS_SCRAPE_INTERVAL (default 1s) the
# interval. Only the server started here (by its pid file) is ever stopped.
set -euo pipefail
LOG_TAG=prometheus; source "$(dirname "$0")/lib.sh"

PROMETHEUS_PORT="${PROMETHEUS_PORT:-59090}"
interval="${PROMETHEUS_SCRAPE_INTERVAL:-1s}"
base="$STATE_ROOT/prometheus"
pidfile="$base/prometheus.pid"
config="$base/prometheus.yml"
url="http://127.0.0.1:$PROMETHEUS_PORT"

ensure_installed() {
  command -v prometheus >/dev/null && return 0
  apt_install prometheus
  # The package may start a system-wide server on 9090; ours is separate, and that one is left alone.
}

is_running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

write_config() {
  local target="$1" path="$2"
  [[ "$target" =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] || die "target must be HOST:PORT, got '$target'"
  mkdir -p "$base"
  cat > "$config.tmp" <<YAML
# Written by hack/prometheus.sh; rewritten on every \`up\`.
global:
  scrape_interval: $interval
  scrape_timeout: $interval
scrape_configs:
  - job_name: express-sqlize
    metrics_path: $path
    static_configs:
      - targets: ['$target']
YAML
  mv "$config.tmp" "$config"
  log "scraping http://$target$path every $interval"
}

cmd_up() {
  local target="${1:-}" path="${2:-/metrics}"
  [[ -n "$target" ]] || die "usage: $0 up HOST:PORT [PATH]"
  ensure_installed
  write_config "$target" "$path"
  if is_running; then
    kill -HUP "$(cat "$pidfile")"
    log "already running on $url; configuration reloaded"
    return 0
  fi
  port_free "$PROMETHEUS_PORT" "Prometheus (PROMETHEUS_PORT)"
  mkdir -p "$base/data"
  nohup prometheus --config.file="$config" --storage.tsdb.path="$base/data" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --web.enable-lifecycle \
    >"$base/prometheus.log" 2>&1 &
  echo $! > "$pidfile"
  wait_for "Prometheus on port $PROMETHEUS_PORT" 30 curl -sf "$url/-/ready"
  log "up on $url"
}

cmd_stop() {
  if is_running; then
    local pid; pid="$(cat "$pidfile")"
    kill "$pid"
    wait_for "Prometheus to exit" 20 bash -c "! kill -0 $pid 2>/dev/null"
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_stop; rm -rf "$base"; log "down (state removed)" ;;
  status) if is_running; then echo "prometheus: running on $url"; else echo "prometheus: stopped"; exit 3; fi ;;
  env) echo "export PROMETHEUS_URL=$url" ;;
  *) die "usage: $0 up HOST:PORT [PATH] | down | status | env" ;;
esac
