#!/usr/bin/env bash
# Local infrastructure for the stack: MariaDB, Redis and a single-node Kafka
# (KRaft, broker+controller), each a private instance whose data and logs live
# under RUN_DIR (default <repo>/run), bound to 127.0.0.1.
#
#   scripts/infra.sh start|stop|status [mariadb|redis|kafka]
#
# Ports: MYSQL_PORT (3306), REDIS_PORT (6379), KAFKA_PORT (9092),
# KAFKA_CONTROLLER_PORT (9093). Service database passwords: DB_PASSWORD_<NAME>
# (e.g. DB_PASSWORD_ORDER), default a random one kept in RUN_DIR/secrets/db-<name>.
# MariaDB's slow query log is always on, in RUN_DIR/logs/mariadb-slow.log, for
# statements over SLOW_QUERY_S seconds (long_query_time, default 0.2).
# Needs scripts/install-deps.sh.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SERVICES=(order inventory payment notification)
MARIADB_DIR="$RUN_DIR/mariadb"
REDIS_DIR="$RUN_DIR/redis"
KAFKA_DIR="$RUN_DIR/kafka"
KAFKA_LIBS="$DEPS_DIR/kafka/libs"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_LOG4J="$KAFKA_DIR/log4j.properties"
KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-90}"

# ---------------------------------------------------------------- MariaDB

# runs SQL from stdin as root over the socket
mysql_root() {
    mariadb --no-defaults -uroot --socket="$MYSQL_SOCKET"
}

mariadb_alive() { is_alive mariadb "--datadir=$MARIADB_DIR/data"; }

mariadb_init_datadir() {
    [ -f "$MARIADB_DIR/data/.initialized" ] && return 0
    note "initialising MariaDB data directory $MARIADB_DIR/data"
    rm -rf "$MARIADB_DIR/data"
    mkdir -p "$MARIADB_DIR/data"
    # root logs in without a password over the socket (and only there: bound to
    # loopback); the scripts need no credentials of their own
    if ! mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$MARIADB_DIR/data" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$LOG_DIR/mariadb-install.log" 2>&1; then
        show_log_tail "$LOG_DIR/mariadb-install.log"
        die "mariadb-install-db failed"
    fi
    touch "$MARIADB_DIR/data/.initialized"
}

# sql_quote STRING: STRING as a single-quoted SQL literal
sql_quote() {
    local s="${1//\\/\\\\}"
    printf "'%s'" "${s//\'/\'\'}"
}

# one database and one user per service, the user owning only its database;
# the console's user may only read order_db
mariadb_bootstrap_sql() {
    local svc var pw host
    for svc in "${SERVICES[@]}"; do
        var="DB_PASSWORD_${svc^^}"
        pw="$(sql_quote "${!var:-$(secret "db-$svc")}")"
        # shellcheck disable=SC2016  # backquotes are SQL identifier quotes
        printf 'CREATE DATABASE IF NOT EXISTS `%s_db` CHARACTER SET utf8mb4;\n' "$svc"
        for host in localhost 127.0.0.1 %; do
            printf "CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY %s;\n" "$svc" "$host" "$pw"
            printf "ALTER USER '%s'@'%s' IDENTIFIED BY %s;\n" "$svc" "$host" "$pw"
            printf "GRANT ALL PRIVILEGES ON \`%s_db\`.* TO '%s'@'%s';\n" "$svc" "$svc" "$host"
        done
    done
    # the saga console (services/console) reads order_db and changes nothing
    pw="$(sql_quote "${DB_PASSWORD_CONSOLE:-$(secret db-console)}")"
    for host in localhost 127.0.0.1 %; do
        printf "CREATE USER IF NOT EXISTS 'console'@'%s' IDENTIFIED BY %s;\n" "$host" "$pw"
        printf "ALTER USER 'console'@'%s' IDENTIFIED BY %s;\n" "$host" "$pw"
        printf "GRANT SELECT ON \`order_db\`.* TO 'console'@'%s';\n" "$host"
    done
    printf 'FLUSH PRIVILEGES;\n'
}

