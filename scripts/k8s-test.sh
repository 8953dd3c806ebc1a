#!/usr/bin/env bash
# The end-to-end suite (tests/e2e) against the system deployed on Kubernetes,
# through kubectl port-forward:
#
#   scripts/k8s-test.sh [test-name ...]
#
# Forwards, each on 127.0.0.1 with the same port number locally:
#   deploy/<release>-order          8081 9081 10081   (service, sidecar, internal listener)
#   deploy/<release>-payment        8082 9082 10082
#   deploy/<release>-inventory      8083 9083 10083
#   deploy/<release>-notification   8084 9084 10084
#   deploy/<release>-gateway-sim    8089
#   pod/<release>-kafka-0           19092             (the PORTFORWARD listener; with
#                                                      kafka.auth.enabled, kcat authenticates
#                                                      as admin: KCAT_CONFIG, Secret
#                                                      <release>-kafka, admin-password)
#   pod/<release>-mysql-0           3306              (as root: Secret <release>-db, root-password)
#   deploy/<release>-redis          6379
# A forward that ends (kubectl gives one up when a connection to the pod
# fails) is started again. The tests get the endpoints in the environment
# stack.py reads (ORDER_URL, ..., KAFKA_BROKERS, E2E_MYSQL_*, E2E_REDIS_*,
# E2E_LOG_CMD: `kubectl logs deploy/<release>-<service>`; E2E_JWT_SECRET, the
# key their bearer tokens are signed with: Secret <release>-auth, jwt-secret),
# need kcat, the mariadb client and redis-cli on PATH, and exit with the
# suite's status.
#
# Environment: K8S_NAMESPACE (saga-orders), RELEASE (saga), KUBECTL_CONTEXT
# (kubectl's current context when unset), K8S_FORWARD_TIMEOUT (60: seconds to
# wait for every local port), K8S_TEST_LOG_DIR (build/k8s-test: the
# port-forward logs). The local ports must be free.
#
# `make k8s-test` runs `helm test` before this: saga-smoke (one saga each way)
# and kafka-acl-test (Kafka refuses what the ACLs forbid).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

K8S_NAMESPACE="${K8S_NAMESPACE:-saga-orders}"
RELEASE="${RELEASE:-saga}"
FORWARD_TIMEOUT="${K8S_FORWARD_TIMEOUT:-60}"
LOG_DIR="${K8S_TEST_LOG_DIR:-$ROOT/build/k8s-test}"

note() { printf 'k8s-test: %s\n' "$*" >&2; }
die() {
    note "error: $*"
    exit 1
}

KUBECTL=(kubectl)
[ -z "${KUBECTL_CONTEXT:-}" ] || KUBECTL+=(--context "$KUBECTL_CONTEXT")
KUBECTL+=(--namespace "$K8S_NAMESPACE")
kc() { "${KUBECTL[@]}" "$@"; }

# target and ports of each forward (the contract's list)
FORWARDS=(
    "deploy/$RELEASE-order 8081 9081 10081"
    "deploy/$RELEASE-payment 8082 9082 10082"
    "deploy/$RELEASE-inventory 8083 9083 10083"
    "deploy/$RELEASE-notification 8084 9084 10084"
    "deploy/$RELEASE-gateway-sim 8089"
    "deploy/$RELEASE-console 8090"
    "pod/$RELEASE-kafka-0 19092"
    "pod/$RELEASE-mysql-0 3306"
    "deploy/$RELEASE-redis 6379"
)
FORWARD_PIDS=()
SUITE_PID=
SECRET_DIR=

# forward TARGET PORT...: kubectl port-forward, started again whenever it
# ends, until this (background) shell is terminated
forward() {
    local target="$1" log child
    shift
    log="$LOG_DIR/port-forward-${target//\//-}.log"
    # shellcheck disable=SC2064  # the child of this round
    while :; do
        "${KUBECTL[@]}" port-forward --address 127.0.0.1 "$target" "$@" >>"$log" 2>&1 &
        child=$!
        trap "kill $child 2>/dev/null; exit 0" TERM INT
        wait "$child" || true
        printf 'k8s-test: port-forward %s ended; starting it again\n' "$target" >>"$log"
        sleep 0.2
    done
}

