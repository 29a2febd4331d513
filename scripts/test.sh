#!/usr/bin/env bash
# Runs the whole suite against real servers: those named by MIMAMORI_TEST_* (as .ci/run sets them), else
# testcontainers where a Docker engine answers, else PostgreSQL and Kafka started here from local binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}
started=()
cleanup() { for s in "${started[@]:-}"; do [ -n "$s" ] && bash "deploy/local/$s.sh" stop >/dev/null 2>&1 || true; done; }
trap cleanup EXIT

docker_ok() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

if [ -z "${MIMAMORI_TEST_DATABASE_URL:-}" ] && ! docker_ok; then
  if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "== starting a local PostgreSQL for the tests"
    bash deploy/local/postgres.sh start && started+=(postgres)
  fi
fi
if [ -z "${MIMAMORI_TEST_KAFKA_BOOTSTRAP:-}" ] && ! docker_ok; then
  if command -v java >/dev/null 2>&1; then
    echo "== starting a local Kafka (KRaft) for the tests"
    bash deploy/local/kafka.sh fetch && bash deploy/local/kafka.sh start && started+=(kafka)
  fi
fi
if [ ${#started[@]} -gt 0 ]; then eval "$(bash deploy/local/env.sh)"; fi

set +e
"$UV" run pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit "$status"