mariadb_start() {
    ensure_dirs "$MARIADB_DIR"
    if ! mariadb_alive; then
        port_busy "$MYSQL_PORT" && die "port $MYSQL_PORT is taken by another process (MYSQL_PORT)"
        mariadb_init_datadir
        rm -f "$MYSQL_SOCKET"
        SPAWN_LOG="$LOG_DIR/mariadb.out" spawn mariadb mariadbd --no-defaults --user="$(id -un)" \
            --datadir="$MARIADB_DIR/data" --socket="$MYSQL_SOCKET" \
            --port="$MYSQL_PORT" --bind-address=127.0.0.1 \
            --pid-file="$MARIADB_DIR/mysqld.pid" --log-error="$LOG_DIR/mariadb.log" \
            --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
            --slow-query-log=1 --slow-query-log-file="$LOG_DIR/mariadb-slow.log" \
            --long-query-time="${SLOW_QUERY_S:-0.2}" --innodb-buffer-pool-size=1G --max-connections=500 \
            --innodb-flush-log-at-trx-commit=1 --innodb-adaptive-hash-index=0 \
            --innodb-log-file-size=512M \
            --thread-handling="${MARIADB_THREAD_HANDLING:-one-thread-per-connection}" \
            ${MARIADB_EXTRA_ARGS:-}
        if ! wait_for 60 MariaDB mariadb-admin --no-defaults -uroot --socket="$MYSQL_SOCKET" ping; then
            show_log_tail "$LOG_DIR/mariadb.log"
            die "MariaDB did not start"
        fi
        note "MariaDB up on 127.0.0.1:$MYSQL_PORT and $MYSQL_SOCKET"
    fi
    mariadb_bootstrap_sql | mysql_root || die "creating the service databases failed"
}

mariadb_stop() { stop_pid mariadb 60 "--datadir=$MARIADB_DIR/data"; }

# ---------------------------------------------------------------- Redis

redis_alive() { is_alive redis "127.0.0.1:$REDIS_PORT"; }

redis_start() {
    ensure_dirs "$REDIS_DIR"
    redis_alive && return 0
    port_busy "$REDIS_PORT" && die "port $REDIS_PORT is taken by another process (REDIS_PORT)"
    rm -f "$REDIS_SOCKET"
    # a cache: no RDB snapshots, no AOF
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
        --unixsocket "$REDIS_SOCKET" --unixsocketperm 770 \
        --save '' --appendonly no --dir "$REDIS_DIR" \
        --daemonize yes --pidfile "$PID_DIR/redis.pid" --logfile "$LOG_DIR/redis.log" \
        </dev/null >/dev/null
    if ! wait_for 20 Redis redis-cli -s "$REDIS_SOCKET" ping; then
        show_log_tail "$LOG_DIR/redis.log"
        die "Redis did not start"
    fi
    note "Redis up on 127.0.0.1:$REDIS_PORT and $REDIS_SOCKET"
}

redis_stop() { stop_pid redis 10 "127.0.0.1:$REDIS_PORT"; }

# ---------------------------------------------------------------- Kafka

kafka_alive() { is_alive kafka "$KAFKA_PROPS"; }

kafka_java() {
    java -Dlog4j.configuration="file:$KAFKA_LOG4J" -cp "$KAFKA_LIBS/*" "$@"
}

kafka_write_config() {
    cat >"$KAFKA_PROPS" <<PROPS
# written by scripts/infra.sh on every start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=6
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
unclean.leader.election.enable=false
num.network.threads=${KAFKA_NETWORK_THREADS:-2}
num.io.threads=${KAFKA_IO_THREADS:-2}
PROPS
    cat >"$KAFKA_LOG4J" <<LOG4J
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$LOG_DIR/kafka.log
log4j.appender.file.Append=true
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
LOG4J
}

kafka_format_once() {
    [ -f "$KAFKA_DIR/data/meta.properties" ] && return 0
    local cluster_id
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid)"
    note "formatting Kafka storage (cluster id $cluster_id)"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_PROPS" \
        >>"$LOG_DIR/kafka.log" 2>&1 || {
        show_log_tail "$LOG_DIR/kafka.log"
        die "formatting the Kafka storage failed"
    }
}

