#!/usr/bin/env bash
# make chaos: the chaos scenarios of chaos/scenarios/ against the running release, each as
# a Job in the cluster (k8s/chaos-job.yaml, the chaos image), one after the other:
#
#   scripts/chaos.sh                    every scenario
#   SCENARIO=kafka-kill scripts/chaos.sh    one (or several, space-separated)
#
# 1. the release's saga step deadlines are shortened for the run (helm upgrade
#    --reuse-values --set order.env.SAGA_STEP_TIMEOUT_MS=CHAOS_SAGA_STEP_TIMEOUT_MS) and
#    restored at the end (helm rollback to the revision before), unless
#    CHAOS_SAGA_STEP_TIMEOUT_MS is empty;
# 2. per scenario: every pod of the system Ready first, then the Job; its log goes to
#    CHAOS_OUT/<scenario>.log and its result (the "CHAOS-RESULT" line) to
#    CHAOS_OUT/<scenario>.json;
# 3. `chaos report` writes CHAOS_OUT/chaos-report.md, chaos-report.json and a chart per
#    scenario (chaos-<scenario>.svg), with this machine's CPU and the command.
# Exit status: 0 when every scenario passed (nothing lost, every invariant held, recovered
# within its target).
#
# Environment: SCENARIO, K8S_NAMESPACE (saga-orders), RELEASE (saga), KUBECTL_CONTEXT
# (kubectl's current one when unset), IMAGE_PREFIX (localhost/saga-orders), IMAGE_TAG
# (0.1.0), CHAOS_SAGA_STEP_TIMEOUT_MS (15000), CHAOS_RESTORE (1: roll the deadlines back),
# CHAOS_OUT (build/chaos), CHAOS_JOB_TIMEOUT (1800 s per scenario), CHAOS_BIN
# (build/bin/chaos: writes the report), CHAOS_KEEP_JOBS (0: each Job is deleted once its
# log is kept).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

K8S_NAMESPACE="${K8S_NAMESPACE:-saga-orders}"
RELEASE="${RELEASE:-saga}"
IMAGE="${IMAGE_PREFIX:-localhost/saga-orders}/chaos:${IMAGE_TAG:-0.1.0}"
DEADLINE_MS="${CHAOS_SAGA_STEP_TIMEOUT_MS-15000}"
JOB_TIMEOUT="${CHAOS_JOB_TIMEOUT:-1800}"
OUT="${CHAOS_OUT:-$ROOT/build/chaos}"
CHAOS_BIN="${CHAOS_BIN:-build/bin/chaos}"
CHART=helm/saga-orders
# the order of a full run: the services, then what they depend on
ALL_SCENARIOS=(order-kill order-kill-all inventory-kill inventory-kill-all payment-kill
    payment-kill-repeat notification-kill sidecar-kill redis-kill gateway-kill mysql-kill
    kafka-kill)
# the system's own pods (not the Jobs'), which must all be Ready between scenarios
SYSTEM_PODS="app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/component in (order,inventory,payment,notification,gateway-sim,kafka,mysql,redis)"

note() { printf 'chaos: %s\n' "$*" >&2; }
die() {
    note "error: $*"
    exit 1
}

KUBECTL=(kubectl)
HELM=(helm)
if [ -n "${KUBECTL_CONTEXT:-}" ]; then
    KUBECTL+=(--context "$KUBECTL_CONTEXT")
    HELM+=(--kube-context "$KUBECTL_CONTEXT")
fi
KUBECTL+=(--namespace "$K8S_NAMESPACE")
HELM+=(--namespace "$K8S_NAMESPACE")
kc() { "${KUBECTL[@]}" "$@"; }

# ---------------------------------------------------------------- the release's deadlines

REVISION_BEFORE=
restore() {
    [ -n "$REVISION_BEFORE" ] || return 0
    if [ "${CHAOS_RESTORE:-1}" = 1 ]; then
        note "restoring the release (helm rollback to revision $REVISION_BEFORE)"
        "${HELM[@]}" rollback "$RELEASE" "$REVISION_BEFORE" --wait --timeout 10m >/dev/null ||
            note "warning: helm rollback failed: the release keeps the chaos deadlines"
    else
        note "keeping the chaos deadlines in the release (CHAOS_RESTORE=0)"
    fi
}

shorten_deadlines() {
    local current
    [ -n "$DEADLINE_MS" ] || return 0
    current="$("${HELM[@]}" get values "$RELEASE" -o json |
        python3 -c 'import json,sys; print(((json.load(sys.stdin) or {}).get("order") or {}).get("env", {}).get("SAGA_STEP_TIMEOUT_MS", ""))')"
    if [ "$current" = "$DEADLINE_MS" ]; then
        note "saga step deadlines already $DEADLINE_MS ms"
        return 0
    fi
    REVISION_BEFORE="$("${HELM[@]}" history "$RELEASE" --max 1 -o json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["revision"])')"
    trap restore EXIT
    note "saga step deadlines $DEADLINE_MS ms for the run (helm upgrade; revision $REVISION_BEFORE before)"
    "${HELM[@]}" upgrade "$RELEASE" "$CHART" --reuse-values --wait --timeout 10m \
        --set-string "order.env.SAGA_STEP_TIMEOUT_MS=$DEADLINE_MS" >/dev/null
}

