#!/usr/bin/env bash
# make k8s-load: the load test against the system deployed on Kubernetes, run
# inside the cluster (a port-forward would be the bottleneck):
#
#   RATE=100 DURATION=60 scripts/k8s-load.sh
#
# 1. a Job seeds the inventory and notification databases with `seed` from the
#    loadgen image (LOAD_PRODUCTS products of LOAD_STOCK units, LOAD_USERS
#    users; over TCP to <release>-mysql as the inventory and notification
#    users, passwords from Secret <release>-db; existing rows are kept);
# 2. a Job runs `loadgen --rate RATE --duration DURATION` against
#    http://<release>-order:8081/api/orders and its log is printed;
# 3. once the orders created meanwhile have settled (LOAD_SETTLE s at most), one
#    SQL query in <release>-mysql-0 (kubectl exec, as root) gives the achieved
#    create rate, CONFIRMED / CANCELLED / not terminal counts and the completion
#    time (creation -> first CONFIRMED/CANCELLED saga transition, as make bench
#    measures it) avg/p50/p95/p99/max of the orders created during the run;
# 4. the summary is printed and written to LOAD_OUT/result.txt and result.json
#    with the CPU model of this machine beside the figures.
# The Jobs are deleted at the end (LOAD_KEEP_JOBS=1 keeps them).
#
# Environment: RATE (100), DURATION (60), K8S_NAMESPACE (saga-orders), RELEASE
# (saga), KUBECTL_CONTEXT (kubectl's current context when unset), LOADGEN_IMAGE
# (localhost/saga-orders/loadgen:0.1.0), LOAD_PRODUCTS (100000), LOAD_USERS
# (10000), LOAD_STOCK (1000000), LOAD_SEED (1; 0 skips the seeding),
# LOAD_DB_SEED (42: the generator's seed), LOADGEN_ARGS (more loadgen options,
# e.g. "--zipf 0 --max-inflight 4000"), LOAD_SETTLE (120), LOAD_OUT
# (build/k8s-load), INVENTORY_DB_USER (inventory), NOTIFICATION_DB_USER
# (notification), MYSQL_CONTAINER (the pod's default container when unset).
# Exit status: 0 when every order created reached CONFIRMED or CANCELLED.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RATE="${RATE:-100}"
DURATION="${DURATION:-60}"
K8S_NAMESPACE="${K8S_NAMESPACE:-saga-orders}"
RELEASE="${RELEASE:-saga}"
LOADGEN_IMAGE="${LOADGEN_IMAGE:-localhost/saga-orders/loadgen:0.1.0}"
PRODUCTS="${LOAD_PRODUCTS:-100000}"
USERS="${LOAD_USERS:-10000}"
STOCK="${LOAD_STOCK:-1000000}"
SETTLE="${LOAD_SETTLE:-120}"
OUT="${LOAD_OUT:-$ROOT/build/k8s-load}"
SEED_JOB="$RELEASE-load-seed"
LOAD_JOB="$RELEASE-load-gen"
JOBS_CREATED=()

note() { printf 'k8s-load: %s\n' "$*" >&2; }
die() {
    note "error: $*"
    exit 1
}

for v in RATE DURATION PRODUCTS USERS STOCK SETTLE; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
if [ "$RATE" -eq 0 ] || [ "$DURATION" -eq 0 ] || [ "$PRODUCTS" -eq 0 ]; then
    die "RATE, DURATION and LOAD_PRODUCTS must be > 0"
fi

KUBECTL=(kubectl)
[ -z "${KUBECTL_CONTEXT:-}" ] || KUBECTL+=(--context "$KUBECTL_CONTEXT")
KUBECTL+=(--namespace "$K8S_NAMESPACE")
kc() { "${KUBECTL[@]}" "$@"; }

# ---------------------------------------------------------------- Jobs

# labels INDENT COMPONENT: the chart's standard labels, for a load-test part
labels() {
    local pad
    pad="$(printf '%*s' "$1" '')"
    printf '%s%s: %s\n' "$pad" app.kubernetes.io/name saga-orders "$pad" app.kubernetes.io/instance \
        "$RELEASE" "$pad" app.kubernetes.io/component "$2" "$pad" app.kubernetes.io/part-of \
        saga-orders "$pad" app.kubernetes.io/managed-by k8s-load.sh
}

