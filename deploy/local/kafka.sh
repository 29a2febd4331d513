#!/usr/bin/env bash
# Local Apache Kafka (KRaft, single combined broker+controller) for tests and CI.
# No Docker: the broker jars come from Maven Central (deploy/local/kafka/pom.xml).
#
#   deploy/local/kafka.sh fetch    resolve the jars into $MIMAMORI_CACHE/kafka/libs (idempotent)
#   deploy/local/kafka.sh start    format fresh storage, start the broker, wait until usable
#   deploy/local/kafka.sh stop     stop it (SIGTERM, SIGKILL after $KAFKA_STOP_TIMEOUT s)
#   deploy/local/kafka.sh status   exit 0 if running and answering, 1 otherwise
#
# Environment (all optional):
#   KAFKA_PORT             PLAINTEXT listener on 127.0.0.1        (default 19092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener on 127.0.0.1 (default KAFKA_PORT+1)
#   KAFKA_VERSION          override the Kafka version pinned in the pom
#   KAFKA_HEAP_OPTS        JVM heap                              (default "-Xmx512m -Xms128m")
#   KAFKA_START_TIMEOUT    seconds to wait for readiness         (default 120)
#   KAFKA_STOP_TIMEOUT     seconds to wait for a clean stop      (default 30)
#   MIMAMORI_CACHE         jar cache root                        (default <repo>/.cache)
#   MIMAMORI_STATE_DIR     runtime state root (data, logs, pid)  (default /tmp/mimamori-local)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${MIMAMORI_CACHE:-$REPO/.cache}"
LIBS="$CACHE/kafka/libs"
POM="$HERE/kafka/pom.xml"
LOG4J_CONF="$HERE/kafka/log4j2.properties"
PROBE="$HERE/kafka/probe.py"

KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_VERSION="${KAFKA_VERSION:-}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms128m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
HOST=127.0.0.1

STATE_ROOT="${MIMAMORI_STATE_DIR:-/tmp/mimamori-local}"
STATE="$STATE_ROOT/kafka-$KAFKA_PORT"
DATA="$STATE/data"
LOGS="$STATE/logs"
PIDFILE="$STATE/kafka.pid"
PROPS="$STATE/server.properties"

# Show why the broker failed: JVM output plus the last warnings/errors of server.log.
show_failure() {
    echo "---- $LOGS/kafka.out (tail) ----" >&2
    tail -n 20 "$LOGS/kafka.out" >&2 2>/dev/null || true
    echo "---- $LOGS/server.log (last WARN/ERROR lines) ----" >&2
    grep -E '^\[[^]]*\] (WARN|ERROR|FATAL)' "$LOGS/server.log" 2>/dev/null | tail -n 20 >&2 || true
}

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: ERROR: %s\n' "$*" >&2; exit 1; }

