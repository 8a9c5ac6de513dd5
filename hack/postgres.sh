#!/usr/bin/env bash
# A private PostgreSQL for development and tests, on loopback, data under .local/postgres.
#   hack/postgres.sh up       install (Debian's package) if missing, initialise, start; no-op when running
#   hack/postgres.sh down     stop it and delete its data
#   hack/postgres.sh stop     stop it, keep the data (fault tests); start brings it back
#   hack/postgres.sh start    start the existing data directory
#   hack/postgres.sh status   say whether it runs
#   hack/postgres.sh env      print `export DATABASE_URL=...` for eval
# PG_PORT (default 55432) picks the port. Only the server in our own data directory is ever stopped.
set -euo pipefail
LOG_TAG=postgres; source "$(dirname "$0")/lib.sh"

PG_PORT="${PG_PORT:-55432}"
PG_USER=esp PG_PASSWORD=esp PG_DB=esp
base="$STATE_ROOT/postgres"
data="$base/data"
url="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"

pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$dir" && -x "$dir/pg_ctl" ]] && echo "$dir"
}

ensure_installed() {
  pg_bindir >/dev/null && return 0
  apt_install postgresql
  pg_bindir >/dev/null || die "postgresql installed but no pg_ctl found under /usr/lib/postgresql"
}

# PostgreSQL refuses to run as root: as root, run its tools as the package's postgres user.
as_owner() {
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

is_running() {
  [[ -f "$data/postmaster.pid" ]] && as_owner "$(pg_bindir)/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# The port the server of this checkout listens on (line 4 of postmaster.pid).
running_port() { sed -n 4p "$data/postmaster.pid" 2>/dev/null; }

# A server of this checkout on another port is not the one the caller asked for: say so instead of
# letting the caller connect to a port where nothing listens.
check_port() {
  local port; port="$(running_port)"
  if [[ -n "$port" && "$port" != "$PG_PORT" ]]; then
    die "this checkout's PostgreSQL already runs on port $port, not PG_PORT=$PG_PORT; stop it first (PG_PORT=$port $0 down) or use that port"
  fi
}

start_server() {
  port_free "$PG_PORT" "PostgreSQL (PG_PORT)"
  as_owner "$(pg_bindir)/pg_ctl" -D "$data" -l "$base/postgres.log" -w -t 30 \
    -o "-p $PG_PORT -k $base/run -c listen_addresses=127.0.0.1" start >/dev/null \
    || die "PostgreSQL did not start; see $base/postgres.log"
}

cmd_up() {
  ensure_installed
  if is_running; then check_port; log "already running on 127.0.0.1:$PG_PORT"; return 0; fi
  local start=$SECONDS bindir; bindir="$(pg_bindir)"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    log "initialising a cluster in $data"
    mkdir -p "$base/run"
    [[ $EUID -eq 0 ]] && chown -R postgres: "$base"
    local pwfile="$base/.pw"; echo "$PG_PASSWORD" > "$pwfile"; [[ $EUID -eq 0 ]] && chown postgres: "$pwfile"
    as_owner "$bindir/initdb" -D "$data" -U "$PG_USER" --pwfile="$pwfile" -A scram-sha-256 \
      --auth-local=trust -E UTF8 --locale=C.UTF-8 >/dev/null || die "initdb failed"
    rm -f "$pwfile"
    # A throwaway test server: durability traded for speed, enough connections for concurrency tests.
    cat >> "$data/postgresql.conf" <<CONF
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
  fi
  start_server
  as_owner "$bindir/psql" -h "$base/run" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1 \
    || as_owner "$bindir/createdb" -h "$base/run" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
  log "up on 127.0.0.1:$PG_PORT in $((SECONDS - start))s ($url)"
}

cmd_stop() {
  if is_running; then
    as_owner "$(pg_bindir)/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    log "stopped (data kept in $data)"
  else
    log "not running"
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  start) ensure_installed; [[ -f "$data/PG_VERSION" ]] || die "no data directory yet; run: hack/postgres.sh up"
         is_running && log "already running" || { start_server; log "started on 127.0.0.1:$PG_PORT"; } ;;
  stop) cmd_stop ;;
  down) [[ -d "$data" ]] && pg_bindir >/dev/null && cmd_stop; rm -rf "$base"; log "down (data removed)" ;;
  status) if pg_bindir >/dev/null && is_running; then check_port; echo "postgres: running on 127.0.0.1:$PG_PORT"; else echo "postgres: stopped"; exit 3; fi ;;
  env) echo "export DATABASE_URL=$url" ;;
  *) die "usage: $0 up|down|start|stop|status|env" ;;
esac
