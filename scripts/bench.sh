#!/usr/bin/env bash
# make bench: the order saga under an open-model load, measured end to end.
#
#   scripts/bench.sh                     one scenario: RATE (1000) orders/s for DURATION (300) s
#   BENCH_RATES="100 500 1000" scripts/bench.sh     a series, one fresh stack per rate
#   BENCH_SMOKE=1 scripts/bench.sh       CI: 30 s at 100/s, asserts correctness only
#   BENCH_PROFILE=1 scripts/bench.sh     make profile: a fixed workload (PROFILE_ORDERS,
#                                        20000, at RATE, 400/s) and what each order costs:
#                                        CPU ms per process, MariaDB statements, commits
#                                        and rows, Kafka messages and bytes, syscalls;
#                                        with PROFILE_PERF=1 also perf.md, where the CPU
#                                        goes by process and symbol (perf record -a over
#                                        PROFILE_PERF_S, 20 s, of an extra load window)
#
# As root the whole run (MariaDB, Redis, Kafka, the services, the sidecars and
# the load generator) happens inside a network namespace this script creates
# and removes (BENCH_NETNS, default "sagabench"; "none" runs in the current
# one): its loopback is private and not rate-limited like this machine's.
# Each rate gets a fresh stack under BENCH_RUN_DIR (/tmp/sagabench) from a
# snapshot of BIN_DIR (build/bin), seeded with BENCH_PRODUCTS (100000)
# products of BENCH_STOCK (1000000) units and BENCH_USERS (10000) users. The
# machine's ceilings (raw Kafka produce->consume, raw MariaDB single-row
# commits with 64 clients) are measured in the same stack before the load.
#
# Output: run/bench/<timestamp>/[rate-<R>/]{report.md,report.json,chart.svg}
# plus the raw data (loadgen.json, samples.jsonl, lag.jsonl, *.tsv, logs/).
# Other knobs: BENCH_ZIPF (0.8; 0 = uniform), BENCH_ITEMS (1 line per order),
# BENCH_MAX_INFLIGHT (4000), BENCH_SETTLE (120 s to let sagas finish),
# BENCH_CEILINGS (1), BENCH_WARMUP (15 s), BENCH_LOG_LEVEL (info), BENCH_OUT
# (the output folder), BENCH_DIGESTS (0; 1 = MariaDB's performance schema on,
# the statements it spent its time on in digests.tsv, and each table's rows
# read and written during the load in tables-{before,after}.tsv).
#
# The orders are placed by their users (uniform over the seeded ones), each
# with its bearer token: loadgen signs them with JWT_SECRET, the stack's own
# (RUN_DIR/secrets/jwt, made by stack.sh, unless JWT_SECRET is set). The
# order service limits each user to ORDER_RATE_PER_S (20) orders/s, bursts of
# ORDER_RATE_BURST (40); at RATE/BENCH_USERS above a quarter of that the
# limit is raised for the run (the benchmark measures the saga, not the
# limiter), unless ORDER_RATE_PER_S is set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "${BENCH_SMOKE:-0}" = 1 ]; then
    RATE=100 DURATION=30 BENCH_RATES=100 BENCH_CEILINGS="${BENCH_CEILINGS:-0}"
    BENCH_WARMUP="${BENCH_WARMUP:-0}"
fi
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
    RATE="${RATE:-400}"
    DURATION=$(((${PROFILE_ORDERS:-20000} + RATE - 1) / RATE))
    BENCH_RATES="$RATE" BENCH_CEILINGS="${BENCH_CEILINGS:-0}"
fi
RATE="${RATE:-1000}"
DURATION="${DURATION:-300}"
BENCH_RATES="${BENCH_RATES:-$RATE}"
NETNS="${BENCH_NETNS:-sagabench}"
RUN_BASE="${BENCH_RUN_DIR:-/tmp/sagabench}"
BIN_SRC="${BIN_DIR:-build/bin}"
PRODUCTS="${BENCH_PRODUCTS:-100000}"
USERS="${BENCH_USERS:-10000}"
STOCK="${BENCH_STOCK:-1000000}"
OUT="${BENCH_OUT:-$ROOT/run/bench/$(date -u +%Y%m%dT%H%M%SZ)}"
export RATE DURATION BENCH_RATES RUN_BASE PRODUCTS USERS STOCK OUT
# The success path: the gateway simulator declines nothing (its default
# declines charges above 1000.00, a quarter of these orders). The stack passes
# the rest of the caller's environment through (HTTP_MAX_BODY, SAGA_*, ...).
if [ "${BENCH_DIGESTS:-0}" = 1 ]; then
    export MARIADB_EXTRA_ARGS="${MARIADB_EXTRA_ARGS:-} --performance-schema=ON"
