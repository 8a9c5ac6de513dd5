#!/usr/bin/env bash
# The service's developer loop (`make dev`, `npm run dev -w service`): tsc rebuilds dist/ on every
# save and `node --watch` restarts the service when a file it loaded changes. No extra dependency:
# tsc is the build the image uses, so what runs here is what ships (decorator metadata included,
# which esbuild-based runners such as tsx do not emit).
# Environment, later wins: service/.env.development (committed: coloured logs), then service/.env
# (yours, git-ignored; start from service/.env.example), then the shell's own variables.
set -euo pipefail
LOG_TAG=dev; source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

log "building once, then watching (tsc -b --watch) and restarting on change (node --watch); Ctrl-C stops"
npx tsc -b service
npx tsc -b service --watch --preserveWatchOutput &
tsc_pid=$!
trap 'kill "$tsc_pid" 2>/dev/null || true' EXIT

cd service
node --watch --watch-preserve-output --enable-source-maps \
  --env-file=.env.development --env-file-if-exists=.env dist/main.js
