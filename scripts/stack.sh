#!/usr/bin/env bash
# The whole local system as background processes:
#   infrastructure (scripts/infra.sh), Kafka topics, gateway-sim, the four
#   services, their four resilience sidecars and the saga console.
#
#   scripts/stack.sh up                 start what is not running, wait until healthy
#   scripts/stack.sh down               stop everything, in reverse order
#   scripts/stack.sh status             each process: alive? ready?
#   scripts/stack.sh restart NAME       stop and start one part, wait until healthy
#   scripts/stack.sh stop|start NAME    one part only (failure simulations)
#
# NAME: gateway-sim, order|payment|inventory|notification (the service),
# <service>-sidecar, console, mariadb, redis or kafka.
#
# Environment: BIN_DIR (build/bin), RUN_DIR (run), the infra ports (see
# infra.sh), ORDER_PORT (8081), PAYMENT_PORT (8082), INVENTORY_PORT (8083),
# NOTIFICATION_PORT (8084), GATEWAY_PORT (8089), CONSOLE_PORT (8090), GATEWAY_ADMIN_PORT (its port
# + 1000: gateway-sim's /admin/config, which slow charges cannot hold up;
# its charges are kept in RUN_DIR/gateway-sim/ledger.jsonl across restarts,
# GATEWAY_LEDGER_FILE overrides); a sidecar listens on its
# service's port + 1000 (<SERVICE>_SIDECAR_PORT overrides) and delivers events
# to the service's internal listener on 127.0.0.1, port + 2000
# (<SERVICE>_INTERNAL_PORT overrides). STACK_READY_TIMEOUT
# (120 s). Passed through to the processes when set: SAGA_*, GATEWAY_*,
# LOG_LEVEL, NOTIFY_CHANNEL, JWT_PUBLIC_KEY_FILE, JWT_ISSUER, ORDER_RATE_*;
# NOTIFY_WEBHOOK_URL becomes the notification sidecar's "webhook" egress
# route. Secrets: JWT_SECRET (HS256 key of the bearer tokens) and the
# DB_PASSWORD_<SERVICE>s default to random ones made once and kept in
# RUN_DIR/secrets/ (jwt, db-<service>).
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

BIN_DIR="${BIN_DIR:-build/bin}"
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$ROOT/$BIN_DIR" ;; esac
READY_TIMEOUT="${STACK_READY_TIMEOUT:-120}"
TOPIC_PARTITIONS="${TOPIC_PARTITIONS:-3}"

SERVICES=(order payment inventory notification)
ORDER_PORT="${ORDER_PORT:-8081}"
PAYMENT_PORT="${PAYMENT_PORT:-8082}"
INVENTORY_PORT="${INVENTORY_PORT:-8083}"
NOTIFICATION_PORT="${NOTIFICATION_PORT:-8084}"
GATEWAY_PORT="${GATEWAY_PORT:-8089}"
GATEWAY_ADMIN_PORT="${GATEWAY_ADMIN_PORT:-$((GATEWAY_PORT + 1000))}"
CONSOLE_PORT="${CONSOLE_PORT:-8090}"

# topics each service's sidecar consumes and delivers to the service
declare -A SUBSCRIBE=(
    [order]="inventory.events,payment.events,notification.events"
    [inventory]="order.events,inventory.commands"
    [payment]="payment.commands,order.events"
    [notification]="order.events"
)

# ---------------------------------------------------------------- the process table

# service_port SVC / sidecar_port SVC
service_port() {
    local var="${1^^}_PORT"
    echo "${!var}"
}
sidecar_port() {
    local var="${1^^}_SIDECAR_PORT"
    echo "${!var:-$(($(service_port "$1") + 1000))}"
}
# the service's listener for its sidecar alone (127.0.0.1; event deliveries
# never queue behind client requests): service port + 2000
internal_port() {
    local var="${1^^}_INTERNAL_PORT"
    echo "${!var:-$(($(service_port "$1") + 2000))}"
}

# every process in start order (down walks it backwards)
all_procs() {
    local s
    echo gateway-sim
    for s in "${SERVICES[@]}"; do echo "$s-service"; done
    for s in "${SERVICES[@]}"; do echo "$s-sidecar"; done
    echo console
}

# canonical NAME: accepts "order" for "order-service"
canonical() {
    case "$1" in
    order | payment | inventory | notification) echo "$1-service" ;;
    gateway | gateway-sim) echo gateway-sim ;;
    console) echo console ;;
    *-service | *-sidecar)
        all_procs | grep -qx -- "$1" || return 1
        echo "$1"
        ;;
    *) return 1 ;;
    esac
}