fi
export GATEWAY_DECLINE_ABOVE="${GATEWAY_DECLINE_ABOVE:-1000000000000}"

note() { printf 'bench: %s\n' "$*" >&2; }
die() {
    note "error: $*"
    exit 1
}

# each user places about rate/USERS orders/s: keep that under a quarter of
# the per-user limit (passed through to the order service by stack.sh)
max_rate=0
for r in $BENCH_RATES; do [ "$r" -le "$max_rate" ] || max_rate="$r"; done
if [ -z "${ORDER_RATE_PER_S:-}" ] && [ $((max_rate * 4)) -gt $((USERS * 20)) ]; then
    export ORDER_RATE_PER_S=$(((max_rate * 4 + USERS - 1) / USERS))
    export ORDER_RATE_BURST="${ORDER_RATE_BURST:-$((ORDER_RATE_PER_S * 2))}"
    note "$max_rate orders/s over $USERS users: per-user limit raised to $ORDER_RATE_PER_S/s"
fi

# ---------------------------------------------------------------- inside the namespace

# sql DB QUERY: tab-separated rows, as root over the socket, times in UTC
sql() {
    mariadb --no-defaults -uroot --socket="$RUN_DIR/mariadb/mysqld.sock" -B -N "$1" \
        -e "SET time_zone = '+00:00'; $2"
}

pending_orders() {
    sql order_db "SELECT COUNT(*) FROM orders WHERE status NOT IN ('CONFIRMED','CANCELLED')"
}

# waits until every order is terminal and inventory has no reservation left
# open (OrderConfirmed -> sold is asynchronous), at most BENCH_SETTLE seconds
settle() {
    local deadline=$((SECONDS + ${BENCH_SETTLE:-120})) p r
    while [ "$SECONDS" -lt "$deadline" ]; do
        p="$(pending_orders)"
        r="$(sql inventory_db "SELECT COUNT(*) FROM order_reservations WHERE status = 'RESERVED'")"
        [ "$p" = 0 ] && [ "$r" = 0 ] && return 0
        sleep 1
    done
    note "not settled after ${BENCH_SETTLE:-120}s: $p orders pending, $r reservations open"
}

# the statements MariaDB spent its time on (BENCH_DIGESTS=1 turns the
# performance schema on for the run): total ms, calls, rows, the statement
statement_digests() {
    sql performance_schema "SELECT ROUND(SUM_TIMER_WAIT / 1e9), COUNT_STAR, SUM_ROWS_AFFECTED,
        SUM_ROWS_SENT, SUM_ROWS_EXAMINED, SCHEMA_NAME, LEFT(DIGEST_TEXT, 300)
        FROM events_statements_summary_by_digest ORDER BY SUM_TIMER_WAIT DESC LIMIT 40"
}

# rows read and written so far in each table (BENCH_DIGESTS=1: the performance
# schema's table I/O counters): schema, table, read, inserted, updated, deleted
table_rows() {
    sql performance_schema "SELECT OBJECT_SCHEMA, OBJECT_NAME, COUNT_FETCH, COUNT_INSERT,
        COUNT_UPDATE, COUNT_DELETE FROM table_io_waits_summary_by_table
        WHERE OBJECT_SCHEMA NOT IN ('mysql', 'performance_schema', 'information_schema')"
}

