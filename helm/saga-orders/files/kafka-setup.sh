#!/bin/sh
# Kafka's SCRAM credentials and ACLs for the release (docs/kubernetes.md, "Kafka security"),
# run by Job <fullname>-kafka-setup-<revision> on every install and upgrade, in the Kafka
# image. It connects as User:admin with SASL PLAIN to the INTERNAL listener, whose password
# the brokers have in their configuration: it works before any SCRAM credential exists, and
# on storage formatted before authentication was turned on. Idempotent.
#
#   /opt/saga/users.txt  one line per principal: NAME keep|delete; a kept one gets the
#                        SCRAM-SHA-512 credential of password $PASSWORD_<NAME> (set again
#                        every run: that is how a changed password takes effect)
#   /opt/saga/acls.txt   the ACLs wanted: PRINCIPAL RESOURCE_TYPE PATTERN_TYPE NAME OPERATION
#
# Of the principals in users.txt, ALLOW ACLs for host * that acls.txt does not list are
# removed; the others (another host, DENY, other principals) are left alone. Environment:
# BOOTSTRAP (host:9094), ADMIN_PASSWORD, PASSWORD_<NAME>, SETUP_WAIT_S (600: how long to
# wait for the brokers), SETUP_DIR (/opt/saga), KAFKA_BIN (/opt/kafka/bin). Passwords never
# reach the log.
# shellcheck shell=dash
set -eu
set -f # resource names such as * are not file patterns

BIN="${KAFKA_BIN:-/opt/kafka/bin}"
DIR="${SETUP_DIR:-/opt/saga}"
WORK=/tmp/kafka-setup
WAIT_S="${SETUP_WAIT_S:-600}"

note() { printf 'kafka-setup: %s\n' "$*"; }
die() {
    note "error: $*" >&2
    exit 1
}

umask 077
mkdir -p "$WORK"
cat >"$WORK/admin.properties" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$ADMIN_PASSWORD";
request.timeout.ms=15000
default.api.timeout.ms=30000
PROPS

# tool NAME ARGS...: a Kafka command line tool as admin; its output in $WORK/out, shown
# (passwords masked) when it fails
tool() {
    local name="$1" rc=0
    shift
    "$BIN/$name" --bootstrap-server "$BOOTSTRAP" --command-config "$WORK/admin.properties" \
        "$@" </dev/null >"$WORK/out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        sed -e 's/password=[^],]*/password=***/g' "$WORK/out" | grep -v '^[[:space:]]*at ' | tail -5 >&2
    fi
    return "$rc"
}

# ---------------------------------------------------------------- the brokers

t0=$(date +%s)
until tool kafka-configs.sh --describe --entity-type users 2>"$WORK/err"; do
    [ $(($(date +%s) - t0)) -lt "$WAIT_S" ] || die "no answer from $BOOTSTRAP in ${WAIT_S}s: $(tail -1 "$WORK/err")"
    note "waiting for Kafka at $BOOTSTRAP ($(($(date +%s) - t0)) s): $(tail -1 "$WORK/err")"
    sleep 5
done
cp "$WORK/out" "$WORK/users.now"
note "Kafka answers at $BOOTSTRAP"

# ---------------------------------------------------------------- SCRAM credentials

while read -r user want; do
    [ -n "$user" ] || continue
    if [ "$want" = keep ]; then
        eval "password=\${PASSWORD_$user:-}"
        [ -n "$password" ] || die "no password for $user (PASSWORD_$user)"
        tool kafka-configs.sh --alter --entity-type users --entity-name "$user" \
            --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]" ||
            die "cannot set the credential of $user"
        note "User:$user: SCRAM-SHA-512 credential set"
    elif grep -q "user-principal '$user'" "$WORK/users.now"; then
        tool kafka-configs.sh --alter --entity-type users --entity-name "$user" \
            --delete-config SCRAM-SHA-512 || die "cannot delete the credential of $user"
        note "User:$user: SCRAM credential deleted"
    fi
done <"$DIR/users.txt"

# ---------------------------------------------------------------- ACLs