proc_binary() {
    case "$1" in
    *-sidecar) echo "$BIN_DIR/sidecar" ;;
    console) echo "$BIN_DIR/saga-console" ;;
    *) echo "$BIN_DIR/$1" ;;
    esac
}

proc_port() {
    case "$1" in
    gateway-sim) echo "$GATEWAY_PORT" ;;
    console) echo "$CONSOLE_PORT" ;;
    *-service) service_port "${1%-service}" ;;
    *-sidecar) sidecar_port "${1%-sidecar}" ;;
    esac
}

# db_env SVC: the DB_* a service and its sidecar share
db_env() {
    local pw_var="DB_PASSWORD_${1^^}"
    printf '%s\n' "DB_SOCKET=$MYSQL_SOCKET" DB_HOST=127.0.0.1 "DB_PORT=$MYSQL_PORT" \
        "DB_USER=$1" "DB_PASSWORD=${!pw_var:-$(secret "db-$1")}" "DB_NAME=$1_db"
}

egress_routes() {
    case "$1" in
    order) echo "inventory=http://127.0.0.1:$INVENTORY_PORT" ;;
    payment) echo "gateway=http://127.0.0.1:$GATEWAY_PORT" ;;
    notification) [ -z "${NOTIFY_WEBHOOK_URL:-}" ] || echo "webhook=$NOTIFY_WEBHOOK_URL" ;;
    esac
}

# proc_env NAME: the VAR=value list NAME starts with (on top of the caller's
# environment, which carries SAGA_*, GATEWAY_*, LOG_LEVEL, NOTIFY_CHANNEL through)
proc_env() {
    local svc
    echo "NO_PROXY=127.0.0.1,localhost"
    echo "no_proxy=127.0.0.1,localhost"
    # every process verifies bearer tokens (make token prints one)
    [ -n "${JWT_PUBLIC_KEY_FILE:-}" ] || echo "JWT_SECRET=${JWT_SECRET:-$(secret jwt)}"
    case "$1" in
    gateway-sim)
        printf '%s\n' "HTTP_PORT=$GATEWAY_PORT" "GATEWAY_ADMIN_PORT=$GATEWAY_ADMIN_PORT" \
            "GATEWAY_LEDGER_FILE=${GATEWAY_LEDGER_FILE:-$RUN_DIR/gateway-sim/ledger.jsonl}"
        ;;
    console)
        local sidecars=() s2
        for s2 in "${SERVICES[@]}"; do sidecars+=("$s2=http://127.0.0.1:$(sidecar_port "$s2")"); done
        printf '%s\n' "HTTP_PORT=$CONSOLE_PORT" HTTP_THREADS=8 DB_POOL_SIZE=4 "KAFKA_BROKERS=$KAFKA_BROKERS" \
            "CONSOLE_SIDECARS=$(IFS=,; echo "${sidecars[*]}")" \
            "CONSOLE_ORDER_URL=http://127.0.0.1:$ORDER_PORT" \
            "OPENAPI_FILE=services/console/openapi.json" "SWAGGER_UI_DIR=$DEPS_DIR/swagger-ui" \
            "DB_SOCKET=$MYSQL_SOCKET" DB_HOST=127.0.0.1 "DB_PORT=$MYSQL_PORT" DB_USER=console \
            "DB_PASSWORD=${DB_PASSWORD_CONSOLE:-$(secret db-console)}" DB_NAME=order_db
        ;;
    *-service)
        svc="${1%-service}"
        printf '%s\n' "SERVICE_NAME=$svc" "HTTP_PORT=$(service_port "$svc")" \
            "INTERNAL_HTTP_PORT=$(internal_port "$svc")" \
            "SIDECAR_URL=http://127.0.0.1:$(sidecar_port "$svc")" \
            "OUTBOX_WAKE_SOCKET=$RUN_DIR/$svc.wake" \
            "MIGRATIONS_DIR=services/$svc/migrations" \
            "OPENAPI_FILE=services/$svc/openapi.json" "SWAGGER_UI_DIR=$DEPS_DIR/swagger-ui"
        db_env "$svc"
        if [ "$svc" = inventory ]; then
            printf '%s\n' "REDIS_SOCKET=$REDIS_SOCKET" REDIS_HOST=127.0.0.1 "REDIS_PORT=$REDIS_PORT"
        fi
        ;;
    *-sidecar)
        svc="${1%-sidecar}"
        printf '%s\n' "SERVICE_NAME=$svc" "SIDECAR_PORT=$(sidecar_port "$svc")" \
            "SERVICE_URL=http://127.0.0.1:$(internal_port "$svc")" \
            "KAFKA_BROKERS=$KAFKA_BROKERS" "SUBSCRIBE_TOPICS=${SUBSCRIBE[$svc]}" \
            "OUTBOX_WAKE_SOCKET=$RUN_DIR/$svc.wake" "EGRESS_ROUTES=$(egress_routes "$svc")"
        db_env "$svc"
        ;;
    esac
}

