"""The invariants every fault scenario ends with, read from the databases
directly (MariaDB root over the socket), for the scenario's own orders and
products:

  - every order is terminal (CONFIRMED or CANCELLED);
  - per product: the stock of its last PUT = available + reserved + sold, no
    count negative, nothing left reserved;
  - at most one CAPTURED/REFUNDED payment per order; a CONFIRMED order has
    its capture of exactly its total, a CANCELLED one none that is not
    refunded; sum(captured) - sum(refunded) = sum(totals of CONFIRMED orders);
  - every terminal order has a notification;
  - no saga was compensated twice (see compensation_violations);
  - the payment service's reconciliation finds nothing: no capture on a
    cancelled order, none without an order outcome (reconciliation_violations);
  - optionally the gateway's own ledger agrees (gateway_violations).

Money moves after orders settle (a late capture is refunded after its order
was cancelled), so check() polls until the invariants hold or time runs out.
"""

import json
import os
import time

import cluster
from cluster import TestFailure, sql, sql_list, stack


def ordersql(ids):
    """order id -> (status, total)."""
    rows = sql("SELECT order_id, status, total_amount FROM orders WHERE order_id IN %s"
                 % sql_list(ids), "order_db")
    return {r[0]: (r[1], int(r[2])) for r in rows}


def stock_violations(initial):
    bad = []
    rows = sql("SELECT product_id, available, reserved, sold FROM products WHERE product_id IN %s"
                 % sql_list(list(initial)), "inventory_db")
    seen = {r[0]: [int(c) for c in r[1:]] for r in rows}
    for pid, want in initial.items():
        counts = seen.get(pid)
        if counts is None:
            bad.append("product %s missing" % pid)
        elif min(counts) < 0:
            bad.append("%s has a negative count %r" % (pid, counts))
        elif sum(counts) != want:
            bad.append("%s available+reserved+sold %r = %d, not %d" % (pid, counts, sum(counts), want))
        elif counts[1] != 0:
            bad.append("%s still has %d reserved" % (pid, counts[1]))
    return bad


def payment_violations(orders):
    bad = []
    rows = sql("SELECT order_id, status, amount, refunded_amount FROM payments WHERE order_id IN %s"
                 % sql_list(list(orders)), "payment_db")
    per_order = {}
    for oid, status, amount, refunded in rows:
        per_order.setdefault(oid, []).append((status, int(amount), int(refunded)))
    net = confirmed = 0
    for oid, (status, total) in orders.items():
        pays = per_order.get(oid, [])
        money = [p for p in pays if p[0] in ("CAPTURED", "REFUNDED")]
        if len(money) > 1:
            bad.append("order %s has %d CAPTURED/REFUNDED payments" % (oid, len(money)))
        net += sum(a - r for _, a, r in money)
        if status == "CONFIRMED":
            confirmed += total
            if [(p[0], p[1], p[2]) for p in pays] != [("CAPTURED", total, 0)]:
                bad.append("CONFIRMED order %s (total %d) has payments %r" % (oid, total, pays))
        else:
            for p in pays:
                if p[0] == "CAPTURED" or (p[0] == "REFUNDED" and p[2] != p[1]):
                    bad.append("%s order %s keeps money: %r" % (status, oid, p))
                elif p[0] == "REQUESTED":
                    bad.append("%s order %s has a payment still REQUESTED" % (status, oid))
    if net != confirmed:
        bad.append("captured - refunded = %d, but CONFIRMED totals = %d" % (net, confirmed))
    return bad


# The reconciliation's condition, as payment's store.c writes it (the SQL in
# docs/architecture.md, "Reconciliation"): captures not wholly refunded and not
# yet confirmed, whose order was cancelled or told no outcome in time.
RECONCILE_SQL = (
    "SELECT p.order_id, COALESCE(o.status, 'no outcome') FROM payments p "
    "LEFT JOIN order_outcomes o ON o.order_id = p.order_id "
    "WHERE p.unconfirmed_since IS NOT NULL AND p.status = 'CAPTURED' "
    "AND p.refunded_amount < p.amount AND (o.status = 'CANCELLED' OR (o.order_id IS NULL "
    "AND p.unconfirmed_since < UTC_TIMESTAMP(3) - INTERVAL %d SECOND)) "
    "ORDER BY p.unconfirmed_since LIMIT 100")


