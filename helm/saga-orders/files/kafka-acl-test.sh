#!/bin/sh
# helm test kafka-acl-test: Kafka's authentication and ACLs bite (docs/kubernetes.md,
# "Kafka security"). In the Kafka image, against the client listener (BOOTSTRAP), as the
# order and payment services' principals (ORDER_PASSWORD, PAYMENT_PASSWORD):
#   1. order lists the topics it may describe: order.events, which it produces, but not
#      payment.dlq (its credential works, and the others' topics are hidden);
#   2. order may not produce to payment.dlq, Payment's dead letters;
#   3. payment may not produce to inventory.events (a forged InventoryReserved: a topic
#      it neither writes nor reads; it reads order.events, which re-drive may write);
#   4. order may not read payment.commands, which it writes and Payment reads;
#   5. with DLQ_REDRIVE=false (kafka.auth.dlqRedrive), order may not produce to
#      payment.events either, which it consumes (skipped otherwise: re-drive writes there);
#   6. a client without SASL gets nothing (no topic list);
#   7. order with a wrong password is refused.
# 2-5 must fail with TopicAuthorizationException, 7 with SaslAuthenticationException.
# Prints each check and its evidence; exits 1 when any did not hold.
# shellcheck shell=dash
set -eu

BIN="${KAFKA_BIN:-/opt/kafka/bin}"
WORK=/tmp/kafka-acl-test
failed=0

umask 077
mkdir -p "$WORK"

# props FILE PROTOCOL [USER PASSWORD]: client settings; with a user, SCRAM-SHA-512
props() {
    {
        printf 'security.protocol=%s\n' "$2"
        printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=10000\n'
        if [ -n "${3:-}" ]; then
            printf 'sasl.mechanism=SCRAM-SHA-512\n'
            printf 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";\n' "$3" "$4"
        fi
    } >"$1"
}
props "$WORK/order.properties" SASL_PLAINTEXT order "$ORDER_PASSWORD"
props "$WORK/payment.properties" SASL_PLAINTEXT payment "$PAYMENT_PASSWORD"
props "$WORK/wrong.properties" SASL_PLAINTEXT order "not-$ORDER_PASSWORD"
props "$WORK/none.properties" PLAINTEXT

# run NAME CMD...: CMD's output (both streams) in $WORK/NAME.out; its exit status in $rc
run() {
    local name="$1"
    shift
    rc=0
    timeout 90 "$@" </dev/null >"$WORK/$name.out" 2>&1 || rc=$?
}

# evidence NAME PATTERN: the first line of NAME's output matching PATTERN
evidence() { grep -m1 -E "$2" "$WORK/$1.out" | sed 's/^[[:space:]]*//' | cut -c1-200; }

pass() { printf 'PASS  %s\n      %s\n' "$1" "$2"; }
fail() {
    printf 'FAIL  %s\n' "$1"
    sed 's/^/      | /' "$WORK/$2.out" | grep -v '^      | [[:space:]]*at ' | tail -8
    failed=1
}

printf 'kafka-acl-test: %s, as User:order and User:payment\n' "$BOOTSTRAP"

run list "$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" \
    --command-config "$WORK/order.properties" --list
if [ "$rc" -eq 0 ] && grep -qx 'order.events' "$WORK/list.out" &&
    ! grep -qx 'payment.dlq' "$WORK/list.out"; then
    pass "order lists its topics, not payment.dlq (authenticated)" \
        "$(grep -v '^\[' "$WORK/list.out" | tr '\n' ' ')"
else
    fail "order lists its topics, not payment.dlq (authenticated; exit $rc)" list
fi

# denied_produce USER TOPIC WHAT: USER's message to TOPIC is refused for want of an ACL
denied_produce() {
    local name="produce-$1-$2"
    rc=0
    printf 'kafka-acl-test\n' | timeout 90 "$BIN/kafka-console-producer.sh" \
        --bootstrap-server "$BOOTSTRAP" --producer.config "$WORK/$1.properties" --topic "$2" \
        --producer-property max.block.ms=15000 >"$WORK/$name.out" 2>&1 || rc=$?
    if grep -q 'TopicAuthorizationException' "$WORK/$name.out"; then
        pass "$1 may not produce to $2 ($3)" "$(evidence "$name" 'TopicAuthorizationException')"
    else
        fail "$1 may not produce to $2 ($3): no TopicAuthorizationException, exit $rc" "$name"
    fi
}

denied_produce order payment.dlq "Payment's dead letters"
denied_produce payment inventory.events "a forged InventoryReserved"

run consume "$BIN/kafka-console-consumer.sh" --bootstrap-server "$BOOTSTRAP" \
    --consumer.config "$WORK/order.properties" --topic payment.commands --partition 0 \
    --offset earliest --max-messages 1 --timeout-ms 20000
if grep -q 'TopicAuthorizationException' "$WORK/consume.out"; then
    pass "order may not read payment.commands" "$(evidence consume 'TopicAuthorizationException')"
else
    fail "order may not read payment.commands (no TopicAuthorizationException; exit $rc)" consume
fi

if [ "${DLQ_REDRIVE:-true}" = false ]; then
    denied_produce order payment.events "it consumes it; no DLQ re-drive"
else
    printf 'SKIP  order may not produce to payment.events: kafka.auth.dlqRedrive lets it (re-drive)\n'
fi

run anonymous "$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" \
    --command-config "$WORK/none.properties" --list
if [ "$rc" -ne 0 ] && ! grep -q '^order\.events$' "$WORK/anonymous.out"; then
    pass "a client without SASL gets no topic list (exit $rc)" \
        "$(evidence anonymous 'Exception|Timed out|timed out|Error' || true)"
else
    fail "a client without SASL gets no topic list (exit $rc)" anonymous
fi

run wrong "$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" \
    --command-config "$WORK/wrong.properties" --list
if [ "$rc" -ne 0 ] && grep -q 'SaslAuthenticationException' "$WORK/wrong.out"; then
    pass "order with a wrong password is refused" "$(evidence wrong 'SaslAuthenticationException')"
else
    fail "order with a wrong password is refused (exit $rc)" wrong
fi

if [ "$failed" -ne 0 ]; then
    printf 'kafka-acl-test: FAILED\n'
    exit 1
fi
printf 'kafka-acl-test: every check passed\n'