# job_manifest NAME COMPONENT DB COMMAND...: a Job running COMMAND... in the
# loadgen image (restricted pod security, /tmp an emptyDir) with JWT_SECRET
# from Secret <release>-auth; DB=1 gives it the seed's database settings (the
# Service, the users, their passwords from Secret <release>-db)
job_manifest() {
    local name="$1" component="$2" db="$3" arg
    shift 3
    cat <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: $name
  labels:
$(labels 4 "$component")
spec:
  backoffLimit: 0
  activeDeadlineSeconds: $((DURATION + 1800))
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      labels:
$(labels 8 "$component")
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: $component
          image: $(json_string "$LOADGEN_IMAGE")
          imagePullPolicy: IfNotPresent
          command:
EOF
    for arg in "$@"; do printf '            - %s\n' "$(json_string "$arg")"; done
    cat <<EOF
          env:
            - name: JWT_SECRET
              valueFrom:
                secretKeyRef: {name: $(json_string "$RELEASE-auth"), key: jwt-secret}
EOF
    [ "$db" != 1 ] || cat <<EOF
            - name: DB_HOST
              value: $(json_string "$RELEASE-mysql")
            - name: DB_PORT
              value: "3306"
            - name: INVENTORY_DB_USER
              value: $(json_string "${INVENTORY_DB_USER:-inventory}")
            - name: INVENTORY_DB_PASSWORD
              valueFrom:
                secretKeyRef: {name: $(json_string "$RELEASE-db"), key: inventory-password}
            - name: NOTIFICATION_DB_USER
              value: $(json_string "${NOTIFICATION_DB_USER:-notification}")
            - name: NOTIFICATION_DB_PASSWORD
              valueFrom:
                secretKeyRef: {name: $(json_string "$RELEASE-db"), key: notification-password}
EOF
    cat <<EOF
          resources:
            requests: {cpu: 100m, memory: 64Mi}
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
EOF
}

delete_jobs() {
    [ "${#JOBS_CREATED[@]}" -gt 0 ] || return 0
    if [ "${LOAD_KEEP_JOBS:-0}" = 1 ]; then
        note "keeping the Jobs ${JOBS_CREATED[*]} (LOAD_KEEP_JOBS=1)"
        return 0
    fi
    kc delete job "${JOBS_CREATED[@]}" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}

# run_job NAME COMPONENT DB TIMEOUT COMMAND...: creates the Job (a leftover
# of the same name is deleted first), waits for it to succeed or fail, prints
# its log; returns 0 when it succeeded
run_job() {
    local name="$1" component="$2" db="$3" timeout="$4" deadline state rc=1
    shift 4
    kc delete job "$name" --ignore-not-found --wait=true >/dev/null
    job_manifest "$name" "$component" "$db" "$@" | kc apply -f - >/dev/null
    JOBS_CREATED+=("$name")
    deadline=$((SECONDS + timeout))
    while :; do
        state="$(kc get job "$name" -o jsonpath='{.status.succeeded}/{.status.failed}')"
        case "$state" in
        [1-9]*/*) rc=0 && break ;;
        */[1-9]*) break ;;
        esac
        if [ "$SECONDS" -ge "$deadline" ]; then
            note "job $name not finished after ${timeout}s"
            kc get pods -l "job-name=$name" -o wide >&2 || true
            kc describe pods -l "job-name=$name" 2>/dev/null | tail -15 >&2 || true
            break
        fi
        sleep 2
    done
    note "log of job $name:"
    kc logs "job/$name" --tail=200 2>&1 | sed 's/^/    /' >&2 || true
    return "$rc"
}

# ---------------------------------------------------------------- the database

MYSQL_PASSWORD=
# sql QUERY: tab-separated rows from order_db, as root in the MySQL pod
sql() {
    local err rc=0 out opts=()
    [ -z "${MYSQL_CONTAINER:-}" ] || opts=(-c "$MYSQL_CONTAINER")
    opts+=("$RELEASE-mysql-0" -- mysql -uroot)
    # (a bare -p would ask for the password)
    [ -z "$MYSQL_PASSWORD" ] || opts+=("-p$MYSQL_PASSWORD")
    err="$(mktemp)"
    out="$(kc exec "${opts[@]}" -N -B order_db -e "$1" 2>"$err")" || rc=$?
    if [ "$rc" -ne 0 ]; then
        grep -v 'Using a password on the command line' "$err" >&2 || true
        rm -f "$err"
        return "$rc"
    fi
    rm -f "$err"
    printf '%s\n' "$out"
}

TERMINAL="'CONFIRMED','CANCELLED'"