# on exit: the suite when it still runs (the script was stopped), the forwards
cleanup() {
    local pid
    [ -z "$SUITE_PID" ] || kill "$SUITE_PID" 2>/dev/null || true
    for pid in "${FORWARD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${FORWARD_PIDS[@]}" $SUITE_PID; do wait "$pid" 2>/dev/null || true; done
    [ -z "$SECRET_DIR" ] || rm -rf "$SECRET_DIR"
}

# kcat_config: with Kafka authentication on (Secret <release>-kafka exists), a
# kcat configuration as the admin principal (SCRAM-SHA-512: the tests produce to
# and read every topic) in KCAT_CONFIG; outside build/, whose logs CI uploads
kcat_config() {
    local password
    password="$(kc get secret "$RELEASE-kafka" -o jsonpath='{.data.admin-password}' 2>/dev/null |
        base64 -d)" || password=
    if [ -z "$password" ]; then
        note "no Secret $RELEASE-kafka: Kafka without authentication"
        return 0
    fi
    SECRET_DIR="$(mktemp -d)"
    (
        umask 077
        printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanisms=SCRAM-SHA-512\n' >"$SECRET_DIR/kcat.conf"
        printf 'sasl.username=admin\nsasl.password=%s\n' "$password" >>"$SECRET_DIR/kcat.conf"
    )
    export KCAT_CONFIG="$SECRET_DIR/kcat.conf"
    note "kcat authenticates to Kafka as admin (SCRAM-SHA-512)"
}

sidecar_port() {
    case "$1" in order) echo 9081 ;; payment) echo 9082 ;; inventory) echo 9083 ;; notification) echo 9084 ;; esac
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_ports() {
    local deadline=$((SECONDS + FORWARD_TIMEOUT)) spec port
    for spec in "${FORWARDS[@]}"; do
        # shellcheck disable=SC2086  # a target and its ports, split on purpose
        set -- $spec
        shift
        for port in "$@"; do
            port="${port%%:*}"
            until port_open "$port"; do
                if [ "$SECONDS" -ge "$deadline" ]; then
                    tail -5 "$LOG_DIR"/port-forward-*.log >&2 || true
                    die "127.0.0.1:$port (${spec%% *}) not answering after ${FORWARD_TIMEOUT}s"
                fi
                sleep 0.5
            done
        done
    done
}

