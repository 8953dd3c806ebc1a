"""The fault scenarios. Each: a burst of orders while a part of the system
fails, normal conditions restored, every order terminal, then the
invariants (invariants.py) and no new dead letters (every fault here is
transient). Each restores what it changed, also on failure.
"""

import os
import signal
import time

import cluster
import invariants
import order2
from burst import Burst, Scope, statuses, wait_terminal
from cluster import TestFailure, check, log, sql, sql_list, stack

DLQ_TOPICS = tuple(s + ".dlq" for s in cluster.SERVICE_NAMES)
SETTLE_S = 90  # after the fault: until every order is terminal


def new_scope(name):
    """A scope with two products and three carts of small totals."""
    scope = Scope(name)
    a = scope.product("a", 1000, 500)
    b = scope.product("b", 1000, 250)
    return scope, [[(a, 1)], [(b, 2)], [(a, 1), (b, 1)]]


def set_gateway(config):
    """Sets gateway-sim's behaviour through its admin listener, which its slow
    charges cannot hold up (they take the threads of its main port)."""
    res = stack.request("POST", stack.GATEWAY_ADMIN + "/admin/config", config)
    stack.expect_status(res, 200, "gateway /admin/config %r" % (config,))


def dead_letters(scope):
    """topic -> the scope's messages (keyed by its order ids) dead-lettered
    since it began (a topic not created yet counts as empty)."""
    ids = set(scope.ids())
    found = {}
    for topic in DLQ_TOPICS:
        try:
            msgs = stack.kcat_read(topic, scope.start_ms)
        except TestFailure as e:
            if "Unknown topic" not in str(e) and "UNKNOWN_TOPIC" not in str(e):
                raise
            msgs = []
        msgs = [(k, v) for k, v in msgs if k in ids]
        if msgs:
            found[topic] = msgs
    return found


def check_no_dead_letters(scope):
    found = dead_letters(scope)
    check(not found, "nothing dead-lettered for a transient cause, got %s" % {
        t: [v[:160] for _, v in m[:2]] for t, m in found.items()})
    log("no entries for these orders on %s" % ", ".join(DLQ_TOPICS))


def first_confirmed_after(since, scope, carts, limit_s=30.0):
    """Places an order every 2 s until one is CONFIRMED; prints and returns
    the seconds from `since` (time.monotonic()) to that confirmation."""
    deadline = since + limit_s + 30
    placed = []
    next_at = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() >= next_at:
            oid = scope.order("u-%s-probe" % scope.id, carts[0])
            if oid:
                placed.append(oid)
            next_at = time.monotonic() + 2
        if placed and "CONFIRMED" in statuses(placed).values():
            took = time.monotonic() - since
            log("recovery: a new order CONFIRMED %.1f s after the fault ended" % took)
            check(took <= limit_s, "an order confirmed only after %.1f s (limit %.0f s)" % (took, limit_s))
            return took
        time.sleep(0.2)
    raise TestFailure("no new order CONFIRMED within %.0f s of the fault's end" % (deadline - since))


def cancel_delays(ids):
    """order id -> seconds from creation to CANCELLED."""
    rows = sql("SELECT o.order_id, TIMESTAMPDIFF(MICROSECOND, o.created_at, t.created_at) / 1e6 "
               "FROM orders o JOIN saga_transitions t ON t.order_id = o.order_id "
               "AND t.to_status = 'CANCELLED' AND t.from_status <> 'CANCELLED' "
               "WHERE o.order_id IN %s" % sql_list(ids), "order_db")
    return {r[0]: float(r[1]) for r in rows}


def count_payments(ids, status):
    rows = sql("SELECT COUNT(*) FROM payments WHERE status = '%s' AND order_id IN %s"
               % (status, sql_list(ids)), "payment_db")
    return int(rows[0][0])


# ---- a. the payment gateway is down -------------------------------------------------