health_url() { echo "http://127.0.0.1:$(proc_port "$1")/health/ready"; }

is_ready() {
    curl -fsS --noproxy '*' -o /dev/null --max-time 2 "$(health_url "$1")" 2>/dev/null
}

# ---------------------------------------------------------------- start / stop

# running NAME: alive, whatever binary it runs
running() { is_alive "$1" "/$(basename "$(proc_binary "$1")")"; }

start_proc() {
    local name="$1" bin env_list=()
    bin="$(proc_binary "$name")"
    if is_alive "$name" "$bin"; then
        # still the binary it started from, or rebuilt since?
        [ "$bin" -nt "$PID_DIR/$name.pid" ] || return 0
        note "$name was rebuilt since it started: restarting it"
        stop_proc "$name"
    elif running "$name"; then
        note "$name runs another build: restarting it from $BIN_DIR"
        stop_proc "$name"
    fi
    port_busy "$(proc_port "$name")" &&
        die "port $(proc_port "$name") for $name is taken by another process"
    if [ "${name%-service}" != "$name" ] && port_busy "$(internal_port "${name%-service}")"; then
        die "port $(internal_port "${name%-service}") for $name (internal) is taken by another process"
    fi
    if [ "$name" = gateway-sim ]; then
        port_busy "$GATEWAY_ADMIN_PORT" &&
            die "port $GATEWAY_ADMIN_PORT for gateway-sim (admin) is taken by another process"
        mkdir -p "$RUN_DIR/gateway-sim"
    fi
    [ "${name%-sidecar}" = "$name" ] || rm -f "$RUN_DIR/${name%-sidecar}.wake"
    mapfile -t env_list < <(proc_env "$name")
    (cd "$ROOT" && spawn "$name" env "${env_list[@]}" "$bin")
    note "started $name (pid $(pid_of "$name"), port $(proc_port "$name"))"
}

stop_proc() {
    stop_pid "$1" 15 "/$(basename "$(proc_binary "$1")")"
}

# wait_ready NAME...: until each answers /health/ready with 200; fails early
# when one exits, and after READY_TIMEOUT (or at READY_DEADLINE, in $SECONDS,
# when set) with the log of each one not ready
wait_ready() {
    local pending=("$@") left name deadline="${READY_DEADLINE:-$((SECONDS + READY_TIMEOUT))}"
    while [ "${#pending[@]}" -gt 0 ]; do
        left=()
        for name in "${pending[@]}"; do
            if ! running "$name"; then
                show_log_tail "$LOG_DIR/$name.log"
                die "$name exited during start (log: $LOG_DIR/$name.log)"
            fi
            is_ready "$name" || left+=("$name")
        done
        pending=("${left[@]}")
        [ "${#pending[@]}" -eq 0 ] && break
        if [ "$SECONDS" -ge "$deadline" ]; then
            for name in "${pending[@]}"; do
                show_log_tail "$LOG_DIR/$name.log"
                printf '%s answers %s: ' "$name" "$(health_url "$name")" >&2
                curl -sS --noproxy '*' --max-time 2 "$(health_url "$name")" >&2 || true
                echo >&2
            done
            die "not ready after ${READY_TIMEOUT}s: ${pending[*]}"
        fi
        sleep 0.5
    done
}

check_binaries() {
    local name bin
    for name in $(all_procs); do
        bin="$(proc_binary "$name")"
        [ -x "$bin" ] || die "$bin missing: build first (make, or make SAN=1 with BIN_DIR=build/san/bin)"
    done
}

create_topics() {
    if ! KAFKA_BROKERS="$KAFKA_BROKERS" "$BIN_DIR/sidecar" create-topics \
        --partitions "$TOPIC_PARTITIONS" >>"$LOG_DIR/create-topics.log" 2>&1; then
        show_log_tail "$LOG_DIR/create-topics.log"
        die "creating the Kafka topics failed"
    fi
}

