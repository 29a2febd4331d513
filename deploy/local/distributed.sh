#!/usr/bin/env bash
# The distributed form on one machine without Docker: PostgreSQL and Kafka from deploy/local, one schema and
# role per service, the context key pair, and every module as its own process (`mimamori run --target X`).
#   deploy/local/distributed.sh start | stop | status
# Logs and pids under $MIMAMORI_DIST_DIR (default /tmp/mimamori-dist). Development only: the gateway serves its
# development OIDC issuer, since no Keycloak runs here. MIMAMORI_REPLICAS="casework=2 gateway=2" runs that many
# processes of a module on its port (`mimamori run --reuse-port`), as the production overlay runs them.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
UV=${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}
DIST=${MIMAMORI_DIST_DIR:-/tmp/mimamori-dist}
SERVICES=(audit ingest identity risk casework)
declare -A PORTS=([ingest]=8001 [identity]=8002 [risk]=8003 [casework]=8004 [audit]=8005 [gateway]=8000)
declare -A REPLICAS=()
for pair in ${MIMAMORI_REPLICAS:-}; do REPLICAS[${pair%%=*}]=${pair#*=}; done

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
    local count=${REPLICAS[$s]:-1}
    for r in $(seq 1 "$count"); do
      launch "$s" "$url" "$upstreams}" "$r" "$count"
    done
  done
  echo "gateway: http://localhost:8000 (logs in $DIST)"
}

launch() {
  local name=$1 url=$2 upstreams=$3 replica=${4:-1} count=${5:-1}
  local label=$name
  [ "$replica" -gt 1 ] && label="$name.$replica"
  local pidfile="$DIST/$label.pid" shared=()
  [ "$count" -gt 1 ] && shared=(--reuse-port)
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$label: already running"; return; fi
  local key_env=(MIMAMORI_CONTEXT_PUBLIC_KEY_FILE="$DIST/keys/context.pub")
  [ "$name" = gateway ] && key_env=(MIMAMORI_CONTEXT_PRIVATE_KEY_FILE="$DIST/keys/context.key" MIMAMORI_GATEWAY_UPSTREAMS="$upstreams"
                                    MIMAMORI_GATEWAY_DEV_ISSUER_KEY_FILE="$DIST/keys/dev-issuer.pem")
  env MIMAMORI_DATABASE_URL="$url" MIMAMORI_KAFKA_BOOTSTRAP="$MIMAMORI_TEST_KAFKA_BOOTSTRAP" \
      MIMAMORI_DATA_DIR="$DIST/data/$label" "${key_env[@]}" \
      nohup "$UV" run --no-sync mimamori run --target "$name" --port "${PORTS[$name]}" "${shared[@]}" >"$DIST/$label.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    # A replica is up when it listens on the shared port itself (calling the port may reach another replica).
    if listening "$(cat "$pidfile")" "${PORTS[$name]}"; then echo "$label: up on ${PORTS[$name]}"; return; fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "$label: exited; see $DIST/$label.log" >&2; tail -20 "$DIST/$label.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "$label: did not answer in time; see $DIST/$label.log" >&2; exit 1
}

listening() {
  # The process (or the python under `uv run`) has a socket listening on the port, and the port answers.
  local pid=$1 port=$2 inodes p ino
  inodes=$(awk -v p=":$(printf '%04X' "$port")" '$2 ~ p"$" && $4 == "0A" {print $10}' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  for p in "$pid" $(pgrep -P "$pid"); do
    for ino in $inodes; do
      if ls -l "/proc/$p/fd" 2>/dev/null | grep -q "socket:\[$ino\]"; then
        curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
      fi
    done
  done
  return 1
}

stop() {
  for pidfile in "$DIST"/*.pid; do
    [ -f "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"
  done
  echo "stopped the modules (PostgreSQL and Kafka keep running: deploy/local/{postgres,kafka}.sh stop)"
}

status() {
  for s in "${SERVICES[@]}" gateway; do
    if [ -f "$DIST/$s.pid" ] && kill -0 "$(cat "$DIST/$s.pid")" 2>/dev/null; then echo "$s: running"; else echo "$s: stopped"; fi
    for pidfile in "$DIST/$s".[0-9]*.pid; do
      [ -f "$pidfile" ] || continue
      label=$(basename "$pidfile" .pid)
      if kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$label: running"; else echo "$label: stopped"; fi
    done
  done
}

case "${1:-}" in
  start) start ;; stop) stop ;; status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