def gateway_down():
    scope, carts = new_scope("gw")
    pay_s = cluster.deadline_s("SAGA_TIMEOUT_PAYMENT_MS")
    comp_s = cluster.deadline_s("SAGA_TIMEOUT_COMPENSATION_MS")
    cluster.stack_sh("stop", "gateway-sim")
    try:
        burst = Burst(scope, carts).start()
        time.sleep(3)
        burst.stop()
        # the gateway stays down: the deadlines alone must settle every order
        final = wait_terminal(scope, pay_s + comp_s + 15)
    finally:
        cluster.stack_sh("start", "gateway-sim")
    check(set(final.values()) == {"CANCELLED"}, "every order CANCELLED: %r" % set(final.values()))
    delays = cancel_delays(scope.ids())
    limit = pay_s + comp_s + 3  # + scan period and slack
    slow = {o: d for o, d in delays.items() if d > limit}
    log("created -> CANCELLED: max %.1f s (payment deadline %.0f s)" % (max(delays.values()), pay_s))
    check(not slow, "cancelled within %.0f s: %d were not, e.g. %r" % (limit, len(slow), list(slow.items())[:2]))
    invariants.check(scope, timeout_s=SETTLE_S)
    check_no_dead_letters(scope)
    log("payments refunded late (captured once the gateway was back): %d, voided: %d" % (
        count_payments(scope.ids(), "REFUNDED"), count_payments(scope.ids(), "VOIDED")))


# ---- b. MariaDB connections lost, MariaDB restarted -----------------------------------

def kill_service_connections():
    users = sql_list(cluster.SERVICE_NAMES)
    ids = [r[0] for r in sql("SELECT id FROM information_schema.processlist WHERE user IN %s" % users)]
    for cid in ids:
        try:
            sql("KILL CONNECTION %d" % int(cid))
        except TestFailure:
            pass  # it ended by itself meanwhile
    return len(ids)


def mysql_connections_killed():
    scope, carts = new_scope("dbkill")
    burst = Burst(scope, carts).start()
    try:
        time.sleep(1.5)
        n = kill_service_connections()
        t0 = time.monotonic()
        log("killed %d service/sidecar connections" % n)
        check(n > 0, "the services hold connections to kill")
        cluster.wait_all_ready(t0, "connections killed")  # the burst goes on meanwhile
        time.sleep(2)
    finally:
        burst.stop()
    wait_terminal(scope, SETTLE_S)
    check_no_dead_letters(scope)
    invariants.check(scope)


def restart_during_burst(tag, part, label):
    """Stops and starts one infrastructure part in the middle of a burst of
    orders; returns (scope, carts, t0), t0 being when it was back."""
    scope, carts = new_scope(tag)
    burst = Burst(scope, carts).start()
    try:
        time.sleep(1.5)
        log("%s stopped (took %.1f s)" % (label, cluster.stack_sh("stop", part)))
        time.sleep(3)
    finally:
        took = cluster.stack_sh("start", part)
    t0 = time.monotonic()
    log("%s started again (took %.1f s)" % (label, took))
    try:
        cluster.wait_all_ready(t0, "%s restart" % label)  # the burst goes on meanwhile
        time.sleep(2)
    finally:
        burst.stop()
    return scope, carts, t0


def mysql_restarted():
    scope, _, _ = restart_during_burst("dbrestart", "mariadb", "MariaDB")
    wait_terminal(scope, SETTLE_S)
    check_no_dead_letters(scope)
    invariants.check(scope)


# ---- c. the Kafka broker restarts -------------------------------------------------------

def notified_on_kafka(scope, confirmed):
    """Every CONFIRMED order has a NotificationSentEvent on notification.events."""
    def probe():
        seen = set()
        for key, value in stack.kcat_read("notification.events", scope.start_ms):
            if key in confirmed and "NotificationSentEvent" in value:
                seen.add(key)
        missing = confirmed - seen
        return True if not missing else TestFailure("%d without NotificationSent, e.g. %s" % (
            len(missing), next(iter(missing))))
    stack.eventually(probe, "NotificationSent of every CONFIRMED order", 60, 2.0)