print_table() {
    local s
    printf '\nThe stack is up (binaries: %s)\n\n' "$BIN_DIR"
    printf '  %-22s %-28s %s\n' PROCESS URL "API DOCS"
    printf '  %-22s %-28s %s\n' gateway-sim "http://127.0.0.1:$GATEWAY_PORT" \
        "http://127.0.0.1:$GATEWAY_PORT/openapi.json (admin: :$GATEWAY_ADMIN_PORT)"
    for s in "${SERVICES[@]}"; do
        printf '  %-22s %-28s %s\n' "$s-service" "http://127.0.0.1:$(service_port "$s")" \
            "http://127.0.0.1:$(service_port "$s")/swagger-ui.html"
    done
    for s in "${SERVICES[@]}"; do
        printf '  %-22s %-28s %s\n' "$s-sidecar" "http://127.0.0.1:$(sidecar_port "$s")" \
            "topics in: ${SUBSCRIBE[$s]}"
    done
    printf '  %-22s %-28s %s\n' console "http://127.0.0.1:$CONSOLE_PORT" \
        "the saga console (admin token: see below)"
    printf '  %-22s %-28s %s\n' kafka "$KAFKA_BROKERS" "(KRaft, controller :$KAFKA_CONTROLLER_PORT)"
    printf '  %-22s %-28s %s\n' mariadb "127.0.0.1:$MYSQL_PORT" "$MYSQL_SOCKET"
    printf '  %-22s %-28s %s\n' redis "127.0.0.1:$REDIS_PORT" "$REDIS_SOCKET"
    printf '\n  logs:     %s/<name>.log (slow queries: mariadb-slow.log)\n' "$LOG_DIR"
    printf '  events:   kcat -C -b %s -t order.events\n' "$KAFKA_BROKERS"
    printf '  database: mariadb -uroot -S %s order_db\n' "$MYSQL_SOCKET"
    printf '  token:    T=$(make -s token USER=u-1 ROLE=customer)   (key: %s/secrets/jwt)\n' "$RUN_DIR"
    printf '  order:    curl -s http://127.0.0.1:%s/api/orders -H "Authorization: Bearer $T" -H content-type:application/json -d @order.json\n' \
        "$ORDER_PORT"
    printf '  console:  open "http://127.0.0.1:%s/#token=$(make -s token USER=ops ROLE=admin)"\n' "$CONSOLE_PORT"
    printf '  status:   scripts/stack.sh status      stop: scripts/stack.sh down (make stop)\n\n'
}

# ---------------------------------------------------------------- commands

# up: the services first (their migrations create the outbox tables the
# sidecars' relays read), then the sidecars
cmd_up() {
    local name apps=() sidecars=()
    check_binaries
    "$ROOT/scripts/infra.sh" start
    create_topics
    READY_DEADLINE=$((SECONDS + READY_TIMEOUT)) # one budget for both waits
    mapfile -t apps < <(all_procs | grep -v -- '-sidecar$')
    mapfile -t sidecars < <(all_procs | grep -- '-sidecar$')
    for name in "${apps[@]}"; do start_proc "$name"; done
    wait_ready "${apps[@]}"
    for name in "${sidecars[@]}"; do start_proc "$name"; done
    wait_ready "${sidecars[@]}"
    print_table
}

cmd_down() {
    local procs=() i
    mapfile -t procs < <(all_procs)
    for ((i = ${#procs[@]} - 1; i >= 0; i--)); do stop_proc "${procs[i]}"; done
    "$ROOT/scripts/infra.sh" stop
}

cmd_status() {
    local name state ok=0
    for name in $(all_procs); do
        if ! running "$name"; then
            state=stopped
            ok=1
        elif is_ready "$name"; then
            state="running  pid $(pid_of "$name") ready"
        else
            state="running  pid $(pid_of "$name") NOT READY"
            ok=1
        fi
        printf '%-22s %-8s %s\n' "$name" "$(proc_port "$name")" "$state"
    done
    "$ROOT/scripts/infra.sh" status || ok=1
    return "$ok"
}

# one_part CMD NAME: start|stop|restart one process or one infrastructure part
one_part() {
    local cmd="$1" name
    case "${2:-}" in
    mariadb | redis | kafka)
        [ "$cmd" = start ] || "$ROOT/scripts/infra.sh" stop "$2"
        [ "$cmd" = stop ] || "$ROOT/scripts/infra.sh" start "$2"
        return 0
        ;;
    esac
    name="$(canonical "${2:-}")" || die "unknown part '${2:-}' (try: order, order-sidecar, gateway-sim, kafka)"
    [ "$cmd" = start ] || stop_proc "$name"
    if [ "$cmd" != stop ]; then
        [ -x "$(proc_binary "$name")" ] || die "$(proc_binary "$name") missing: build first"
        start_proc "$name"
        wait_ready "$name"
    fi
}

main() {
    ensure_dirs
    case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    start | stop | restart) one_part "$1" "${2:-}" ;;
    *)
        echo "usage: $0 up|down|status|restart NAME|start NAME|stop NAME" >&2
        exit 2
        ;;
    esac
}

main "$@"
