#!/usr/bin/env bash
# The distributed form on one machine without Docker: PostgreSQL and Kafka from deploy/local, one schema and
# role per service, the context key pair, and every module as its own process (`mimamori run --target X`).
#   deploy/local/distributed.sh start | stop | status
# Logs and pids under $MIMAMORI_DIST_DIR (default /tmp/mimamori-dist). Development only: the gateway serves its
# development OIDC issuer, since no Keycloak runs here.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
UV=${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}
DIST=${MIMAMORI_DIST_DIR:-/tmp/mimamori-dist}
SERVICES=(audit ingest identity risk casework)
declare -A PORTS=([ingest]=8001 [identity]=8002 [risk]=8003 [casework]=8004 [audit]=8005 [gateway]=8000)

start() {
  mkdir -p "$DIST"
  bash deploy/local/postgres.sh start
  bash deploy/local/kafka.sh fetch
  bash deploy/local/kafka.sh start
  eval "$(bash deploy/local/env.sh)"
  "$UV" run --no-sync mimamori keys generate --out "$DIST/keys" >/dev/null
  local upstreams="{" sep=""
  for s in "${SERVICES[@]}" gateway; do
    url=$("$UV" run --no-sync python -c "
import asyncio, sys
from mimamori.kit.provisioning import provision_service
print(asyncio.run(provision_service(admin_url=sys.argv[1], service=sys.argv[2], password=sys.argv[2] + '-dev')))
" "$MIMAMORI_TEST_DATABASE_URL" "$s")
    if [ "$s" != gateway ]; then upstreams+="$sep\"$s\": \"http://127.0.0.1:${PORTS[$s]}\""; sep=", "; fi
    launch "$s" "$url" "$upstreams}"
  done
  echo "gateway: http://localhost:8000 (logs in $DIST)"
}

launch() {
  local name=$1 url=$2 upstreams=$3 pidfile="$DIST/$1.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$name: already running"; return; fi
  local key_env=(MIMAMORI_CONTEXT_PUBLIC_KEY_FILE="$DIST/keys/context.pub")
  [ "$name" = gateway ] && key_env=(MIMAMORI_CONTEXT_PRIVATE_KEY_FILE="$DIST/keys/context.key" MIMAMORI_GATEWAY_UPSTREAMS="$upstreams")
  env MIMAMORI_DATABASE_URL="$url" MIMAMORI_KAFKA_BOOTSTRAP="$MIMAMORI_TEST_KAFKA_BOOTSTRAP" \
      MIMAMORI_DATA_DIR="$DIST/data/$name" "${key_env[@]}" \
      nohup "$UV" run --no-sync mimamori run --target "$name" --port "${PORTS[$name]}" >"$DIST/$name.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:${PORTS[$name]}/healthz" >/dev/null 2>&1; then echo "$name: up on ${PORTS[$name]}"; return; fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "$name: exited; see $DIST/$name.log" >&2; tail -20 "$DIST/$name.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "$name: did not answer in time; see $DIST/$name.log" >&2; exit 1
}

stop() {
  for s in gateway "${SERVICES[@]}"; do
    if [ -f "$DIST/$s.pid" ]; then kill "$(cat "$DIST/$s.pid")" 2>/dev/null || true; rm -f "$DIST/$s.pid"; fi
  done
  echo "stopped the modules (PostgreSQL and Kafka keep running: deploy/local/{postgres,kafka}.sh stop)"
}

status() {
  for s in "${SERVICES[@]}" gateway; do
    if [ -f "$DIST/$s.pid" ] && kill -0 "$(cat "$DIST/$s.pid")" 2>/dev/null; then echo "$s: running"; else echo "$s: stopped"; fi
  done
}

case "${1:-}" in
  start) start ;; stop) stop ;; status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