# window_pending T0 T1: orders created in [T0, T1] not terminal yet
window_pending() {
    sql "SELECT COUNT(*) FROM orders WHERE created_at BETWEEN '$1' AND '$2'
        AND status NOT IN ($TERMINAL)"
}

# window_report T0 T1: one row: created, confirmed, cancelled, not terminal,
# seconds from first to last creation, completion avg p50 p95 p99 max (ms; a
# percentile is the value at rank floor(p * n) of the sorted times, as
# loadtest/report.py takes it). Window functions and CTEs: MySQL 8 and
# MariaDB >= 10.2 alike.
window_report() {
    local pct=""
    for p in 0.50 0.95 0.99; do
        pct+="(SELECT ROUND(MIN(ms)) FROM d WHERE rn = LEAST(n, FLOOR($p * n) + 1)), "
    done
    sql "WITH c AS (
            SELECT o.status, o.created_at,
                TIMESTAMPDIFF(MICROSECOND, o.created_at,
                    (SELECT MIN(t.created_at) FROM saga_transitions t
                      WHERE t.order_id = o.order_id AND t.to_status IN ($TERMINAL))) / 1000 AS ms
            FROM orders o WHERE o.created_at BETWEEN '$1' AND '$2'),
        d AS (
            SELECT ms, ROW_NUMBER() OVER (ORDER BY ms) AS rn, COUNT(*) OVER () AS n
            FROM c WHERE status IN ($TERMINAL) AND ms IS NOT NULL)
        SELECT COUNT(*), IFNULL(SUM(status = 'CONFIRMED'), 0), IFNULL(SUM(status = 'CANCELLED'), 0),
            IFNULL(SUM(status NOT IN ($TERMINAL)), 0),
            IFNULL(ROUND(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), MAX(created_at)) / 1000000, 3), 0),
            (SELECT ROUND(AVG(ms), 1) FROM d), $pct (SELECT ROUND(MAX(ms)) FROM d)
        FROM c"
}

# ---------------------------------------------------------------- output

