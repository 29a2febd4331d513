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
# PostgreSQL on this machine is reached through its unix socket, as a co-located server would be: loopback TCP
# cost the gateway read about 0.6 ms more CPU per request (bench/README.md).
given_db=${MIMAMORI_TEST_DATABASE_URL:-} given_kafka=${MIMAMORI_TEST_KAFKA_BOOTSTRAP:-}
eval "$(PG_SOCKET=1 bash deploy/local/env.sh)"
# What was given wins over the local servers' addresses (only what this script started is taken from env.sh).
export MIMAMORI_TEST_DATABASE_URL=${given_db:-$MIMAMORI_TEST_DATABASE_URL}
export MIMAMORI_TEST_KAFKA_BOOTSTRAP=${given_kafka:-$MIMAMORI_TEST_KAFKA_BOOTSTRAP}
mkdir -p bench/results
echo "== event: outbox -> Kafka -> committed effect (1,000 events/s)"
"$UV" run --no-sync python bench/event_latency.py --rate 1000 --seconds 20 --per-tx 10 --repeats 3 --out bench/results/event_latency.json
echo "== gateway: authenticated point read, audit included (300 requests/s), and the hop"
"$UV" run --no-sync python bench/gateway_latency.py --rates 30,100,300 --seconds 15 --repeats 3 --out bench/results/gateway_latency.json
echo "== ingest: a 1,000,000-row jumin file end to end (20,000 rows/s, peak RSS < 400 MB), COPY as the ceiling"
"$UV" run --no-sync python bench/ingest_load.py --rows 1000000 --all --out bench/results/ingest_load.json
echo "== identity: link quality per source on the labelled synthetic town (precision ≥ 99.9%, recall ≥ 99%)"
"$UV" run --no-sync python bench/identity_quality.py --out bench/results/identity_quality.json
echo "== identity: our matcher at scale (1,000,000 residents + 200,000 pupils, the Splink bench's data)"
"$UV" run --no-sync python bench/identity_scale.py --residents 1000000 --pupils 200000 --out bench/results/identity_scale.json
echo "== risk: full re-score of 300,000 children, one school's month incrementally, the single-SQL ceiling"
"$UV" run --no-sync python bench/risk_rescore.py --children 300000 --out bench/results/risk_rescore.json
echo "results in bench/results/"
