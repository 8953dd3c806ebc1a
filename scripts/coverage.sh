#!/usr/bin/env bash
# Line coverage of the unit tests (make coverage): collects the gcov data of a
# COV=1 build with lcov, writes OUT/coverage.info, an HTML report in OUT/html
# and the table in OUT/summary.txt, prints the table and fails when a
# component is under its floor.
#
#   scripts/coverage.sh build/cov build/coverage tests/coverage-floors
#
# FLOORS has one component a line: NAME FLOOR PATH_PREFIX... (percent of lines;
# a source counts for the first component one of whose prefixes it starts with;
# # starts a comment).
# Every source compiled into the tests' archives counts, run or not; main.c
# files are not in them (they need the stack: the end-to-end tests cover them).
set -euo pipefail

COV="${1:?usage: $0 COV_BUILD_DIR OUT_DIR FLOORS}"
OUT="${2:?}"
FLOORS="${3:?}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$OUT"

# (lcov 1.16's geninfo warns that it redefines its own subroutines: noise)
lcov_q() {
    lcov --quiet --rc lcov_branch_coverage=0 "$@" 2> >(grep -v '^Subroutine .* redefined at' >&2)
}
# --initial: the files no test reached count with all their lines at zero
lcov_q --capture --initial --directory "$COV/obj" --base-directory "$ROOT" \
    --output-file "$OUT/base.info"
lcov_q --capture --directory "$COV/obj" --base-directory "$ROOT" --output-file "$OUT/tests.info"
lcov_q --add-tracefile "$OUT/base.info" --add-tracefile "$OUT/tests.info" \
    --output-file "$OUT/all.info"
# our sources, not the system headers, nor the tests themselves
lcov_q --extract "$OUT/all.info" "$ROOT/*" --output-file "$OUT/ours.info"
lcov_q --remove "$OUT/ours.info" "$ROOT/tests/unit/*" --output-file "$OUT/coverage.info"
rm -f "$OUT/base.info" "$OUT/tests.info" "$OUT/all.info" "$OUT/ours.info"
genhtml --quiet --prefix "$ROOT" --output-directory "$OUT/html" "$OUT/coverage.info" >/dev/null

# file: per source "path lines_hit lines_found" -> per component, against the floors
awk -v root="$ROOT/" '
    FNR == NR {
        sub(/#.*/, "")
        if (NF == 0) next
        name[++nc] = $1; floor[$1] = $2
        for (i = 3; i <= NF; i++) { np++; pfx[np] = $i; owner[np] = $1 }
        next
    }
    /^SF:/ { sf = substr($0, 4); sub("^" root, "", sf); next }
    /^LF:/ { lf = substr($0, 4) + 0; next }
    /^LH:/ { lh = substr($0, 4) + 0; next }
    /^end_of_record/ {
        c = "(other)"
        for (i = 1; i <= np; i++)
            if (index(sf, pfx[i]) == 1) { c = owner[i]; break }
        hit[c] += lh; found[c] += lf; files[c]++
        all_hit += lh; all_found += lf
    }
    END {
        bad = 0
        printf "%-14s %7s %7s %8s %6s\n", "component", "lines", "hit", "coverage", "floor"
        for (k = 1; k <= nc; k++) {
            c = name[k]
            pct = found[c] ? 100 * hit[c] / found[c] : 0
            ok = pct + 1e-9 >= floor[c]
            printf "%-14s %7d %7d %7.1f%% %5d%%%s\n", c, found[c], hit[c], pct, floor[c], ok ? "" : "  UNDER THE FLOOR"
            if (!ok) bad++
        }
        if (found["(other)"])
            printf "%-14s %7d %7d %7.1f%%\n", "(other)", found["(other)"], hit["(other)"], 100 * hit["(other)"] / found["(other)"]
        printf "%-14s %7d %7d %7.1f%%\n", "all", all_found, all_hit, all_found ? 100 * all_hit / all_found : 0
        exit bad ? 1 : 0
    }' "$FLOORS" "$OUT/coverage.info" | tee "$OUT/summary.txt"
rc="${PIPESTATUS[0]}"
echo "report: $OUT/html/index.html"
if [ "$rc" -ne 0 ]; then
    echo "coverage: under a floor of $FLOORS" >&2
fi
exit "$rc"