def reconciliation_violations(orders):
    """The payment service's reconciliation finds nothing, over its whole
    database (with its RECONCILE_UNKNOWN_S, default 600); and for the scope's
    orders, all settled by now, without waiting for that: payment recorded
    each one's outcome as the order service has it, and no capture is left
    on an order it did not record as CONFIRMED."""
    unknown_s = int(os.environ.get("RECONCILE_UNKNOWN_S", "600"))
    bad = ["reconciliation: capture of order %s (%s)" % (oid, why)
           for oid, why in sql(RECONCILE_SQL % unknown_s, "payment_db")]
    rows = sql("SELECT o.order_id, o.status FROM order_outcomes o WHERE o.order_id IN %s"
               % sql_list(list(orders)), "payment_db")
    recorded = {r[0]: r[1] for r in rows}
    for oid, (status, _) in orders.items():
        if recorded.get(oid) != status:
            bad.append("order %s is %s, payment recorded %s" % (oid, status, recorded.get(oid)))
    rows = sql("SELECT p.order_id, COALESCE(o.status, 'no outcome') FROM payments p "
               "LEFT JOIN order_outcomes o ON o.order_id = p.order_id "
               "WHERE p.order_id IN %s AND p.status = 'CAPTURED' AND p.refunded_amount < p.amount "
               "AND (o.status IS NULL OR o.status <> 'CONFIRMED')" % sql_list(list(orders)),
               "payment_db")
    bad += ["order %s keeps a capture with outcome %s" % (oid, why) for oid, why in rows]
    return bad


def notification_violations(ids):
    rows = sql("SELECT DISTINCT order_id FROM notifications WHERE order_id IN %s" % sql_list(ids),
                 "notification_db")
    have = {r[0] for r in rows}
    missing = [o for o in ids if o not in have]
    return ["%d terminal orders without a notification, e.g. %s" % (len(missing), missing[0])] if missing else []


def compensation_violations(ids, min_gap_s, since_ms):
    """No saga compensated twice: per order at most one entry into
    COMPENSATING, no input event applied twice, step timeouts at least
    min_gap_s apart (two scanners timing out the same order at once would
    be closer), and exactly one RefundPayment/ReleaseInventory command on
    Kafka (since since_ms) per history entry that says it sent one."""
    bad = []
    rows = sql("SELECT order_id, from_status, to_status, event_type, event_id, "
                 "UNIX_TIMESTAMP(created_at), COALESCE(detail, '') FROM saga_transitions "
                 "WHERE order_id IN %s ORDER BY order_id, id" % sql_list(ids), "order_db")
    entries, events, timeouts, sent = {}, {}, {}, {}
    for oid, frm, to, etype, eid, at, detail in rows:
        if to == "COMPENSATING" and frm != "COMPENSATING":
            entries[oid] = entries.get(oid, 0) + 1
        if eid:
            events.setdefault((oid, eid), 0)
            events[(oid, eid)] += 1
        if etype == "StepTimeout":
            timeouts.setdefault(oid, []).append(float(at))
        sends = detail[detail.rfind("sent "):] if "sent " in detail else ""  # "...; sent A, B"
        for cmd in ("RefundPayment", "ReleaseInventory"):
            if cmd in sends:
                sent[(oid, cmd + "Command")] = sent.get((oid, cmd + "Command"), 0) + 1
    bad += ["order %s entered COMPENSATING %d times" % (o, n) for o, n in entries.items() if n > 1]
    bad += ["order %s applied event %s %d times" % (o, e, n) for (o, e), n in events.items() if n > 1]
    for oid, ats in timeouts.items():
        gaps = [b - a for a, b in zip(ats, ats[1:])]
        if gaps and min(gaps) < min_gap_s:
            bad.append("order %s timed out twice %.3f s apart" % (oid, min(gaps)))
    outbox = commands_sent(set(ids), since_ms)
    for key in set(outbox) | set(sent):
        if outbox.get(key, 0) != sent.get(key, 0):
            bad.append("order %s: %d %s emitted for %d causes in its history" % (
                key[0], outbox.get(key, 0), key[1], sent.get(key, 0)))
    return bad