def kafka_restarted():
    scope, carts, t0 = restart_during_burst("kafka", "kafka", "Kafka")
    first_confirmed_after(t0, scope, carts)
    final = wait_terminal(scope, SETTLE_S)
    confirmed = {o for o, s in final.items() if s == "CONFIRMED"}
    check(confirmed, "some orders confirmed around the restart")
    notified_on_kafka(scope, confirmed)
    invariants.check(scope)
    check_no_dead_letters(scope)


# ---- d. the payment service is frozen ------------------------------------------------------

def payment_frozen():
    scope, carts = new_scope("freeze")
    pay_s = cluster.deadline_s("SAGA_TIMEOUT_PAYMENT_MS")
    pid = cluster.pid_of("payment-service")
    check(pid is not None, "payment-service runs")
    burst = Burst(scope, carts).start()
    try:
        time.sleep(1)
        os.kill(pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        log("payment-service (pid %d) stopped with SIGSTOP" % pid)
        time.sleep(pay_s + 4)
        # orders accepted while it was frozen, with their deadline passed by now
        doomed = [o for o, at in dict(scope.orders).items() if frozen_at < at < time.monotonic() - pay_s - 1.5]
    finally:
        os.kill(pid, signal.SIGCONT)
        burst.stop()
    log("SIGCONT after %.1f s; %d orders were due to time out meanwhile" % (time.monotonic() - frozen_at, len(doomed)))
    check(doomed, "orders were placed while the payment service was frozen")
    final = wait_terminal(scope, SETTLE_S)
    wrong = [o for o in doomed if final.get(o) != "CANCELLED"]
    check(not wrong, "orders whose payment timed out are CANCELLED, not: %s" % wrong[:3])
    invariants.check(scope, timeout_s=SETTLE_S)
    check_no_dead_letters(scope)
    log("late captures refunded: %d, voided before the charge: %d" % (
        count_payments(doomed, "REFUNDED"), count_payments(doomed, "VOIDED")))


# ---- e. two order-service instances, slow payments -----------------------------------------

def two_order_instances():
    scope, carts = new_scope("twin")
    pay_s = cluster.deadline_s("SAGA_TIMEOUT_PAYMENT_MS")
    comp_s = cluster.deadline_s("SAGA_TIMEOUT_COMPENSATION_MS")
    before = stack.get_json(stack.GATEWAY_ADMIN + "/admin/config")
    try:
        order2.start()
        set_gateway({"latencyMs": int(pay_s * 1000) + 1500})
        burst = Burst(scope, carts, instance_urls=[None, order2.URL]).start()
        time.sleep(4)
        burst.stop()
        time.sleep(pay_s + comp_s + 2)  # let the deadlines pass while payments are slow
        set_gateway({"latencyMs": before.get("latencyMs", 0)})
        wait_terminal(scope, SETTLE_S)
        rows = sql("SELECT COUNT(DISTINCT order_id) FROM saga_transitions WHERE event_type = "
                   "'StepTimeout' AND order_id IN %s" % sql_list(scope.ids()), "order_db")
        timed_out = int(rows[0][0])
        log("%d of %d sagas timed out" % (timed_out, len(scope.ids())))
        check(timed_out > 0, "payments slower than the deadline time sagas out")
        invariants.check(scope, timeout_s=SETTLE_S)
        check_no_dead_letters(scope)
    finally:
        set_gateway({"latencyMs": before.get("latencyMs", 0)})
        order2.stop()

SCENARIOS = [
    ("gateway_down", gateway_down),
    ("mysql_connections_killed", mysql_connections_killed),
    ("mysql_restarted", mysql_restarted),
    ("kafka_restarted", kafka_restarted),
    ("payment_frozen", payment_frozen),
    ("two_order_instances", two_order_instances),
]