# json_value WORD: a number as is, NULL or empty as null
json_value() {
    if [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then printf '%s' "$1"; else printf 'null'; fi
}
# json_string TEXT
json_string() {
    local s="${1//\\/\\\\}"
    s="${s//\"/\\\"}"
    printf '"%s"' "${s//$'\t'/ }"
}

main() {
    local t0=$SECONDS start end loadgen_line cpu_model cpus pending settled=0 rc=0
    local created confirmed cancelled not_terminal span avg p50 p95 p99 max achieved
    local scheduled=null ok=null errors=null dropped=null unfinished=null
    command -v kubectl >/dev/null 2>&1 || die "kubectl not found on PATH"
    kc get "deploy/$RELEASE-order" >/dev/null || die "no deploy/$RELEASE-order in namespace $K8S_NAMESPACE"
    MYSQL_PASSWORD="$(kc get secret "$RELEASE-db" -o jsonpath='{.data.root-password}' | base64 -d)" ||
        die "cannot read root-password of Secret $RELEASE-db"
    sql "SELECT 1" >/dev/null || die "cannot query order_db in $RELEASE-mysql-0 as root"
    trap delete_jobs EXIT
    mkdir -p "$OUT"

    if [ "${LOAD_SEED:-1}" = 1 ]; then
        note "seeding $PRODUCTS products x $STOCK units and $USERS users (job $SEED_JOB)"
        run_job "$SEED_JOB" loadgen 1 900 /usr/local/bin/seed --products "$PRODUCTS" \
            --users "$USERS" --stock "$STOCK" --seed "${LOAD_DB_SEED:-42}" ||
            die "seeding failed (MySQL needs local_infile=ON for LOAD DATA LOCAL; MariaDB has it on)"
    fi

    start="$(sql "SELECT UTC_TIMESTAMP(3)")"
    note "load: $RATE orders/s for ${DURATION}s against http://$RELEASE-order:8081 (job $LOAD_JOB)"
    # shellcheck disable=SC2086  # LOADGEN_ARGS is a list of words by design
    run_job "$LOAD_JOB" loadgen 0 $((DURATION + 600)) /usr/local/bin/loadgen \
        --rate "$RATE" --duration "$DURATION" --url "http://$RELEASE-order:8081/api/orders" \
        --products "$PRODUCTS" --users "$USERS" --out /tmp/loadgen.json ${LOADGEN_ARGS:-} ||
        rc=1
    end="$(sql "SELECT UTC_TIMESTAMP(3)")"
    loadgen_line="$(kc logs "job/$LOAD_JOB" --tail=20 2>/dev/null | grep 'scheduled,.*unfinished' | tail -1)" || true
    loadgen_line="${loadgen_line#loadgen: }"
    if [[ "$loadgen_line" =~ ([0-9]+)\ scheduled,\ ([0-9]+)\ ok,\ ([0-9]+)\ errors,\ ([0-9]+)\ dropped,\ ([0-9]+)\ unfinished ]]; then
        scheduled="${BASH_REMATCH[1]}" ok="${BASH_REMATCH[2]}" errors="${BASH_REMATCH[3]}"
        dropped="${BASH_REMATCH[4]}" unfinished="${BASH_REMATCH[5]}"
    fi

    note "waiting for the sagas of the orders created in [$start, $end] (at most ${SETTLE}s)"
    local deadline=$((SECONDS + SETTLE)) s0=$SECONDS
    while pending="$(window_pending "$start" "$end")" && [ "$pending" != 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 2
    done
    settled=$((SECONDS - s0))
    IFS=$'\t' read -r created confirmed cancelled not_terminal span avg p50 p95 p99 max \
        < <(window_report "$start" "$end") || die "the report query failed"
    achieved="$(awk -v n="$created" -v d="$DURATION" 'BEGIN { printf "%.1f", n / d }')"
    cpu_model="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)"
    cpus="$(nproc)"

    {
        printf 'k8s-load: %s orders/s for %s s, %s products (namespace %s, release %s)\n' \
            "$RATE" "$DURATION" "$PRODUCTS" "$K8S_NAMESPACE" "$RELEASE"
        printf '  cpu             %s (%s cpus)\n' "${cpu_model:-unknown}" "$cpus"
        printf '  window (UTC)    %s .. %s\n' "$start" "$end"
        printf '  loadgen         %s\n' "${loadgen_line:-(no summary line in its log)}"
        printf '  orders created  %s in %s s: %s/s achieved (over %s s)\n' "$created" "$span" \
            "$achieved" "$DURATION"
        printf '  outcome         %s CONFIRMED, %s CANCELLED, %s not terminal (settled in %s s)\n' \
            "$confirmed" "$cancelled" "$not_terminal" "$settled"
        printf '  completion ms   avg %s  p50 %s  p95 %s  p99 %s  max %s\n' "$avg" "$p50" "$p95" \
            "$p99" "$max"
    } | tee "$OUT/result.txt"
    {
        printf '{"rate": %s, "duration_s": %s, "products": %s, "users": %s, ' "$RATE" \
            "$DURATION" "$PRODUCTS" "$USERS"
        printf '"namespace": %s, "release": %s, "image": %s,\n' "$(json_string "$K8S_NAMESPACE")" \
            "$(json_string "$RELEASE")" "$(json_string "$LOADGEN_IMAGE")"
        printf ' "cpu": {"model": %s, "count": %s},\n' "$(json_string "$cpu_model")" "$cpus"
        printf ' "window_utc": {"start": %s, "end": %s},\n' "$(json_string "$start")" \
            "$(json_string "$end")"
        printf ' "loadgen": {"scheduled": %s, "ok": %s, "errors": %s, "dropped": %s, "unfinished": %s},\n' \
            "$scheduled" "$ok" "$errors" "$dropped" "$unfinished"
        printf ' "orders": {"created": %s, "create_span_s": %s, "achieved_rate_per_s": %s, ' \
            "$(json_value "$created")" "$(json_value "$span")" "$(json_value "$achieved")"
        printf '"confirmed": %s, "cancelled": %s, "not_terminal": %s, "settle_s": %s},\n' \
            "$(json_value "$confirmed")" "$(json_value "$cancelled")" \
            "$(json_value "$not_terminal")" "$settled"
        printf ' "completion_ms": {"avg": %s, "p50": %s, "p95": %s, "p99": %s, "max": %s}}\n' \
            "$(json_value "$avg")" "$(json_value "$p50")" "$(json_value "$p95")" \
            "$(json_value "$p99")" "$(json_value "$max")"
    } >"$OUT/result.json"
    note "written: $OUT/result.txt, $OUT/result.json ($((SECONDS - t0)) s in all)"

    [ "$rc" -eq 0 ] || die "the load generator job failed"
    [ "$created" != 0 ] || die "no order was created during the run"
    [ "$not_terminal" = 0 ] || die "$not_terminal orders not terminal after ${settled}s of settling (at most ${SETTLE}s)"
}

main "$@"