# the per-order data the report reads
dump_tables() {
    local dir="$1"
    sql order_db "SELECT o.order_id, o.status, ROUND(UNIX_TIMESTAMP(o.created_at) * 1000),
        (SELECT ROUND(UNIX_TIMESTAMP(MIN(t.created_at)) * 1000) FROM saga_transitions t
          WHERE t.order_id = o.order_id AND t.to_status IN ('CONFIRMED','CANCELLED')),
        IFNULL(o.cancel_reason, '') FROM orders o" >"$dir/orders.tsv"
    sql order_db "SELECT order_id, id, IFNULL(from_status, ''), to_status, step, event_type,
        ROUND(UNIX_TIMESTAMP(created_at) * 1000) FROM saga_transitions
        ORDER BY order_id, id" >"$dir/transitions.tsv"
    # invariants: name <TAB> value (0 = holds)
    {
        printf 'products_not_conserved\t'
        sql inventory_db "SELECT COUNT(*) FROM products
            WHERE available + reserved + sold <> $STOCK OR available < 0 OR reserved < 0 OR sold < 0"
        printf 'reservations_open\t'
        sql inventory_db "SELECT COUNT(*) FROM order_reservations WHERE status = 'RESERVED'"
        printf 'units_reserved\t'
        sql inventory_db "SELECT IFNULL(SUM(reserved), 0) FROM products"
        printf 'sold_minus_confirmed_units\t'
        sql inventory_db "SELECT (SELECT IFNULL(SUM(sold), 0) FROM inventory_db.products) -
            (SELECT IFNULL(SUM(l.quantity), 0) FROM order_db.order_lines l
               JOIN order_db.orders o ON o.order_id = l.order_id WHERE o.status = 'CONFIRMED')"
        printf 'captures_per_order_over_1\t'
        sql payment_db "SELECT COUNT(*) FROM (SELECT order_id FROM payments
            WHERE status IN ('CAPTURED','REFUNDED') GROUP BY order_id HAVING COUNT(*) > 1) x"
        printf 'captured_not_confirmed\t'
        sql payment_db "SELECT COUNT(*) FROM payments p JOIN order_db.orders o
            ON o.order_id = p.order_id WHERE p.status = 'CAPTURED' AND o.status <> 'CONFIRMED'"
        printf 'confirmed_not_captured\t'
        sql payment_db "SELECT COUNT(*) FROM order_db.orders o LEFT JOIN payments p
            ON p.order_id = o.order_id AND p.status = 'CAPTURED'
            WHERE o.status = 'CONFIRMED' AND p.order_id IS NULL"
    } >"$dir/invariants.tsv"
}

# MariaDB's statement and commit counters: the report divides them by orders
db_status() {
    sql mysql "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_commit',
        'Com_insert', 'Com_update', 'Com_select', 'Com_delete', 'Com_begin',
        'Com_savepoint', 'Com_release_savepoint', 'Com_rollback', 'Com_rollback_to_savepoint',
        'Com_set_option', 'Handler_commit', 'Handler_write', 'Handler_update', 'Handler_delete',
        'Handler_read_key', 'Innodb_data_written', 'Innodb_data_fsyncs', 'Innodb_log_writes',
        'Innodb_row_lock_waits', 'Com_admin_commands', 'Com_stmt_execute', 'Com_stmt_prepare',
        'Com_ping', 'Binlog_commits')"
}

# make profile: each process's context switches so far, all its threads
# (voluntary and not), one "name<TAB>count" line each
ctx_switches() {
    local f name pid
    for f in "$RUN_DIR"/pids/*.pid; do
        name="$(basename "$f" .pid)"
        pid="$(cat "$f" 2>/dev/null)" || continue
        { cat /proc/"$pid"/task/*/status 2>/dev/null || true; } |
            awk -v n="$name" '/^(non)?voluntary_ctxt_switches/ {s += $2} END {if (s) printf "%s\t%d\n", n, s}'
    done
}

# make profile: the broker's requests so far by type ("type<TAB>count"), from
# its RequestsPerSec meters over JMX. The JMX agent is started in the running
# broker once (jcmd), on a port only this namespace reaches; nothing when the
# JDK's tools are missing or the broker does not answer.
kafka_requests() {
    local pid port="${PROFILE_JMX_PORT:-9999}"
    pid="$(cat "$RUN_DIR/pids/kafka.pid" 2>/dev/null)" || return 0
    command -v jcmd >/dev/null || return 0
    if [ ! -e "$RUN_DIR/kafka/jmx-started" ]; then
        timeout 30 jcmd "$pid" ManagementAgent.start "jmxremote.port=$port" \
            "jmxremote.rmi.port=$port" jmxremote.authenticate=false jmxremote.ssl=false \
            jmxremote.host=127.0.0.1 >/dev/null 2>&1 || return 0
        touch "$RUN_DIR/kafka/jmx-started" 2>/dev/null || true
    fi
    { timeout 60 java -cp "${DEPS_DIR:-$ROOT/.deps}/kafka/libs/*" org.apache.kafka.tools.JmxTool \
        --jmx-url "service:jmx:rmi:///jndi/rmi://127.0.0.1:$port/jmxrmi" \
        --object-name 'kafka.network:type=RequestMetrics,name=RequestsPerSec,*' \
        --attributes Count --one-time true --report-format properties 2>/dev/null || true; } |
        sed -n 's/.*request=\([A-Za-z]*\),version=[0-9]*:Count=\([0-9]*\).*/\1\t\2/p' |
        awk -F'\t' '$1 != "FetchConsumer" && $1 != "FetchFollower" {s[$1] += $2}
            END {for (k in s) printf "%s\t%d\n", k, s[k]}'
}