managed="$(awk '{ printf "%s%s", (NR > 1 ? " " : ""), $1 }' "$DIR/users.txt")"
tool kafka-acls.sh --list || die "cannot list the ACLs"
# kafka-acls.sh --list: a "ResourcePattern(resourceType=T, name=N, patternType=P)" line,
# then one "(principal=User:U, host=H, operation=O, permissionType=A)" line per ACL
awk -v managed=" $managed" '
/ResourcePattern\(resourceType=/ {
    s = $0; sub(/.*resourceType=/, "", s)
    type = s; sub(/,.*/, "", type)
    name = s; sub(/.*, name=/, "", name); sub(/, patternType=.*/, "", name)
    pattern = s; sub(/.*patternType=/, "", pattern); sub(/\).*/, "", pattern)
    next
}
/\(principal=User:/ {
    s = $0
    user = s; sub(/.*principal=User:/, "", user); sub(/,.*/, "", user)
    host = s; sub(/.*host=/, "", host); sub(/,.*/, "", host)
    op = s; sub(/.*operation=/, "", op); sub(/,.*/, "", op)
    perm = s; sub(/.*permissionType=/, "", perm); sub(/\).*/, "", perm)
    if (host == "*" && perm == "ALLOW" && index(managed " ", " " user " ") > 0)
        print user, type, pattern, name, op
}' "$WORK/out" | sort -u >"$WORK/acls.now"
grep -v '^[[:space:]]*$' "$DIR/acls.txt" | sort -u >"$WORK/acls.want"
# minus A B: the lines of B that A does not have (not grep -f: an empty pattern file
# matches every line in busybox)
minus() { awk -v a="$1" 'FILENAME == a { have[$0] = 1; next } !($0 in have)' "$1" "$2"; }
minus "$WORK/acls.now" "$WORK/acls.want" >"$WORK/acls.missing"
minus "$WORK/acls.want" "$WORK/acls.now" >"$WORK/acls.stale"

# group FILE: one line per kafka-acls.sh call: PRINCIPALS TYPE PATTERN OPS NAME... where
# every principal takes every operation on every resource (a cross product); PRINCIPALS and
# OPS are comma-separated
group() {
    awk '{ key = $1 " " $2 " " $3 " " $4; ops[key] = ops[key] (ops[key] == "" ? "" : ",") $5 }
    END {
        for (key in ops) {
            split(key, f, " ")
            g = f[1] " " f[2] " " f[3] " " ops[key]
            names[g] = names[g] " " f[4]
        }
        for (g in names) {
            split(g, f, " ")
            r = f[2] " " f[3] " " f[4] names[g]
            who[r] = who[r] (who[r] == "" ? "" : ",") f[1]
        }
        for (r in who) print who[r], r
    }' "$1"
}

# apply add|remove: one kafka-acls.sh call per line of group's output on stdin
apply() {
    local verb="$1" principals type pattern ops names p op n
    while read -r principals type pattern ops names; do
        set -- "--$verb" --resource-pattern-type "$pattern"
        [ "$verb" = add ] || set -- "$@" --force
        for p in $(printf '%s' "$principals" | tr ',' ' '); do
            set -- "$@" --allow-principal "User:$p"
        done
        for op in $(printf '%s' "$ops" | tr ',' ' '); do
            set -- "$@" --operation "$(printf '%s' "$op" | tr -d _)"
        done
        case "$type" in
        TOPIC) for n in $names; do set -- "$@" --topic "$n"; done ;;
        GROUP) for n in $names; do set -- "$@" --group "$n"; done ;;
        CLUSTER) set -- "$@" --cluster ;;
        *) die "unknown resource type $type" ;;
        esac
        tool kafka-acls.sh "$@" || die "kafka-acls.sh --$verb for $principals failed"
        note "$verb: $principals: $ops on $type $pattern:$names"
    done
}

# CLUSTER and GROUP before TOPIC: a service's create-topics passes once its topic ACLs
# exist, and its sidecar, which starts then, finds its group's ACL in place
group "$WORK/acls.stale" | sort -k2,2 | apply remove
group "$WORK/acls.missing" | sort -k2,2 | apply add
note "$(wc -l <"$WORK/acls.want") ACLs of $managed in place:" \
    "$(wc -l <"$WORK/acls.missing") added, $(wc -l <"$WORK/acls.stale") removed," \
    "$(($(date +%s) - t0)) s in all"
