#!/usr/bin/env bash
# Shared helpers for hack/ scripts: logging, timing and the tool cache location.
# Source it; it changes no state by itself.

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HACK_DIR/.." && pwd)"
# shellcheck source=versions.env
source "$HACK_DIR/versions.env"

# Tools are cached outside the repo so a fresh clone reuses them and git never sees them.
CACHE_ROOT="${ESP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/express-sqlize-platform}"
# Local runtime state (databases, cluster data, logs) lives in the repo's git-ignored .local/.
STATE_ROOT="${ESP_STATE_DIR:-$REPO_ROOT/.local}"

log()  { printf '\033[1;34m[%s]\033[0m %s\n' "${LOG_TAG:-hack}" "$*" >&2; }
warn() { printf '\033[1;33m[%s] warning:\033[0m %s\n' "${LOG_TAG:-hack}" "$*" >&2; }
die()  { printf '\033[1;31m[%s] error:\033[0m %s\n' "${LOG_TAG:-hack}" "$*" >&2; exit 1; }

# timed LABEL CMD...: runs CMD and reports how long it took.
timed() {
  local label="$1"; shift
  local start=$SECONDS
  "$@"
  local rc=$?
  log "$label took $((SECONDS - start))s"
  return $rc
}

# quiet CMD...: runs CMD with its output held back and shown only when it fails, so a step's own
# progress lines (timed's among them) stay readable.
quiet() {
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  ((rc == 0)) || printf '%s\n' "$out" >&2
  return $rc
}

# port_free PORT NAME: fails with a readable message when something already listens on PORT.
port_free() {
  local port="$1" name="$2"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port (for $name) is already in use; set the matching *_PORT variable to a free port"
  fi
}

# apt_install PKG...: Debian's packages, as root. Waits for dpkg's lock (make test installs from
# tiers that run side by side) and refreshes the package lists once when a package is not found.
apt_install() {
  [[ $EUID -eq 0 ]] || die "$* not installed; run: sudo apt-get install -y $*"
  log "installing Debian's $*"
  local apt=(apt-get -o DPkg::Lock::Timeout=900 -y -q)
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "$@" >/dev/null 2>&1 \
    || { "${apt[@]}" update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "$@" >/dev/null; } \
    || die "apt-get install $* failed"
}

# module_path FIELD MODULE@VERSION: one path `go mod download -json` reports for a module (Dir: its
# files in the module cache; GoMod: its go.mod), fetching it from the Go module proxy when needed.
# It runs outside any module, so the caller's go.mod (or GOFLAGS=-mod=vendor) cannot change the answer.
module_path() {
  local field="$1" module="$2" tmp path
  tmp="$(mktemp -d)"
  path="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$module" \
    | sed -n "s/^[[:space:]]*\"$field\": \"\(.*\)\",*\$/\1/p")" || true
  rm -rf "$tmp"
  [[ -n "$path" && -e "$path" ]] || die "could not fetch $module from the Go module proxy ($(go env GOPROXY))"
  echo "$path"
}
module_dir() { module_path Dir "$1"; }
module_gomod() { module_path GoMod "$1"; }

# wait_for DESCRIPTION TIMEOUT_SECONDS CMD...: polls CMD every 0.5 s until it succeeds.
wait_for() {
  local what="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then
      die "timed out after ${timeout}s waiting for $what"
    fi
    sleep 0.5
  done
}
