#!/usr/bin/env bash
# Allocation-failure torture (make torture), as curl's: runs each test_* binary
# of DIR (built by `make SAN=1 torture-tests`, tests/checks.mk) once to count
# the allocations of the code under test, then once for each N = 1..count with
# the Nth allocation failing. A run may fail its assertions (the code refused
# cleanly), but must not crash, hang, or draw an ASan/UBSan report; a leak
# counts too, unless an assertion failed in that run: cmocka then leaves the
# test by longjmp and what the test still held leaks by construction (those
# runs are counted as "leaks after a failed assertion", TORTURE_STRICT=1 makes
# them fail as well).
#
#   scripts/torture.sh build/san/torture [test_name...]
#
# TORTURE_STEP=k   only every kth N (1)
# TORTURE_MAX=m    at most m runs per binary, N spread evenly over 1..count
# TORTURE_TIMEOUT  seconds per run (60)
# The logs of failing runs stay in DIR/logs/<test>.<N>.log.
set -uo pipefail

DIR="${1:-}"
[ -n "$DIR" ] && [ -d "$DIR" ] || {
    echo "usage: $0 DIR [test_name...]" >&2
    exit 2
}
shift
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$(cd "$DIR" && pwd)"
STEP="${TORTURE_STEP:-1}"
MAX="${TORTURE_MAX:-0}"
TIMEOUT_S="${TORTURE_TIMEOUT:-60}"
STRICT="${TORTURE_STRICT:-0}"
LOGS="$DIR/logs"
rm -rf "$LOGS"
mkdir -p "$LOGS"
out="$(mktemp)"
count_file="$(mktemp)"
trap 'rm -f "$out" "$count_file"' EXIT

# no leak report is lost to an earlier exit; the exit codes tell ASan (70),
# LeakSanitizer (23) and cmocka (the number of failed tests) apart
export ASAN_OPTIONS="exitcode=70:detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=71${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="exitcode=23${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export CMOCKA_MESSAGE_OUTPUT=stdout

# run BINARY N: one run with the Nth allocation failing (0: none), output in $out
run() {
    (cd "$ROOT" && TORTURE_FAIL_AT="$2" timeout "$TIMEOUT_S" "$1") >"$out" 2>&1
}

total_runs=0
total_bad=0
total_tolerated=0
broken=()
t_all=$SECONDS
if [ "$#" -gt 0 ]; then
    bins=()
    for n in "$@"; do bins+=("$DIR/$n"); done
else
    bins=("$DIR"/test_*)
fi
for t in "${bins[@]}"; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    name="$(basename "$t")"
    t0=$SECONDS
    rm -f "$count_file"
    if ! (cd "$ROOT" && TORTURE_COUNT_FILE="$count_file" timeout "$TIMEOUT_S" "$t") >"$out" 2>&1; then
        cp "$out" "$LOGS/$name.0.log"
        printf '%-32s FAILED without any allocation failing (%s)\n' "$name" "$LOGS/$name.0.log"
        broken+=("$name")
        total_bad=$((total_bad + 1))
        continue
    fi
    count="$(cat "$count_file" 2>/dev/null || echo 0)"
    step="$STEP"
    if [ "$MAX" -gt 0 ] && [ $(((count + step - 1) / step)) -gt "$MAX" ]; then
        step=$(((count + MAX - 1) / MAX))
    fi
    runs=0 bad=0 tolerated=0
    for ((n = 1; n <= count; n += step)); do
        run "$t" "$n"
        rc=$?
        runs=$((runs + 1))
        verdict=ok
        # 70 ASan, 71 UBSan, 124 timeout, 128+ a signal
        if [ "$rc" -eq 124 ]; then
            verdict=hang
        elif [ "$rc" -ge 70 ] || grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$out"; then
            verdict=crash
        elif [ "$rc" -eq 23 ] || grep -q 'ERROR: LeakSanitizer' "$out"; then
            if grep -q '^\[  FAILED  \]' "$out" && [ "$STRICT" != 1 ]; then
                verdict=tolerated
            else
                verdict=leak
            fi
        fi
        case "$verdict" in
        crash | hang | leak)
            bad=$((bad + 1))
            cp "$out" "$LOGS/$name.$n.log"
            printf '  %s: allocation %d failing: %s (exit %d), %s\n' \
                "$name" "$n" "$verdict" "$rc" "$LOGS/$name.$n.log"
            ;;
        tolerated) tolerated=$((tolerated + 1)) ;;
        esac
    done
    printf '%-32s %6d allocations, %5d runs (step %d), %3d bad, %3d leaks after a failed assertion, %4d s\n' \
        "$name" "$count" "$runs" "$step" "$bad" "$tolerated" $((SECONDS - t0))
    total_runs=$((total_runs + runs))
    total_bad=$((total_bad + bad))
    total_tolerated=$((total_tolerated + tolerated))
    [ "$bad" -eq 0 ] || broken+=("$name")
done

echo
[ "${#broken[@]}" -eq 0 ] || printf 'failing: %s\n' "${broken[*]}"
printf 'torture: %d runs in %d s, %d leaks after a failed assertion\n' \
    "$total_runs" $((SECONDS - t_all)) "$total_tolerated"
printf 'torture: %d passed, %d failed\n' $((total_runs - total_bad)) "$total_bad"
[ "$total_bad" -eq 0 ] && [ "$total_runs" -gt 0 ]