def commands_sent(ids, since_ms):
    """(order id, command type) -> how many distinct RefundPayment/ReleaseInventory
    commands the order service emitted, read from their topics (the relay
    deletes an outbox row once Kafka has it). Distinct event ids: a relay
    that failed after producing sends the same event again, and consumers
    deduplicate it."""
    seen = {}
    for topic, ctype in (("payment.commands", "RefundPaymentCommand"),
                         ("inventory.commands", "ReleaseInventoryCommand")):
        for key, value in stack.kcat_read(topic, since_ms):
            if key not in ids:
                continue
            try:
                ev = json.loads(value)
            except ValueError:
                continue
            if ev.get("type") == ctype:
                seen.setdefault((key, ctype), set()).add(ev.get("eventId"))
    return {k: len(v) for k, v in seen.items()}


def violations(scope, min_gap_s):
    ids = scope.ids()
    orders = ordersql(ids)
    bad = ["order %s is %s" % (o, orders.get(o, ("missing",))[0])
           for o in ids if orders.get(o, ("missing",))[0] not in stack.TERMINAL]
    bad += stock_violations(scope.initial)
    bad += payment_violations(orders)
    if not bad:  # outcomes are recorded once orders are terminal
        bad += reconciliation_violations(orders)
    bad += notification_violations(ids)
    bad += compensation_violations(ids, min_gap_s, scope.start_ms)
    return bad


def gateway_violations(scope):
    """Asks the gateway simulator, for every order, whether it holds a charge
    (replaying the charge's idempotency key, the order id, while every new
    charge fails with 503 so the probe itself moves no money) and checks its
    net amount: the total for a CONFIRMED order, 0 for a CANCELLED one. This
    sees captures the payment service never recorded. The gateway keeps its
    charges across restarts (GATEWAY_LEDGER_FILE, set by scripts/stack.sh)."""
    orders = ordersql(scope.ids())
    before = stack.get_json(stack.GATEWAY_ADMIN + "/admin/config")
    stack.expect_status(stack.request("POST", stack.GATEWAY_ADMIN + "/admin/config",
                                      {"failRate": 1.0, "latencyMs": 0}), 200, "gateway probe mode")
    bad = []
    try:
        for oid, (status, total) in orders.items():
            res = stack.request("POST", stack.GATEWAY + "/v1/charges",
                                {"amount": total, "currency": "USD", "orderId": oid},
                                {"Idempotency-Key": oid})
            want = total if status == "CONFIRMED" else 0
            if res.status in (402, 503):
                got = 0
            elif res.status == 201:  # a capture replayed (the first answer, stored)
                charge = stack.get_json("%s/v1/charges/%s" % (stack.GATEWAY, res.json().get("id")))
                got = charge.get("amount", 0) - charge.get("refunded", 0)
            else:
                bad.append("gateway probe of %s: %r" % (oid, res))
                continue
            if got != want:
                bad.append("gateway holds %d for %s order %s (want %d)" % (got, status, oid, want))
    finally:
        restore = {k: before[k] for k in ("failRate", "latencyMs") if k in before}
        stack.request("POST", stack.GATEWAY_ADMIN + "/admin/config", restore)
    return bad


def check(scope, timeout_s=40.0, gateway=True):
    """Polls the invariants until they hold (then the gateway's ledger once,
    when asked); TestFailure with the violations left after timeout_s."""
    min_gap_s = 0.5 * min(cluster.deadline_s(v) for v in cluster.SAGA_VARS)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            bad = violations(scope, min_gap_s)
        except TestFailure as e:
            bad = [str(e)]
        if not bad:
            break
        if time.monotonic() >= deadline:
            raise TestFailure("invariants: %d violation(s): %s" % (len(bad), "; ".join(bad[:6])))
        time.sleep(0.5)
    if gateway:
        bad = gateway_violations(scope)
        if bad:
            raise TestFailure("gateway ledger: %d violation(s): %s" % (len(bad), "; ".join(bad[:6])))
    cluster.log("invariants hold for %d orders, %d products%s" % (
        len(scope.ids()), len(scope.initial), " (and the gateway's ledger)" if gateway else ""))
