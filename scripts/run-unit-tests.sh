#!/usr/bin/env bash
# Runs every test_* binary in DIR (cmocka), shows their output and ends with
# one line "N passed, N failed" counting tests. Exit 1 when a test failed, a
# binary crashed or timed out, or no test ran at all.
#
#   scripts/run-unit-tests.sh build/san/tests
#   UNIT_TEST_WRAPPER="valgrind --error-exitcode=99" UNIT_TEST_LABEL=valgrind \
#       scripts/run-unit-tests.sh build/tests
#
# UNIT_TEST_WRAPPER: a command each binary runs under (split on spaces);
# UNIT_TEST_LABEL: one word put before the closing line ("valgrind: N passed, ...");
# UNIT_TEST_TIMEOUT: seconds per binary (300).
#
# A binary that exits non-zero without a cmocka failure count (a crash, an
# ASan/UBSan report, a timeout) counts as one failed test.
set -uo pipefail

DIR="${1:-}"
TIMEOUT_S="${UNIT_TEST_TIMEOUT:-300}"
read -r -a WRAPPER <<<"${UNIT_TEST_WRAPPER:-}"
LABEL="${UNIT_TEST_LABEL:+$UNIT_TEST_LABEL: }"
[ -n "$DIR" ] && [ -d "$DIR" ] || {
    echo "usage: $0 DIR (a directory of test_* binaries)" >&2
    exit 2
}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$(cd "$DIR" && pwd)"

passed=0
failed=0
broken=()
out="$(mktemp)"

# count_lines FILE KIND: sum of N over cmocka's "[  KIND  ] N test(s)" lines
count_lines() {
    sed -n "s/^\[  $2  \] \([0-9][0-9]*\) test(s).*/\1/p" "$1" | awk '{ n += $1 } END { print n + 0 }'
}

for t in "$DIR"/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    name="$(basename "$t")"
    printf '\n=== %s ===\n' "$name"
    # plain-text cmocka output (not XML/TAP), run from the repo root
    (cd "$ROOT" && CMOCKA_MESSAGE_OUTPUT=stdout timeout "$TIMEOUT_S" "${WRAPPER[@]}" "$t") 2>&1 | tee "$out"
    rc="${PIPESTATUS[0]}"
    p="$(count_lines "$out" PASSED)"
    f="$(count_lines "$out" FAILED)"
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        failed=$((failed + 1))
        broken+=("$name (exit $rc)")
    elif [ "$rc" -ne 0 ]; then
        broken+=("$name")
    fi
done
rm -f "$out"

echo
if [ "${#broken[@]}" -gt 0 ]; then
    printf 'failing: %s\n' "${broken[*]}"
fi
if [ $((passed + failed)) -eq 0 ]; then
    echo "no unit test ran in $DIR" >&2
fi
printf '%s%d passed, %d failed\n' "$LABEL" "$passed" "$failed"
[ "$failed" -eq 0 ] && [ $((passed + failed)) -gt 0 ]
