#!/usr/bin/env bash
# What keeping the inbox bounded costs (svc/inbox_retention.h): writes
# INBOX_PRUNE_ROWS (1,000,000) claims older than the retention into
# order_db.processed_messages of a running stack (`make run`, or RUN_DIR=...),
# lets the order service's job delete them, and prints the rate and the CPU
# it took, MariaDB's and the order service's, per row deleted and per order
# (about nine claims per order). Writes build/bench/inbox-prune.txt.
#
#   make run && make bench-inbox-prune
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
. scripts/lib/common.sh

ROWS="${INBOX_PRUNE_ROWS:-1000000}"
CLAIMS_PER_ORDER="${CLAIMS_PER_ORDER:-9}"
OUT="${INBOX_PRUNE_OUT:-build/bench/inbox-prune.txt}"
DB=order_db
# the e2e tests' claims are marked the same way: a type no service emits
TYPE=BenchRetentionEvent

sqlq() { mariadb --no-defaults -uroot --socket="$MYSQL_SOCKET" -N -B "$DB" -e "$1"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pid_of() {
    local f="$PID_DIR/$1.pid"
    [[ -s "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null || die "$1 is not running (RUN_DIR=$RUN_DIR): make run first"
    cat "$f"
}
left() { sqlq "SELECT COUNT(*) FROM processed_messages WHERE event_type='$TYPE'"; }

db_pid="$(pid_of mariadb)"
svc_pid="$(pid_of order-service)"
hz="$(getconf CLK_TCK)"
cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"

note "writing $ROWS claims processed 9 days ago into $DB.processed_messages"
# UUIDv7-shaped ids of 9 days ago, one millisecond apart (sequence engine)
sqlq "SET @t := (UNIX_TIMESTAMP(NOW(3)) - 9 * 86400) * 1000;
      INSERT INTO processed_messages (event_id, event_type, topic, processed_at)
      SELECT CONCAT(LPAD(HEX((@t + seq) >> 16), 8, '0'), '-', LPAD(HEX((@t + seq) & 65535), 4, '0'),
                    '-7000-8000-', LPAD(HEX(seq), 12, '0')),
             '$TYPE', 'bench.retention', NOW(6) - INTERVAL 9 DAY
      FROM seq_1_to_$ROWS"
total="$(sqlq "SELECT COUNT(*) FROM processed_messages")"
note "$total claims in the table; waiting for the order service's retention job"

# the job wakes every INBOX_PRUNE_INTERVAL_MS (10 s): start the clock at its first delete
deadline=$((SECONDS + 60))
while [[ "$(left)" -ge "$ROWS" ]]; do
    ((SECONDS < deadline)) || die "nothing deleted within 60 s: is INBOX_RETENTION_HOURS 0?"
    sleep 0.2
done
t0="$(date +%s.%N)"
db0="$(ticks "$db_pid")" svc0="$(ticks "$svc_pid")" n0="$(left)"
while [[ "$(left)" -gt 0 ]]; do
    sleep 0.5
done
t1="$(date +%s.%N)"
# InnoDB purges the deleted rows in the background afterwards: count that
# too (its undo history back to where it was, at most 120 s)
history() {
    sqlq "SELECT COUNT FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'"
}
deadline=$((SECONDS + 120))
while [[ "$(history)" -gt 1000 ]] && ((SECONDS < deadline)); do
    sleep 0.5
done
db1="$(ticks "$db_pid")" svc1="$(ticks "$svc_pid")"

mkdir -p "$(dirname "$OUT")"
awk -v n="$n0" -v t0="$t0" -v t1="$t1" -v db="$((db1 - db0))" -v svc="$((svc1 - svc0))" \
    -v hz="$hz" -v per="$CLAIMS_PER_ORDER" -v cpu="$cpu" 'BEGIN {
    s = t1 - t0; dbus = db / hz * 1e6 / n; svus = svc / hz * 1e6 / n
    printf "inbox retention: %d claims deleted in %.1f s: %.0f rows/s (CPU: %s)\n", n, s, n / s, cpu
    printf "  MariaDB       %6.2f us CPU per row (its purge included)   %.3f ms per order (%d claims)\n", dbus, dbus * per / 1000, per
    printf "  order service  %6.2f us CPU per row                        %.3f ms per order\n", svus, svus * per / 1000
    printf "  at 1000 orders/s: %d rows/s to delete, %.3f cores\n", 1000 * per, (dbus + svus) * per * 1000 / 1e6
}' | tee "$OUT"
