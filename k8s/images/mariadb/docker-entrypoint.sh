#!/bin/sh
# Entrypoint of the MariaDB image, with the contract of mysql:8.0's:
#   - MYSQL_ROOT_PASSWORD (or MYSQL_ALLOW_EMPTY_PASSWORD, MYSQL_RANDOM_ROOT_PASSWORD) and the
#     optional MYSQL_DATABASE, MYSQL_USER + MYSQL_PASSWORD (each also as <NAME>_FILE);
#   - on an empty /var/lib/mysql: create the system tables (mariadbd --bootstrap), start the
#     server without networking, set root's password (root@localhost and root@'%'), create
#     the database and the user, run /docker-entrypoint-initdb.d/*.sql, *.sql.gz, *.sh in
#     order (SQL as root, in MYSQL_DATABASE when set), stop it;
#   - then run mariadbd in the foreground on port 3306, all addresses, reading
#     /etc/mysql/my.cnf and with it /etc/mysql/conf.d/*.cnf.
# Arguments: none or `mysqld ARGS` / `mariadbd ARGS` / `-ARGS...`: ARGS go to mariadbd; any
# other command is run as is (e.g. `mysql -h saga-mysql -uroot -p`).
# shellcheck shell=dash disable=SC2016,SC2086,SC3060
set -eu

DATADIR=/var/lib/mysql
SOCKET=/var/run/mysqld/mysqld.sock
SHARE=/usr/share/mysql
SERVER="mariadbd --defaults-file=/etc/mysql/my.cnf --datadir=$DATADIR --socket=$SOCKET"

note() { printf '%s [Note] [Entrypoint]: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$*"; }
die() {
    printf '%s [ERROR] [Entrypoint]: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$*" >&2
    exit 1
}

if [ $# -gt 0 ]; then
    case "$1" in
    -*) ;;
    mysqld | mariadbd) shift ;;
    *) exec "$@" ;;
    esac
fi

# NAME_FILE: NAME's value read from a file (Kubernetes secrets mounted as files)
file_env() {
    local file
    eval "file=\${$1_FILE:-}"
    [ -n "$file" ] && eval "$1=\$(cat \"\$file\")"
    return 0
}

# sql_string VALUE: VALUE as a single-quoted SQL literal
sql_string() {
    local s
    s=${1//\\/\\\\}
    s=${s//\'/\'\'}
    printf "'%s'" "$s"
}

# root's SQL session over the socket (CLIENT_PW: empty until setup_sql has set the password)
CLIENT_PW=""
client() { MYSQL_PWD="$CLIENT_PW" mariadb --no-defaults --protocol=socket --socket="$SOCKET" -uroot "$@"; }

setup_sql() {
    local pw user_pw
    pw=$(sql_string "$ROOT_PW")
    cat <<SQL
SET @@SESSION.SQL_LOG_BIN=0;
DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';
DELETE FROM mysql.proxies_priv WHERE User = 'root' AND Host <> 'localhost';
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY $pw;
CREATE USER 'root'@'%' IDENTIFIED BY $pw;
GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
GRANT PROXY ON ''@'%' TO 'root'@'%' WITH GRANT OPTION;
SQL
    if [ -n "${MYSQL_DATABASE:-}" ]; then
        printf 'CREATE DATABASE IF NOT EXISTS `%s`;\n' "$MYSQL_DATABASE"
    fi
    if [ -n "${MYSQL_USER:-}" ] && [ -n "${MYSQL_PASSWORD:-}" ]; then
        user_pw=$(sql_string "$MYSQL_PASSWORD")
        printf "CREATE USER %s@'%%' IDENTIFIED BY %s;\n" "$(sql_string "$MYSQL_USER")" "$user_pw"
        if [ -n "${MYSQL_DATABASE:-}" ]; then
            printf "GRANT ALL ON \`%s\`.* TO %s@'%%';\n" "$MYSQL_DATABASE" "$(sql_string "$MYSQL_USER")"
        fi
    fi
}

init_datadir() {
    local f pid i db=""
    if [ -z "${MYSQL_ROOT_PASSWORD:-}" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] &&
        [ -z "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
        die "Database is uninitialized and password option is not specified
    You need to specify one of the following as an environment variable:
    - MYSQL_ROOT_PASSWORD
    - MYSQL_ALLOW_EMPTY_PASSWORD
    - MYSQL_RANDOM_ROOT_PASSWORD"
    fi
    if [ "${MYSQL_USER:-}" = root ]; then
        die "MYSQL_USER=root: use MYSQL_ROOT_PASSWORD for root"
    fi
    ROOT_PW="${MYSQL_ROOT_PASSWORD:-}"
    if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
        ROOT_PW=$(head -c 24 /dev/urandom | base64 | tr -d '\n')
        note "GENERATED ROOT PASSWORD: $ROOT_PW"
    fi

    note "Initializing database files in $DATADIR"
    {
        printf 'CREATE DATABASE IF NOT EXISTS mysql;\nUSE mysql;\nSET @auth_root_socket=NULL;\n'
        cat "$SHARE/mysql_system_tables.sql" "$SHARE/mysql_performance_tables.sql" \
            "$SHARE/mysql_system_tables_data.sql" "$SHARE/fill_help_tables.sql" \
            "$SHARE/maria_add_gis_sp_bootstrap.sql" "$SHARE/mysql_sys_schema.sql"
    } | $SERVER --bootstrap --skip-networking --log-warnings=0 --enforce-storage-engine="" \
        --max_allowed_packet=8M --net_buffer_length=16K "$@" ||
        die "creating the system tables failed"

    note "Starting temporary server"
    $SERVER --skip-networking "$@" &
    pid=$!
    i=0
    until client -e 'SELECT 1' >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || die "the temporary server exited"
        i=$((i + 1))
        [ "$i" -lt 120 ] || die "the temporary server did not start in 60 s"
        sleep 0.5
    done

    setup_sql | client || die "setting the root password failed"
    CLIENT_PW=$ROOT_PW
    [ -n "${MYSQL_DATABASE:-}" ] && db="--database=$MYSQL_DATABASE"
    for f in /docker-entrypoint-initdb.d/*; do
        [ -e "$f" ] || continue
        note "$0: running $f"
        # shellcheck source=/dev/null
        case "$f" in
        *.sh) . "$f" ;;
        *.sql) client $db <"$f" || die "$f failed" ;;
        *.sql.gz) { gunzip -c "$f" | client $db; } || die "$f failed" ;;
        *) note "$0: ignoring $f" ;;
        esac
    done

    note "Stopping temporary server"
    kill "$pid"
    wait "$pid" || die "the temporary server did not stop cleanly"
    note "MariaDB init process done. Ready for start up."
}

for v in MYSQL_ROOT_PASSWORD MYSQL_DATABASE MYSQL_USER MYSQL_PASSWORD; do file_env "$v"; done

if [ ! -d "$DATADIR/mysql" ]; then
    init_datadir "$@"
fi

exec $SERVER --port=3306 --bind-address=0.0.0.0 "$@"