lag_groups() {
    printf '%s\n' "order-service=inventory.events,payment.events,notification.events" \
        "inventory-service=order.events,inventory.commands" \
        "payment-service=payment.commands,order.events" "notification-service=order.events"
}

# make profile: every topic's messages (sum of its partitions' high
# watermarks, one JSON line) and the bytes of its log segments (TSV)
kafka_topics() {
    lag_groups | cut -d= -f2 | tr , '\n' | awk '!seen[$0]++'
}
kafka_end() {
    local specs=() t
    for t in $(kafka_topics); do specs+=("profile-$t=$t"); done
    "$BIN_DIR/lagmon" --once "${specs[@]}" 2>/dev/null
}
kafka_bytes() {
    local t
    for t in $(kafka_topics); do
        printf '%s\t%s\n' "profile-$t" \
            "$(find "$RUN_DIR/kafka/data" -path "*/$t-[0-9]*/*.log" -printf '%s\n' |
                awk '{s += $1} END {print s + 0}')"
    done
}

# strace_window DIR: 2 s into a load of its own (after the measured one, so
# that tracing does not inflate its CPU figures), counts every C process's
# system calls for PROFILE_STRACE_S (10) s (strace -c -f); the report divides
# them by the orders placed in that window
strace_window() {
    local dir="$1" secs="${PROFILE_STRACE_S:-10}" f name pids=()
    sleep 2
    for f in "$RUN_DIR"/pids/*.pid; do
        name="$(basename "$f" .pid)"
        case "$name" in mariadb | redis | kafka) continue ;; esac
        strace -c -f -q -p "$(cat "$f")" -o "$dir/strace-$name.txt" &
        pids+=($!)
    done
    date +%s%N >"$dir/strace-window.txt"
    sleep "$secs"
    kill -INT "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    date +%s%N >>"$dir/strace-window.txt"
}

# perf_window DIR: PROFILE_PERF_S (20) s of perf record -a at PROFILE_PERF_HZ
# (499) samples a second per CPU, then DIR/perf.md: the samples by process
# (named by the stack's pid files) and symbol (loadtest/perf_report.py)
perf_window() {
    local dir="$1" secs="${PROFILE_PERF_S:-20}"
    sleep 2
    perf record -a -F "${PROFILE_PERF_HZ:-499}" -o "$dir/perf.data" -- sleep "$secs" \
        >/dev/null 2>"$dir/perf-record.log" || {
        note "perf record failed (log: $dir/perf-record.log): no sampling profile"
        return 0
    }
    perf script -i "$dir/perf.data" -F pid,ip,sym,dso 2>/dev/null |
        python3 "$ROOT/loadtest/perf_report.py" "$RUN_DIR/pids" >"$dir/perf.md"
}

# stack_secret NAME: the running stack's secret (scripts/lib/common.sh secret)
stack_secret() {
    cat "$RUN_DIR/secrets/$1" 2>/dev/null || die "no $RUN_DIR/secrets/$1: did the stack start?"
}

# load RATE SECONDS OUT: the open-model load against the order service, each
# order with its user's token; OUT.json is loadgen's result, OUT.log its log
load() {
    JWT_SECRET="${JWT_SECRET:-$(stack_secret jwt)}" "$BIN_DIR/loadgen" --rate "$1" --duration "$2" \
        --url "http://127.0.0.1:${ORDER_PORT:-8081}/api/orders" --products "$PRODUCTS" \
        --users "$USERS" --zipf "${BENCH_ZIPF:-0.8}" --items "${BENCH_ITEMS:-1}" \
        --max-inflight "${BENCH_MAX_INFLIGHT:-4000}" --out "$3.json" 2>"$3.log"
}

# warm_up RATE DIR: BENCH_WARMUP (15) s of orders at up to 200/s, then
# settle, so that the measured run starts with compiled JVM code (Kafka's C2
# compiler otherwise takes a good part of a core for the first minute), warm
# pools and caches. Its orders are not in the report (loadgen's own list).
warm_up() {
    local secs="${BENCH_WARMUP:-15}" wrate
    [ "$secs" -gt 0 ] || return 0
    wrate=$(($1 < 200 ? $1 : 200))
    note "warm-up: $wrate orders/s for ${secs}s"
    load "$wrate" "$secs" "$2/warmup" || die "warm-up loadgen failed (log: $2/warmup.log)"
    settle
}

# run_one RATE DIR: a fresh stack, the ceilings, the warm-up, the load, the report
run_one() {
    local rate="$1" dir="$2" lag_pid sampler_pid groups=()
    export RUN_DIR="$RUN_BASE/r$rate"
    export BIN_DIR="$RUN_BASE/bin"
    export LOG_LEVEL="${BENCH_LOG_LEVEL:-info}"
    mkdir -p "$dir"
    "$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true
    rm -rf "$RUN_DIR"
    note "rate $rate/s: starting a fresh stack in $RUN_DIR"
    # twice: a first failure is often a port still closing or a script being edited
    "$ROOT/scripts/stack.sh" up >"$dir/stack.log" 2>&1 ||
        "$ROOT/scripts/stack.sh" up >>"$dir/stack.log" 2>&1 || {
        tail -30 "$dir/stack.log" >&2
        die "the stack did not start"
    }
    note "seeding $PRODUCTS products x $STOCK units, $USERS users"
    DB_SOCKET="$RUN_DIR/mariadb/mysqld.sock" \
        INVENTORY_DB_PASSWORD="${DB_PASSWORD_INVENTORY:-$(stack_secret db-inventory)}" \
        NOTIFICATION_DB_PASSWORD="${DB_PASSWORD_NOTIFICATION:-$(stack_secret db-notification)}" \
        "$BIN_DIR/seed" --products "$PRODUCTS" \
        --users "$USERS" --stock "$STOCK" >"$dir/seed.log" 2>&1 || die "seeding failed"
    export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-9092}"
    if [ "${BENCH_CEILINGS:-1}" = 1 ]; then
        note "ceilings: MariaDB single-row commits (64 clients, 10 s; 1 client, 5 s), Kafka produce->consume (10 s)"
        DB_SOCKET="$RUN_DIR/mariadb/mysqld.sock" "$BIN_DIR/db-ceiling" --clients 64 \
            --duration 10 >"$dir/db-ceiling.json"
        # one connection: the ceiling of a consumer that commits event by event
        DB_SOCKET="$RUN_DIR/mariadb/mysqld.sock" "$BIN_DIR/db-ceiling" --clients 1 \
            --duration 5 >"$dir/db-ceiling-1.json"
        sql mysql "DROP DATABASE IF EXISTS bench_ceiling"
        "$BIN_DIR/kafka-ceiling" --duration 10 >"$dir/kafka-ceiling.json"
    fi
    warm_up "$rate" "$dir"
    mapfile -t groups < <(lag_groups)
    "$BIN_DIR/lagmon" "${groups[@]}" >"$dir/lag.jsonl" 2>"$dir/lagmon.log" &
    lag_pid=$!
    python3 "$ROOT/loadtest/sampler.py" "$RUN_DIR" >"$dir/samples.jsonl" 2>"$dir/sampler.log" &
    sampler_pid=$!
    db_status >"$dir/dbstatus-before.tsv"
    if [ "${BENCH_DIGESTS:-0}" = 1 ]; then table_rows >"$dir/tables-before.tsv"; fi
    if [ "${BENCH_PROFILE:-0}" = 1 ]; then
        kafka_end >"$dir/kafka-before.json"
        kafka_bytes >"$dir/kafka-bytes-before.tsv"
        kafka_requests >"$dir/kafka-requests-before.tsv"
        ctx_switches >"$dir/ctxsw-before.tsv"
    fi
    note "load: $rate orders/s for ${DURATION}s"
    load "$rate" "$DURATION" "$dir/loadgen" || die "loadgen failed (log: $dir/loadgen.log)"
    tail -1 "$dir/loadgen.log" >&2
    note "waiting for the sagas to finish (at most ${BENCH_SETTLE:-120}s)"
    settle
    db_status >"$dir/dbstatus-after.tsv"
    if [ "${BENCH_DIGESTS:-0}" = 1 ]; then table_rows >"$dir/tables-after.tsv"; fi
    if [ "${BENCH_PROFILE:-0}" = 1 ]; then
        kafka_end >"$dir/kafka-after.json"
        kafka_bytes >"$dir/kafka-bytes-after.tsv"
        ctx_switches >"$dir/ctxsw-after.tsv"
        kafka_requests >"$dir/kafka-requests-after.tsv"
        if [ "${PROFILE_STRACE:-1}" = 1 ] && command -v strace >/dev/null; then
            note "system calls: strace -c -f on every C process, ${PROFILE_STRACE_S:-10}s of load"
            strace_window "$dir" &
            local strace_pid=$!
            load "$rate" "$((${PROFILE_STRACE_S:-10} + 4))" "$dir/strace-load" || true
            wait "$strace_pid" || true
            settle
        fi
        if [ "${PROFILE_PERF:-0}" = 1 ] && ! command -v perf >/dev/null; then
            note "PROFILE_PERF=1 but perf is not installed (apt-get install linux-perf): no sampling profile"
        elif [ "${PROFILE_PERF:-0}" = 1 ]; then
            note "where the CPU goes: perf record -a, ${PROFILE_PERF_S:-20}s of load"
            perf_window "$dir" &
            local perf_pid=$!
            load "$rate" "$((${PROFILE_PERF_S:-20} + 4))" "$dir/perf-load" || true
            wait "$perf_pid" || true
            settle
        fi
    fi
    if [ "${BENCH_DIGESTS:-0}" = 1 ]; then statement_digests >"$dir/digests.tsv"; fi
    kill "$lag_pid" "$sampler_pid" 2>/dev/null || true
    wait "$lag_pid" "$sampler_pid" 2>/dev/null || true
    dump_tables "$dir"
    "$ROOT/scripts/stack.sh" status >"$dir/status.txt" 2>&1 || true
    "$ROOT/scripts/stack.sh" down >>"$dir/stack.log" 2>&1 || true
    cp -r "$RUN_DIR/logs" "$dir/logs"
    rm -rf "$RUN_DIR"
    local smoke=()
    [ "${BENCH_SMOKE:-0}" = 1 ] && smoke=(--smoke)
    python3 "$ROOT/loadtest/report.py" run "$dir" --rate "$rate" --duration "$DURATION" "${smoke[@]}"
    if [ "${BENCH_PROFILE:-0}" = 1 ]; then
        python3 "$ROOT/loadtest/profile.py" "$dir" --rate "$rate"
    fi
}

inside() {
    local rate dir rc=0 dirs=()
    trap '"$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true' EXIT
    rm -rf "$RUN_BASE/bin"
    mkdir -p "$RUN_BASE/bin" "$OUT"
    cp "$BIN_SRC"/* "$RUN_BASE/bin/" # a snapshot: rebuilds during the run do not leak in
    for rate in $BENCH_RATES; do
        if [ "$(wc -w <<<"$BENCH_RATES")" -eq 1 ]; then dir="$OUT"; else dir="$OUT/rate-$rate"; fi
        dirs+=("$dir")
        # a failed rate does not end the series; its stack goes down
        (run_one "$rate" "$dir") || {
            rc=1
            RUN_DIR="$RUN_BASE/r$rate" "$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true
        }
    done
    if [ "${#dirs[@]}" -gt 1 ]; then
        python3 "$ROOT/loadtest/report.py" series "$OUT" "${dirs[@]}" || rc=1
    fi
    note "results in $OUT"
    return "$rc"
}

# ---------------------------------------------------------------- outside

main() {
    if [ "${1:-}" = --inside ]; then
        inside
        return
    fi
    for b in sidecar order-service seed loadgen lagmon db-ceiling kafka-ceiling; do
        [ -x "$BIN_SRC/$b" ] || die "$BIN_SRC/$b missing: run make first"
    done
    if [ "$NETNS" = none ] || [ "$(id -u)" != 0 ]; then
        [ "$NETNS" = none ] || note "not root: running in the current network namespace"
        "$0" --inside
        return
    fi
    if ip netns list | grep -qw "^$NETNS"; then
        # A bench killed before its trap ran leaves its namespace behind,
        # empty: take it over. One with processes in it is another bench's.
        pids=$(ip netns pids "$NETNS" | tr '\n' ' ')
        [ -z "$pids" ] || die "network namespace $NETNS is in use by another bench (pids $pids); set BENCH_NETNS and BENCH_RUN_DIR to run beside it"
        note "removing the empty network namespace $NETNS left by an earlier bench"
        ip netns del "$NETNS"
    fi
    ip netns add "$NETNS"
    # shellcheck disable=SC2064  # expand NETNS now
    trap "ip netns del '$NETNS' 2>/dev/null || true" EXIT
    ip netns exec "$NETNS" ip link set lo up
    ip netns exec "$NETNS" "$0" --inside
}

main "$@"
