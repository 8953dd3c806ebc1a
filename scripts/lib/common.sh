# shellcheck shell=bash
# Shared by scripts/infra.sh and scripts/stack.sh (sourced, never run): the
# directory layout, the port defaults and the background-process helpers.
#
# Layout (all under RUN_DIR, default <repo>/run):
#   logs/<name>.log   output of every process      pids/<name>.pid   its pid
#   mariadb/ redis/ kafka/                         data of the infrastructure

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="${RUN_DIR:-$ROOT/run}"
case "$RUN_DIR" in /*) ;; *) RUN_DIR="$ROOT/$RUN_DIR" ;; esac
DEPS_DIR="${DEPS_DIR:-$ROOT/.deps}"
LOG_DIR="$RUN_DIR/logs"
PID_DIR="$RUN_DIR/pids"

MYSQL_PORT="${MYSQL_PORT:-3306}"
REDIS_PORT="${REDIS_PORT:-6379}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
# shellcheck disable=SC2034  # used by the scripts that source this file
MYSQL_SOCKET="$RUN_DIR/mariadb/mysqld.sock"
# shellcheck disable=SC2034
REDIS_SOCKET="$RUN_DIR/redis/redis.sock"
# shellcheck disable=SC2034
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"

die() {
    printf '%s: error: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

note() { printf '%s: %s\n' "${0##*/}" "$*"; }

ensure_dirs() {
    mkdir -p "$LOG_DIR" "$PID_DIR" "$@"
}

# secret NAME: the local stack's secret NAME (RUN_DIR/secrets/NAME, mode
# 600), 48 random characters made the first time it is asked for: no
# default passwords, and the same ones across restarts
secret() {
    local dir="$RUN_DIR/secrets" value
    if [ ! -s "$dir/$1" ]; then
        mkdir -p "$dir" && chmod 700 "$dir"
        value="$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 48)" || true
        [ "${#value}" -eq 48 ] || die "cannot make the secret $1"
        (umask 077 && printf '%s' "$value" >"$dir/$1.tmp") && mv "$dir/$1.tmp" "$dir/$1"
    fi
    cat "$dir/$1"
}

# pid_of NAME: the pid recorded for NAME (empty when none)
pid_of() {
    local f="$PID_DIR/$1.pid"
    [ -f "$f" ] && tr -dc '0-9' <"$f"
    return 0
}

# is_alive NAME MARKER: NAME's recorded process exists and its command line
# contains MARKER (guards against a recycled pid belonging to something else)
is_alive() {
    local pid
    pid="$(pid_of "$1")"
    [ -n "$pid" ] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    [ -z "${2:-}" ] && return 0
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# port_busy PORT: something accepts TCP connections on 127.0.0.1:PORT
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# spawn NAME CMD...: runs CMD detached from this shell (own session, stdin from
# /dev/null, output appended to SPAWN_LOG, default logs/NAME.log) and records its
# pid. (This shell has no job control, so setsid execs in place: $! is CMD's pid.)
spawn() {
    local name="$1" log="${SPAWN_LOG:-$LOG_DIR/$1.log}"
    shift
    printf '\n===== %s start %s =====\n' "$name" "$(date '+%F %T')" >>"$log"
    setsid nohup "$@" </dev/null >>"$log" 2>&1 &
    echo "$!" >"$PID_DIR/$name.pid"
}

# stop_pid NAME [TIMEOUT_S] [MARKER]: SIGTERM, wait up to TIMEOUT_S (10), then
# SIGKILL; removes the pid file. Quiet when NAME is not running.
stop_pid() {
    local name="$1" timeout="${2:-10}" marker="${3:-}" pid i
    pid="$(pid_of "$name")"
    if [ -n "$pid" ] && is_alive "$name" "$marker"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < timeout * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            note "$name (pid $pid) did not stop in ${timeout}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
        note "stopped $name"
    fi
    rm -f "$PID_DIR/$name.pid"
}

# wait_for TIMEOUT_S WHAT CMD...: retries CMD every 0.5 s until it succeeds;
# returns 1 after TIMEOUT_S
wait_for() {
    local timeout="$1" what="$2" deadline
    shift 2
    deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            printf '%s: %s not ready after %ss\n' "${0##*/}" "$what" "$timeout" >&2
            return 1
        fi
        sleep 0.5
    done
}

# show_log_tail FILE [LINES]: the end of a log, for failure reports
show_log_tail() {
    local f="$1" n="${2:-40}"
    [ -f "$f" ] || return 0
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2
    printf -- '-----\n' >&2
}