main() {
    local t0=$SECONDS spec password rc=0 tool
    command -v kubectl >/dev/null 2>&1 || die "kubectl not found on PATH"
    command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH"
    for tool in kcat mariadb redis-cli; do
        command -v "$tool" >/dev/null 2>&1 || note "warning: $tool not found: the tests that use it will fail"
    done
    kc get "deploy/$RELEASE-order" >/dev/null || die "no deploy/$RELEASE-order in namespace $K8S_NAMESPACE"
    password="$(kc get secret "$RELEASE-db" -o jsonpath='{.data.root-password}' | base64 -d)" ||
        die "cannot read root-password of Secret $RELEASE-db"
    [ -n "$password" ] || note "warning: Secret $RELEASE-db has an empty root-password"

    mkdir -p "$LOG_DIR"
    rm -f "$LOG_DIR"/port-forward-*.log
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    for spec in "${FORWARDS[@]}"; do
        # shellcheck disable=SC2086  # a target and its ports, split on purpose
        forward $spec &
        FORWARD_PIDS+=("$!")
    done
    # every pod's sidecar and service too, on ports from 20001 up: a counter of a
    # service with several pods is the sum over its pods (<SERVICE>_SIDECAR_URLS,
    # <SERVICE>_SERVICE_URLS)
    local svc pod port=20000 urls surls
    for svc in order payment inventory notification; do
        urls=
        surls=
        for pod in $(kc get pods -o name \
            -l "app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/component=$svc"); do
            port=$((port + 1))
            FORWARDS+=("$pod $port:$(sidecar_port "$svc")")
            forward "$pod" "$port:$(sidecar_port "$svc")" &
            FORWARD_PIDS+=("$!")
            urls+="${urls:+,}http://127.0.0.1:$port"
            port=$((port + 1))
            FORWARDS+=("$pod $port:$(($(sidecar_port "$svc") - 1000))")
            forward "$pod" "$port:$(($(sidecar_port "$svc") - 1000))" &
            FORWARD_PIDS+=("$!")
            surls+="${surls:+,}http://127.0.0.1:$port"
        done
        export "${svc^^}_SIDECAR_URLS=$urls" "${svc^^}_SERVICE_URLS=$surls"
    done
    wait_ports
    note "port-forwards up in $((SECONDS - t0)) s (logs: $LOG_DIR)"

    export ORDER_URL=http://127.0.0.1:8081 PAYMENT_URL=http://127.0.0.1:8082 \
        INVENTORY_URL=http://127.0.0.1:8083 NOTIFICATION_URL=http://127.0.0.1:8084 \
        GATEWAY_URL=http://127.0.0.1:8089
    export ORDER_SIDECAR_URL=http://127.0.0.1:9081 PAYMENT_SIDECAR_URL=http://127.0.0.1:9082 \
        INVENTORY_SIDECAR_URL=http://127.0.0.1:9083 NOTIFICATION_SIDECAR_URL=http://127.0.0.1:9084
    export ORDER_INTERNAL_URL=http://127.0.0.1:10081 PAYMENT_INTERNAL_URL=http://127.0.0.1:10082 \
        INVENTORY_INTERNAL_URL=http://127.0.0.1:10083 NOTIFICATION_INTERNAL_URL=http://127.0.0.1:10084
    export KAFKA_BROKERS=127.0.0.1:19092
    kcat_config
    # the key the services verify bearer tokens with: the tests mint theirs with it
    if [ -z "${E2E_JWT_SECRET:-}" ]; then
        E2E_JWT_SECRET="$(kc get secret "$RELEASE-auth" -o jsonpath='{.data.jwt-secret}' | base64 -d)" ||
            die "cannot read jwt-secret of Secret $RELEASE-auth"
        export E2E_JWT_SECRET
    fi
    # kubectl gives a forward up when one connection to the pod breaks (a request the
    # service refuses before reading its body): forward() starts it again at once, and
    # the tests try a refused connection again meanwhile
    export E2E_CONNECT_RETRY_S="${E2E_CONNECT_RETRY_S:-20}"
    export E2E_MYSQL_HOST=127.0.0.1 E2E_MYSQL_PORT=3306 E2E_MYSQL_USER=root
    export E2E_MYSQL_PASSWORD="$password"
    export E2E_REDIS_HOST=127.0.0.1 E2E_REDIS_PORT=6379
    # the service container of every pod of the service, whole logs
    local log_cmd
    log_cmd="$(printf '%q ' "${KUBECTL[@]}")logs --tail=-1 -c {service}"
    log_cmd+=" -l app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/component={service}"
    export E2E_LOG_CMD="${E2E_LOG_CMD:-$log_cmd}"

    note "running tests/e2e against namespace $K8S_NAMESPACE, release $RELEASE"
    # in the background, so that a signal to this script is acted on at once
    python3 tests/e2e/run.py "$@" &
    SUITE_PID=$!
    wait "$SUITE_PID" || rc=$?
    SUITE_PID=
    note "e2e: exit $rc after $((SECONDS - t0)) s (port-forwards included)"
    return "$rc"
}

main "$@"