# Serialize start/stop for one port (two `start`s racing would wipe each other's
# storage). fd 9 is closed for the broker so it does not hold the lock.
lock_state() {
    mkdir -p "$STATE_ROOT"
    exec 9>"$STATE_ROOT/kafka-$KAFKA_PORT.lock"
    flock -w 300 9 || die "timed out waiting for $STATE_ROOT/kafka-$KAFKA_PORT.lock"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# PID of our broker if it is alive (and really is our java kafka.Kafka), else empty.
running_pid() {
    [[ -f "$PIDFILE" ]] || return 0
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    if kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $PROPS"; then
        echo "$pid"
    fi
}

# Fingerprint of what `fetch` would produce; stored next to the jars.
fetch_stamp() {
    { cat "$POM"; echo "kafka.version=${KAFKA_VERSION}"; } | sha256sum | cut -d' ' -f1
}

cmd_fetch() {
    local stamp
    stamp="$(fetch_stamp)"
    if [[ -f "$LIBS/.fetched" && "$(cat "$LIBS/.fetched")" == "$stamp" ]] \
        && compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; then
        say "jars already present in $LIBS ($(ls "$LIBS"/kafka_2.13-*.jar | sed 's/.*kafka_2.13-//; s/\.jar$//'))"
        return 0
    fi
    command -v mvn >/dev/null || die "mvn (Maven) not found; install it (apt-get install -y maven)"
    command -v java >/dev/null || die "java not found; install a JRE 17+ (apt-get install -y openjdk-17-jre-headless)"

    mkdir -p "$CACHE/kafka"
    # Keep a cache inside the repo out of git without touching the repo's .gitignore.
    [[ -f "$CACHE/.gitignore" ]] || echo '*' >"$CACHE/.gitignore"

    # One fetch at a time per cache; re-check once we hold the lock.
    exec 8>"$CACHE/kafka/.fetch.lock"
    flock -w 600 8 || die "timed out waiting for $CACHE/kafka/.fetch.lock"
    if [[ -f "$LIBS/.fetched" && "$(cat "$LIBS/.fetched")" == "$stamp" ]]; then
        exec 8>&-
        say "jars already present in $LIBS (fetched by a concurrent run)"
        return 0
    fi

    local tmp="$CACHE/kafka/libs.tmp.$$"
    rm -rf "$tmp"
    local -a mvn_args=(-q -B -Dstyle.color=never -f "$POM"
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp")
    [[ -n "$KAFKA_VERSION" ]] && mvn_args+=("-Dkafka.version=$KAFKA_VERSION")
    say "resolving Kafka jars from Maven Central (mvn ${mvn_args[*]})"
    local t0=$SECONDS
    if ! mvn "${mvn_args[@]}" >"$CACHE/kafka/fetch.log" 2>&1; then
        cat "$CACHE/kafka/fetch.log" >&2
        rm -rf "$tmp"
        die "maven could not resolve the Kafka jars (output above, also in $CACHE/kafka/fetch.log)"
    fi
    compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || { rm -rf "$tmp"; die "no kafka_2.13 jar after resolution"; }
    echo "$stamp" >"$tmp/.fetched"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    exec 8>&-
    say "fetched $(ls "$LIBS"/*.jar | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) into $LIBS in $((SECONDS - t0))s"
}

check_java() {
    command -v java >/dev/null || die "java not found; Kafka 4.x needs Java 17+ (apt-get install -y openjdk-17-jre-headless)"
    local v
    v="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
    [[ "${v%%.*}" =~ ^[0-9]+$ && "${v%%.*}" -ge 17 ]] || die "Java $v found; Kafka 4.x brokers need Java 17+"
}

new_cluster_id() {
    # Kafka's Uuid string form: URL-safe base64 of 16 random bytes without padding,
    # never starting with '-'.
    if command -v python3 >/dev/null; then
        python3 -c 'import base64,uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    if not s.startswith("-"):
        print(s); break'
    else
        java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid
    fi
}

write_props() {
    cat >"$PROPS" <<EOF
# Generated by deploy/local/kafka.sh -- overwritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA

# Test-friendly single node settings.
auto.create.topics.enable=true
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
log.retention.hours=24
EOF
}

cmd_start() {
    local pid
    pid="$(running_pid)"
    if [[ -n "$pid" ]]; then
        if port_open "$KAFKA_PORT"; then
            say "already running (pid $pid) on $HOST:$KAFKA_PORT"
            return 0
        fi
        die "pid $pid is alive but $HOST:$KAFKA_PORT does not answer; run '$0 stop' first (log: $LOGS/server.log)"
    fi
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        port_open "$p" && die "port $HOST:$p is already in use by another process"
    done
    check_java
    cmd_fetch

    local t0=$SECONDS
    rm -rf "$DATA" "$PIDFILE"
    mkdir -p "$DATA" "$LOGS"
    : >"$LOGS/server.log"
    write_props

    local -a jvm=(-cp "$LIBS/*"
        "-Dlog4j2.configurationFile=$LOG4J_CONF"
        "-Dkafka.logs.dir=$LOGS"
        -Djava.awt.headless=true)

    local cluster_id
    cluster_id="$(new_cluster_id)"
    if ! java -Xmx256m "${jvm[@]}" kafka.tools.StorageTool format \
        -t "$cluster_id" -c "$PROPS" >"$LOGS/format.log" 2>&1; then
        cat "$LOGS/format.log" >&2
        die "formatting KRaft storage failed"
    fi

    # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS is intentionally word-split
    nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
        java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 "${jvm[@]}" \
        kafka.Kafka "$PROPS" </dev/null >"$LOGS/kafka.out" 2>&1 8>&- 9>&- &

    local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    while :; do
        pid="$(running_pid)"
        if [[ -z "$pid" && -f "$PIDFILE" ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
            show_failure
            rm -f "$PIDFILE"
            die "broker exited during startup (logs: $LOGS)"
        fi
        if [[ -n "$pid" ]] && port_open "$KAFKA_PORT"; then
            break
        fi
        if ((SECONDS >= deadline)); then
            show_failure
            die "broker did not open $HOST:$KAFKA_PORT within ${KAFKA_START_TIMEOUT}s (logs: $LOGS)"
        fi
        sleep 0.2
    done

    local left=$((deadline - SECONDS))
    ((left < 5)) && left=5
    if command -v python3 >/dev/null; then
        if ! python3 "$PROBE" "$HOST" "$KAFKA_PORT" --timeout "$left" --quiet; then
            show_failure
            die "broker listens on $HOST:$KAFKA_PORT but is not usable (logs: $LOGS)"
        fi
    else
        say "WARNING: python3 not found, only checked that the port answers"
    fi
    local version
    version="$(ls "$LIBS"/kafka_2.13-*.jar | sed 's/.*kafka_2.13-//; s/\.jar$//')"
    say "Kafka $version ready on $HOST:$KAFKA_PORT (pid $pid, cluster $cluster_id, $((SECONDS - t0))s; logs $LOGS)"
}

cmd_stop() {
    local pid
    pid="$(running_pid)"
    if [[ -z "$pid" ]]; then
        rm -f "$PIDFILE"
        say "not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            say "no clean shutdown after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL to $pid"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$PIDFILE"
    say "stopped (pid $pid)"
}

cmd_status() {
    local pid
    pid="$(running_pid)"
    if [[ -n "$pid" ]] && port_open "$KAFKA_PORT"; then
        say "running (pid $pid) on $HOST:$KAFKA_PORT, state $STATE"
        return 0
    fi
    if [[ -n "$pid" ]]; then
        say "process $pid alive but $HOST:$KAFKA_PORT not answering (starting or broken; log $LOGS/server.log)"
    else
        say "not running"
    fi
    return 1
}

case "${1:-}" in
    fetch) cmd_fetch ;;
    start) lock_state && cmd_start ;;
    stop) lock_state && cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 {fetch|start|stop|status}" >&2
        exit 2
        ;;
esac
