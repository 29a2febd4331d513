#!/usr/bin/env bash
# `make bench`: the speed targets, measured on real PostgreSQL and Kafka; numbers go to bench/results/*.json.
# Uses the servers named by MIMAMORI_TEST_* when set, else starts local ones (deploy/local) on ports of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}
export PG_PORT=${BENCH_PG_PORT:-25433} KAFKA_PORT=${BENCH_KAFKA_PORT:-29093}
export MIMAMORI_STATE_DIR=${BENCH_STATE_DIR:-/tmp/mimamori-bench}
mkdir -p bench/results
if [ "${BENCH_SPLINK:-1}" = 1 ]; then  # needs no server: runs before they start (BENCH_SPLINK=0 skips it)
  echo "== identity: Splink 4 (DuckDB) links 200,000 pupils to 1,000,000 residents (several minutes)"
  "$UV" run --frozen --group bench python bench/identity_splink.py --out bench/results/identity_splink.json >/dev/null
fi
started=()
cleanup() { for s in "${started[@]:-}"; do [ -n "$s" ] && bash "deploy/local/$s.sh" stop >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
if [ -z "${MIMAMORI_TEST_DATABASE_URL:-}" ]; then bash deploy/local/postgres.sh start && started+=(postgres); fi
if [ -z "${MIMAMORI_TEST_KAFKA_BOOTSTRAP:-}" ]; then
  bash deploy/local/kafka.sh fetch && bash deploy/local/kafka.sh start && started+=(kafka)
fi
if [ ${#started[@]} -gt 0 ]; then eval "$(bash deploy/local/env.sh)"; fi
mkdir -p bench/results
echo "== event: outbox -> Kafka -> committed effect (1,000 events/s)"
"$UV" run --no-sync python bench/event_latency.py --rate 1000 --seconds 20 --per-tx 10 --out bench/results/event_latency.json
echo "== gateway: authenticated point read, audit included (300 requests/s), and the hop"
"$UV" run --no-sync python bench/gateway_latency.py --rates 30,100,300 --seconds 15 --out bench/results/gateway_latency.json
echo "== ingest: a 1,000,000-row jumin file end to end (20,000 rows/s, peak RSS < 400 MB), COPY as the ceiling"
"$UV" run --no-sync python bench/ingest_load.py --rows 1000000 --all --out bench/results/ingest_load.json
echo "results in bench/results/"