# ---------------------------------------------------------------- one scenario

# manifest SCENARIO JOB RUN_ID: k8s/chaos-job.yaml filled in
manifest() {
    sed -e "s|@JOB@|$2|g" -e "s|@NAMESPACE@|$K8S_NAMESPACE|g" -e "s|@RELEASE@|$RELEASE|g" \
        -e "s|@SCENARIO@|$1|g" -e "s|@IMAGE@|$IMAGE|g" -e "s|@RUN_ID@|$3|g" \
        -e "s|@DEADLINE_S@|$JOB_TIMEOUT|g" k8s/chaos-job.yaml
}

wait_system_ready() {
    local deadline=$((SECONDS + 600))
    # a pod of a rollout may be gone between kubectl's listing and its wait: ask again
    until kc wait --for=condition=Ready pod -l "$SYSTEM_PODS" --timeout=60s >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] ||
            die "the system's pods are not all Ready: $(kc get pods -l "$SYSTEM_PODS" --no-headers | tr -s ' ' | cut -d' ' -f1-3 | tr '\n' ';')"
        sleep 2
    done
}

# run_scenario NAME: its Job, its log and result kept; 0 when it ran (whatever its verdict)
run_scenario() {
    local name="$1" job="$RELEASE-chaos-$1" run_id state deadline t0=$SECONDS logpid
    run_id="$(date -u +%m%d%H%M%S)"
    wait_system_ready
    kc delete job "$job" --ignore-not-found --wait=true >/dev/null
    manifest "$name" "$job" "$run_id" | kc apply -f - >/dev/null
    note "scenario $name: job $job"
    # the runner's log as it goes
    kc logs -f --pod-running-timeout=300s "job/$job" >"$OUT/$name.log" 2>&1 &
    logpid=$!
    deadline=$((SECONDS + JOB_TIMEOUT + 300))
    while :; do
        state="$(kc get job "$job" -o jsonpath='{.status.succeeded}/{.status.failed}')"
        case "$state" in [1-9]*/* | */[1-9]*) break ;; esac
        if [ "$SECONDS" -ge "$deadline" ]; then
            note "scenario $name: job $job not finished after $((SECONDS - t0)) s"
            break
        fi
        sleep 5
    done
    wait "$logpid" 2>/dev/null || true
    # the whole log once more, in case following it was cut short
    kc logs "job/$job" >"$OUT/$name.log" 2>&1 || true
    grep -v '^CHAOS-RESULT ' "$OUT/$name.log" | sed 's/^/    /' | tail -40 >&2 || true
    if grep -q '^CHAOS-RESULT ' "$OUT/$name.log"; then
        grep '^CHAOS-RESULT ' "$OUT/$name.log" | tail -1 | cut -d' ' -f2- >"$OUT/$name.json"
    else
        printf '{"scenario": "%s", "verdict": "FAIL", "failures": ["the Job printed no result (log: %s)"]}\n' \
            "$name" "$OUT/$name.log" >"$OUT/$name.json"
    fi
    [ "${CHAOS_KEEP_JOBS:-0}" = 1 ] || kc delete job "$job" --ignore-not-found --wait=false >/dev/null
    note "scenario $name: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["verdict"], "; ".join(d.get("failures", [])))' "$OUT/$name.json") ($((SECONDS - t0)) s)"
}

main() {
    local scenarios=() s cpu command files=() t0=$SECONDS rc=0
    command -v kubectl >/dev/null 2>&1 || die "kubectl not found on PATH"
    command -v helm >/dev/null 2>&1 || die "helm not found on PATH"
    [ -x "$CHAOS_BIN" ] || die "$CHAOS_BIN missing: make $CHAOS_BIN"
    if [ -n "${SCENARIO:-}" ]; then read -r -a scenarios <<<"$SCENARIO"; else scenarios=("${ALL_SCENARIOS[@]}"); fi
    for s in "${scenarios[@]}"; do
        [ -f "chaos/scenarios/$s" ] || die "no scenario chaos/scenarios/$s"
    done
    "$CHAOS_BIN" check "${scenarios[@]/#/chaos/scenarios/}" >/dev/null || die "a scenario file is wrong"
    kc get "deploy/$RELEASE-order" >/dev/null || die "no release $RELEASE in namespace $K8S_NAMESPACE (make k8s-up)"
    kc get secret "$RELEASE-auth" >/dev/null || die "no Secret $RELEASE-auth (the services' token key)"
    mkdir -p "$OUT"
    # the chaos service account and its Role (and the rest of k8s/) as this checkout has them
    kc apply -k k8s/ >/dev/null
    shorten_deadlines
    for s in "${scenarios[@]}"; do
        rm -f "$OUT/$s.json" "$OUT/$s.log"
        run_scenario "$s"
        files+=("$OUT/$s.json")
    done
    cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1) ($(nproc) cpus)"
    command="kind-offline run make chaos${SCENARIO:+ SCENARIO=$SCENARIO}"
    "$CHAOS_BIN" report --out "$OUT" --cpu "$cpu" --command "$command" "${files[@]}" || rc=$?
    sed -n '/^| scenario/,/^$/p' "$OUT/chaos-report.md"
    note "$((SECONDS - t0)) s in all; report: $OUT/chaos-report.md"
    return "$rc"
}

main "$@"
