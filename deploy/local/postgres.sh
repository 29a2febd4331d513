#!/usr/bin/env bash
# Local PostgreSQL for tests and CI, from the Debian packages (/usr/lib/postgresql/*/bin).
# No Docker, no system service: a throwaway cluster in a state dir, on a loopback port.
#
#   deploy/local/postgres.sh start    initdb a fresh cluster, start it, create role+db mimamori
#   deploy/local/postgres.sh stop     stop it (fast shutdown)
#   deploy/local/postgres.sh status   exit 0 if running and accepting connections, 1 otherwise
#
# Environment (all optional):
#   PG_PORT             TCP port on 127.0.0.1                   (default 15432)
#   PG_BINDIR           PostgreSQL bin dir                      (default newest /usr/lib/postgresql/*/bin)
#   PG_START_TIMEOUT    seconds to wait for startup             (default 60)
#   MIMAMORI_STATE_DIR  runtime state root                      (default /tmp/mimamori-local)
#
# Role `mimamori` / password `mimamori` (superuser) owns database `mimamori`.
# TCP connections on 127.0.0.1 use scram-sha-256 (so the password in the URL is really
# checked). The unix socket in the state dir trusts the bootstrap superuser only; other roles give
# their password there too (a bench on this machine connects through it: `PG_SOCKET=1 env.sh`).
set -euo pipefail

PG_PORT="${PG_PORT:-15432}"
PG_START_TIMEOUT="${PG_START_TIMEOUT:-60}"
HOST=127.0.0.1
DB_USER=mimamori
DB_PASSWORD=mimamori
DB_NAME=mimamori

STATE_ROOT="${MIMAMORI_STATE_DIR:-/tmp/mimamori-local}"
STATE="$STATE_ROOT/postgres-$PG_PORT"
DATA="$STATE/data"
LOG="$STATE/postgres.log"

say() { printf 'postgres: %s\n' "$*"; }
die() { printf 'postgres: ERROR: %s\n' "$*" >&2; exit 1; }

# Serialize start/stop for one port (two `start`s racing would wipe each other's
# cluster). fd 9 is closed for everything we spawn so the server never holds it.
lock_state() {
    mkdir -p "$STATE_ROOT"
    chmod 755 "$STATE_ROOT" 2>/dev/null || true
    exec 9>"$STATE_ROOT/postgres-$PG_PORT.lock"
    flock -w 300 9 || die "timed out waiting for $STATE_ROOT/postgres-$PG_PORT.lock"
}

find_bindir() {
    if [[ -n "${PG_BINDIR:-}" ]]; then
        [[ -x "$PG_BINDIR/postgres" ]] || die "PG_BINDIR=$PG_BINDIR has no postgres binary"
        echo "$PG_BINDIR"
        return
    fi
    local newest
    newest="$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -z "$newest" ]]; then
        die "no PostgreSQL server binaries found (looked for /usr/lib/postgresql/*/bin/postgres).
  Install them first, e.g.: apt-get update && apt-get install -y postgresql
  (.ci/run does this automatically), or point PG_BINDIR at a bin dir."
    fi
    dirname "$newest"
}

# Run a PostgreSQL binary as the cluster owner: the `postgres` OS user when we are
# root (postgres refuses to run as root), ourselves otherwise.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        (cd / && runuser -u postgres -- "$@" 9>&-)
    else
        "$@" 9>&-
    fi
}

own() {
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres: "$@"
    fi
}

