#!/usr/bin/env bash
# Runs the built service image the way the chart runs it (non-root, read-only root filesystem with a
# tmpfs at /tmp, all capabilities dropped, no privilege escalation) on the embedded SQLite database:
# migrations first (`node dist/cli/migrate.js`, as the chart's hook Job), then the service. Passes
# when GET /health and GET /ready answer 200, the process runs as UID 10001, and `docker stop`
# (SIGTERM to node as PID 1) ends it with exit code 0 within the grace period.
#   hack/test-image.sh [IMAGE]      default: express-sqlize/service:dev
set -euo pipefail
LOG_TAG=test-image; source "$(dirname "$0")/lib.sh"

IMAGE="${1:-${SERVICE_IMAGE:-express-sqlize/service:dev}}"
PORT="${TEST_IMAGE_PORT:-53000}"
docker image inspect "$IMAGE" >/dev/null 2>&1 || die "image $IMAGE is missing: run 'make image-build' first"
port_free "$PORT" "the image test (TEST_IMAGE_PORT)"

volume="esp-test-image-$$"
container=""
cleanup() {
  [[ -n "$container" ]] && docker rm -f "$container" >/dev/null 2>&1 || true
  docker volume rm -f "$volume" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Both containers share the SQLite file through a volume; everything else is read-only.
run_args=(
  --read-only --tmpfs /tmp:rw,size=64m
  --cap-drop ALL --security-opt no-new-privileges
  --user 10001:10001
  -v "$volume:/data"
  -e NODE_ENV=production
  -e DB_DIALECT=sqlite -e DB_STORAGE=/data/express-sqlize.sqlite
  -e JWT_SECRET="test-image-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  -e SHUTDOWN_DELAY_MS=500 -e SHUTDOWN_TIMEOUT_MS=5000
)
docker volume create "$volume" >/dev/null
# A fresh named volume is root-owned; the non-root user needs to write the database file into it.
docker run --rm --user 0 -v "$volume:/data" --entrypoint chown "$IMAGE" 10001:10001 /data

log "migrating: node dist/cli/migrate.js"
docker run --rm "${run_args[@]}" "$IMAGE" node dist/cli/migrate.js \
  || die "the migration run failed (exit $?)"

log "starting $IMAGE on 127.0.0.1:$PORT"
container="$(docker run -d "${run_args[@]}" -p "127.0.0.1:$PORT:3000" "$IMAGE")"

probe() { curl -fsS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$1"; }
for path in /health /ready; do
  if ! (wait_for "GET $path = 200" 60 probe "$path"); then
    docker logs --tail 40 "$container" >&2 || true
    die "GET $path did not answer 200"
  fi
  log "GET $path -> 200"
done

uid="$(docker exec "$container" id -u)"
[[ "$uid" == 10001 ]] || die "the service runs as UID $uid, expected 10001"
if docker exec "$container" sh -c 'touch /app/probe' 2>/dev/null; then
  die "the root filesystem is writable"
fi
log "runs as UID $uid on a read-only root filesystem"

start=$SECONDS
docker stop -t 20 "$container" >/dev/null
code="$(docker inspect "$container" --format '{{.State.ExitCode}}')"
[[ "$code" == 0 ]] || { docker logs --tail 40 "$container" >&2; die "after SIGTERM the service exited with $code, expected 0"; }
log "SIGTERM: node (PID 1) exited 0 after $((SECONDS - start))s"
echo "image test: 1 passed, 0 failed"
