#!/usr/bin/env bash
# Print the environment the tests use to find the local servers, for `eval`:
#
#   eval "$(deploy/local/env.sh)"
#
# Ports come from the same variables as postgres.sh / kafka.sh (PG_PORT, KAFKA_PORT).
set -euo pipefail

PG_PORT="${PG_PORT:-15432}"
KAFKA_PORT="${KAFKA_PORT:-19092}"

printf 'export MIMAMORI_TEST_DATABASE_URL=%q\n' \
    "postgresql+asyncpg://mimamori:mimamori@127.0.0.1:${PG_PORT}/mimamori"
printf 'export MIMAMORI_TEST_KAFKA_BOOTSTRAP=%q\n' "127.0.0.1:${KAFKA_PORT}"
