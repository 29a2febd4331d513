#!/usr/bin/env bash
# Print the environment the tests use to find the local servers, for `eval`:
#
#   eval "$(deploy/local/env.sh)"
#
# Ports come from the same variables as postgres.sh / kafka.sh (PG_PORT, KAFKA_PORT). PG_SOCKET=1: PostgreSQL
# through its unix socket instead of TCP (the benches on this machine do this).
set -euo pipefail

PG_PORT="${PG_PORT:-15432}"
KAFKA_PORT="${KAFKA_PORT:-19092}"

if [ "${PG_SOCKET:-0}" = 1 ]; then
    # The server's unix socket (postgres.sh puts it in its state dir): on the same machine it costs less CPU per
    # round trip than loopback TCP (bench/README.md). Password checked as over TCP.
    socket_dir="${MIMAMORI_STATE_DIR:-/tmp/mimamori-local}/postgres-${PG_PORT}"
    printf 'export MIMAMORI_TEST_DATABASE_URL=%q\n' \
        "postgresql+asyncpg://mimamori:mimamori@/mimamori?host=${socket_dir}&port=${PG_PORT}"
else
    printf 'export MIMAMORI_TEST_DATABASE_URL=%q\n' \
        "postgresql+asyncpg://mimamori:mimamori@127.0.0.1:${PG_PORT}/mimamori"
fi
printf 'export MIMAMORI_TEST_KAFKA_BOOTSTRAP=%q\n' "127.0.0.1:${KAFKA_PORT}"