kafka_ready() {
    kcat -L -b "$KAFKA_BROKERS" -t none -m 3 2>/dev/null | grep -q "broker 1 at"
}

kafka_start() {
    ensure_dirs "$KAFKA_DIR/data"
    kafka_alive && return 0
    [ -f "$KAFKA_LIBS/kafka_2.13-3.9.1.jar" ] || die "Kafka jars missing: run scripts/install-deps.sh"
    port_busy "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process (KAFKA_PORT)"
    port_busy "$KAFKA_CONTROLLER_PORT" &&
        die "port $KAFKA_CONTROLLER_PORT is taken by another process (KAFKA_CONTROLLER_PORT)"
    kafka_write_config
    kafka_format_once
    # the JVM's own stdout/stderr go to logs/kafka.out: log4j owns kafka.log
    # ParallelGC and 2+2 broker threads: on 2 cores, G1's concurrent threads and
    # 3 network + 8 I/O threads cost CPU the saga needs (docs/benchmarks.md,
    # fifth round); KAFKA_GC_OPTS, KAFKA_NETWORK_THREADS, KAFKA_IO_THREADS
    SPAWN_LOG="$LOG_DIR/kafka.out" spawn kafka java -Xms512m -Xmx1g ${KAFKA_GC_OPTS:--XX:+UseParallelGC} \
        -Djava.awt.headless=true -Dlog4j.configuration="file:$KAFKA_LOG4J" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS"
    if ! wait_for "$KAFKA_READY_TIMEOUT" Kafka kafka_ready_or_dead; then
        show_log_tail "$LOG_DIR/kafka.log"
        show_log_tail "$LOG_DIR/kafka.out" 20
        die "Kafka did not start"
    fi
    kafka_alive || {
        show_log_tail "$LOG_DIR/kafka.log"
        show_log_tail "$LOG_DIR/kafka.out" 20
        die "Kafka exited during start"
    }
    note "Kafka up on $KAFKA_BROKERS (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT)"
}

# stops the readiness wait early when the JVM died
kafka_ready_or_dead() {
    kafka_alive || return 0
    kafka_ready
}

kafka_stop() { stop_pid kafka 60 "$KAFKA_PROPS"; }

# ---------------------------------------------------------------- commands

status_line() {
    local name="$1" alive="$2" where="$3"
    if [ "$alive" = yes ]; then
        printf '%-10s running  pid %-8s %s\n' "$name" "$(pid_of "$name")" "$where"
    else
        printf '%-10s stopped\n' "$name"
    fi
}

yes_no() { if "$@"; then echo yes; else echo no; fi; }

cmd_status() {
    status_line mariadb "$(yes_no mariadb_alive)" "127.0.0.1:$MYSQL_PORT $MYSQL_SOCKET"
    status_line redis "$(yes_no redis_alive)" "127.0.0.1:$REDIS_PORT $REDIS_SOCKET"
    local k=no
    kafka_alive && kafka_ready && k=yes
    if kafka_alive && [ "$k" = no ]; then
        printf '%-10s starting pid %-8s %s (not answering metadata requests)\n' kafka \
            "$(pid_of kafka)" "$KAFKA_BROKERS"
    else
        status_line kafka "$k" "$KAFKA_BROKERS"
    fi
    mariadb_alive && redis_alive && kafka_alive
}

# parts PART: the parts a command acts on, in start order
parts() {
    case "${1:-all}" in
    all) echo mariadb redis kafka ;;
    mariadb | redis | kafka) echo "$1" ;;
    *) usage ;;
    esac
}

usage() {
    echo "usage: $0 start|stop|status [mariadb|redis|kafka]" >&2
    exit 2
}

main() {
    local cmd="${1:-}" part list=()
    parts "${2:-all}" >/dev/null # usage error here, not in the substitution below
    read -r -a list <<<"$(parts "${2:-all}")"
    case "$cmd" in
    start)
        ensure_dirs
        for part in "${list[@]}"; do "${part}_start"; done
        ;;
    stop)
        ensure_dirs
        for ((part = ${#list[@]} - 1; part >= 0; part--)); do "${list[part]}_stop"; done
        ;;
    status) cmd_status ;;
    *) usage ;;
    esac
}

main "$@"