is_running() {
    local bindir=$1
    [[ -f "$DATA/postmaster.pid" ]] || return 1
    as_owner "$bindir/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

cmd_start() {
    local bindir
    bindir="$(find_bindir)"
    local version
    version="$("$bindir/postgres" --version | awk '{print $3}')"

    if is_running "$bindir"; then
        if "$bindir/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 5; then
            say "already running on $HOST:$PG_PORT (data $DATA)"
            return 0
        fi
        die "a server is running on $DATA but $HOST:$PG_PORT does not accept connections; run '$0 stop' (log: $LOG)"
    fi
    if (exec 3<>"/dev/tcp/$HOST/$PG_PORT") 2>/dev/null; then
        die "port $HOST:$PG_PORT is already in use by another process"
    fi

    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 \
            || die "running as root but there is no 'postgres' OS user to own the cluster (the Debian postgresql package creates it)"
    fi

    local t0=$SECONDS
    # The cluster owner must be able to reach the state dir: keep the root traversable.
    mkdir -p "$STATE_ROOT"
    chmod 755 "$STATE_ROOT" 2>/dev/null || true
    rm -rf "$STATE"
    mkdir -p "$STATE"
    chmod 700 "$STATE"
    own "$STATE"

    if ! as_owner "$bindir/initdb" -D "$DATA" -U postgres --encoding=UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$STATE/initdb.log" 2>&1; then
        cat "$STATE/initdb.log" >&2
        die "initdb failed"
    fi

    cat >>"$DATA/postgresql.conf" <<EOF

# --- deploy/local/postgres.sh: throwaway test cluster ---
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$STATE'
max_connections = 200
shared_buffers = 128MB
password_encryption = scram-sha-256
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_min_messages = warning
log_min_error_statement = error
EOF
    # Loopback TCP and the local socket, password checked; the socket trusts the bootstrap superuser only.
    cat >"$DATA/pg_hba.conf" <<EOF
# deploy/local/postgres.sh
local   all   postgres              trust
local   all   all                   scram-sha-256
host    all   all   127.0.0.1/32    scram-sha-256
host    all   all   ::1/128         scram-sha-256
EOF
    own "$DATA/postgresql.conf" "$DATA/pg_hba.conf"

    if ! as_owner "$bindir/pg_ctl" -D "$DATA" -l "$LOG" -w -t "$PG_START_TIMEOUT" start >/dev/null; then
        tail -n 40 "$LOG" >&2 || true
        die "pg_ctl start failed (log: $LOG)"
    fi

    local deadline=$((SECONDS + PG_START_TIMEOUT))
    until "$bindir/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 2; do
        if ((SECONDS >= deadline)); then
            tail -n 40 "$LOG" >&2 || true
            die "server not accepting connections on $HOST:$PG_PORT after ${PG_START_TIMEOUT}s (log: $LOG)"
        fi
        sleep 0.2
    done

    # Bootstrap over the unix socket as the initdb superuser.
    if ! as_owner "$bindir/psql" -X -q -h "$STATE" -p "$PG_PORT" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 >"$STATE/bootstrap.log" 2>&1 <<EOF
CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASSWORD';
CREATE DATABASE $DB_NAME OWNER $DB_USER;
EOF
    then
        cat "$STATE/bootstrap.log" >&2
        die "creating role/database $DB_USER failed"
    fi

    # Final check through the same path the tests use: TCP + password.
    if ! PGPASSWORD="$DB_PASSWORD" "$bindir/psql" -X -q -At -h "$HOST" -p "$PG_PORT" -U "$DB_USER" \
        -d "$DB_NAME" -c 'select 1' >/dev/null 2>"$STATE/check.log"; then
        cat "$STATE/check.log" >&2
        die "could not log in as $DB_USER over TCP"
    fi
    say "PostgreSQL $version ready on $HOST:$PG_PORT (db/user/password $DB_NAME/$DB_USER/$DB_PASSWORD, $((SECONDS - t0))s; data $DATA, log $LOG)"
}

cmd_stop() {
    local bindir
    bindir="$(find_bindir)"
    if ! is_running "$bindir"; then
        say "not running"
        return 0
    fi
    as_owner "$bindir/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null \
        || die "pg_ctl stop failed (log: $LOG)"
    say "stopped"
}

cmd_status() {
    local bindir
    bindir="$(find_bindir)"
    if is_running "$bindir" && "$bindir/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 5; then
        say "running on $HOST:$PG_PORT (data $DATA)"
        return 0
    fi
    if is_running "$bindir"; then
        say "server process alive on $DATA but $HOST:$PG_PORT not accepting connections"
    else
        say "not running"
    fi
    return 1
}

case "${1:-}" in
    start) lock_state && cmd_start ;;
    stop) lock_state && cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 {start|stop|status}" >&2
        exit 2
        ;;
esac
