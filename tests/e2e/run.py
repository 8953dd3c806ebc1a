#!/usr/bin/env python3
"""End-to-end tests against a running stack: the local one (scripts/stack.sh up)
or a deployment reached through port-forwards (scripts/k8s-test.sh).

    python3 tests/e2e/run.py [test-name ...]

Runs every test (or the named ones) in order, prints each name and result,
ends with a line "FAILED name: why" per failed test and one line
"N passed, N failed", and exits 1 when anything failed.
Product ids carry a per-run id, so reruns on the same stack do not interfere.
Endpoints: see stack.py (ORDER_URL, ..., KAFKA_BROKERS).
"""

import importlib
import json
import os
import re
import sys
import threading
import time
import uuid

import stack
from stack import check, expect_status

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


class Run:
    """What this run created, for the final invariants."""

    def __init__(self):
        self.id = "e2e%d%s" % (int(time.time()), uuid.uuid4().hex[:6])
        # Kafka messages produced from now on belong to this run (a little slack
        # for clock skew between this process and the broker's producers).
        self.start_ms = int(time.time() * 1000) - 5000
        self.initial = {}  # product id -> available of its last PUT
        self.orders = []  # every accepted order id
        self.lock = threading.Lock()

    def product(self, name, available, price):
        pid = "%s-%s" % (self.id, name)
        p = stack.put_product(pid, available, price, name="e2e " + name)
        check(p.get("available") == available, "PUT %s returns available %d: %r" % (pid, available, p))
        self.initial[pid] = available
        return pid

    def order(self, user, items, expect=202, extra=None, idempotency_key=None):
        """Creates an order; returns (orderId, response JSON)."""
        body = {"userId": user, "items": [{"productId": p, "quantity": q} for p, q in items]}
        body.update(extra or {})
        res = stack.create_order(body, idempotency_key)
        expect_status(res, expect, "POST /api/orders %s" % json.dumps(body)[:200])
        doc = res.json()
        oid = doc.get("orderId")
        check(isinstance(oid, str) and len(oid) == 36, "response has an orderId: %r" % doc)
        with self.lock:
            if oid not in self.orders:
                self.orders.append(oid)
        return oid, doc


def expect_stock(pid, available, reserved, sold, timeout_s=20.0):
    """Polls until the product shows exactly these counts (some moves, e.g.
    reserved -> sold after OrderConfirmed, happen after the order settles)."""
    want = {"available": available, "reserved": reserved, "sold": sold}

    def probe():
        s = stack.stock(pid)
        got = {k: s.get(k) for k in want}
        return s if got == want else stack.TestFailure("%s is %r, want %r" % (pid, got, want))
    return stack.eventually(probe, "stock of %s" % pid, timeout_s)


def expect_notification(oid, kind, timeout_s=20.0):
    def probe():
        items = [n for n in stack.notifications(oid) if n.get("kind") == kind]
        return items or None
    items = stack.eventually(probe, "a %s notification for %s" % (kind, oid), timeout_s)
    n = items[0]
    check(n.get("orderId") == oid, "notification names the order: %r" % n)
    check(n.get("status") == "SENT", "notification was sent: %r" % n)
    check(oid in n.get("body", ""), "notification text names the order: %r" % n)
    return items


def history_ok(o):
    hist = o.get("history")
    check(isinstance(hist, list) and hist, "order has a history: %r" % o)
    last = ""
    for h in hist:
        at = h.get("at")
        check(isinstance(at, str) and ISO_MS.match(at), "history entry has a timestamp: %r" % h)
        check(at >= last or not last.endswith("Z"), "history is in time order: %r" % hist)
        last = at
    return hist


# ---- the tests ---------------------------------------------------------------

def test_success(run):
    pid = run.product("widget", 100, 1999)
    t0 = time.monotonic()
    oid, doc = run.order("u-" + run.id, [(pid, 2)],
                         extra={"totalAmount": 1, "price": 1, "items": [
                             {"productId": pid, "quantity": 2, "price": 1, "unitPrice": 1}]})
    check(doc.get("totalAmount") == 3998, "accepted total is 3998: %r" % doc)
    o = stack.wait_terminal(oid, interval_s=0.05)
    elapsed = time.monotonic() - t0
    check(o["status"] == "CONFIRMED", "order confirmed: %r" % o)
    check(o.get("totalAmount") == 3998, "client prices ignored, total 3998: %r" % o.get("totalAmount"))
    print("    create -> CONFIRMED in %.3f s" % elapsed)
    hist = history_ok(o)
    states = [h.get("to") for h in hist]
    for s in ("PENDING", "PAYMENT_PENDING", "CONFIRMED"):
        check(s in states, "history passes %s: %r" % (s, states))
    expect_stock(pid, 98, 0, 2)
    p = stack.payment(oid)
    check(p is not None and p.get("status") == "CAPTURED" and p.get("amount") == 3998,
          "payment captured 3998: %r" % p)
    expect_notification(oid, "order-confirmed")
    want = {"order.events": ["OrderCreatedEvent", "OrderConfirmedEvent"],
            "inventory.events": ["InventoryReservedEvent"],
            "payment.events": ["PaymentCompletedEvent"],
            "notification.events": ["NotificationSentEvent"]}

    def probe():
        missing = []
        for topic, types in want.items():
            seen = [ev.get("type") for ev, _ in stack.kcat_events(topic, run.start_ms, oid)]
            missing += ["%s on %s" % (t, topic) for t in types if t not in seen]
        return True if not missing else stack.TestFailure("missing " + ", ".join(missing))
    stack.eventually(probe, "events of %s on Kafka" % oid, 30, 1.0)


def test_multi_item(run):
    a = run.product("multi-a", 50, 500)
    b = run.product("multi-b", 40, 250)
    oid, _ = run.order("u-" + run.id, [(a, 3), (b, 2)])
    o = stack.wait_terminal(oid)
    check(o["status"] == "CONFIRMED", "order confirmed: %r" % o)
    check(o.get("totalAmount") == 3 * 500 + 2 * 250, "total is the sum: %r" % o.get("totalAmount"))
    check(len(o.get("items", [])) == 2, "two items: %r" % o.get("items"))
    expect_stock(a, 47, 0, 3)
    expect_stock(b, 38, 0, 2)


def test_declined_payment(run):
    pid = run.product("pricey", 100, 60000)
    oid, _ = run.order("u-" + run.id, [(pid, 2)])
    o = stack.wait_terminal(oid)
    check(o["status"] == "CANCELLED", "order cancelled: %r" % o)
    reason = (o.get("cancellationReason") or "").lower()
    check("declin" in reason, "reason mentions the decline: %r" % reason)
    expect_stock(pid, 100, 0, 0)
    p = stack.payment(oid)
    check(p is not None and p.get("status") == "DECLINED", "payment declined: %r" % p)
    expect_notification(oid, "order-cancelled")


def test_shortage(run):
    pid = run.product("scarce", 1, 700)
    oid, _ = run.order("u-" + run.id, [(pid, 5)])
    o = stack.wait_terminal(oid)
    check(o["status"] == "CANCELLED", "order cancelled: %r" % o)
    reason = (o.get("cancellationReason") or "").lower()
    check(any(w in reason for w in ("stock", "shortage", "insufficient")),
          "reason says shortage: %r" % reason)
    expect_stock(pid, 1, 0, 0, timeout_s=2)
    p = stack.payment(oid)
    check(p is None or p.get("status") != "CAPTURED", "nothing captured: %r" % p)


def test_duplicate_events(run):
    pid = run.product("dup", 20, 300)
    oid, _ = run.order("u-" + run.id, [(pid, 1)])
    o = stack.wait_terminal(oid)
    check(o["status"] == "CONFIRMED", "order confirmed: %r" % o)
    expect_stock(pid, 19, 0, 1)
    expect_notification(oid, "order-confirmed")
    # the saga's last entry (NotificationSent) recorded, so that the history
    # compared below is complete
    def told():
        o = stack.order(oid)
        return o if any(h.get("event") == "NotificationSentEvent" for h in o["history"]) else None
    o = stack.eventually(told, "NotificationSent in the history of %s" % oid, 20)
    pay = stack.payment(oid)

    def find(topic, type_):
        evs = [raw for ev, raw in stack.kcat_events(topic, run.start_ms, oid) if ev.get("type") == type_]
        return evs[0] if evs else None
    created = stack.eventually(lambda: find("order.events", "OrderCreatedEvent"),
                               "OrderCreated of %s on Kafka" % oid, 20, 1.0)
    completed = stack.eventually(lambda: find("payment.events", "PaymentCompletedEvent"),
                                 "PaymentCompleted of %s on Kafka" % oid, 20, 1.0)
    # Counters at rest first, so that growth below means our duplicates.
    before = {s: stack.sidecar_counter_settled(s, "delivered", 15) for s in ("inventory", "order")}
    stack.kcat_produce("order.events", oid, created)
    stack.kcat_produce("payment.events", oid, completed)
    for s in before:
        stack.eventually(lambda s=s: stack.sidecar_counter(s, "delivered") > before[s],
                         "%s sidecar delivers the duplicate" % s, 20, 0.2)
    o2 = stack.order(oid)
    check(o2["status"] == "CONFIRMED", "still confirmed: %r" % o2)
    check(len(o2.get("history", [])) == len(o.get("history", [])),
          "history unchanged: %d -> %d entries" % (len(o.get("history", [])), len(o2.get("history", []))))
    s = stack.stock(pid)
    check((s.get("available"), s.get("reserved"), s.get("sold")) == (19, 0, 1), "stock unchanged: %r" % s)
    pay2 = stack.payment(oid)
    check(pay2 is not None and pay2.get("status") == "CAPTURED", "payment still captured: %r" % pay2)
    check(pay2.get("paymentId") == pay.get("paymentId") and pay2.get("amount") == pay.get("amount"),
          "same single payment: %r vs %r" % (pay, pay2))
    n = stack.notifications(oid)
    check(len(n) == 1, "one notification: %r" % n)



def test_concurrent_orders(run):
    pid = run.product("hot", 10, 100)
    results, errors = [], []

    def one(i):
        try:
            oid, _ = run.order("u-%s-%d" % (run.id, i), [(pid, 1)])
            results.append(oid)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("%d: %s" % (i, e))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, "all 50 accepted: %s" % errors[:3])
    pending, final = set(results), {}
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        for oid in list(pending):
            o = stack.order(oid)
            if o.get("status") in stack.TERMINAL:
                final[oid] = o
                pending.discard(oid)
        if pending:
            time.sleep(0.5)
    check(not pending, "%d orders still not terminal after 60 s" % len(pending))
    confirmed = [o for o in final.values() if o["status"] == "CONFIRMED"]
    cancelled = [o for o in final.values() if o["status"] == "CANCELLED"]
    check(len(confirmed) == 10 and len(cancelled) == 40,
          "10 confirmed / 40 cancelled, got %d / %d" % (len(confirmed), len(cancelled)))
    for o in cancelled:
        reason = (o.get("cancellationReason") or "").lower()
        check(any(w in reason for w in ("stock", "shortage", "insufficient")),
              "cancelled for shortage: %r" % reason)
    expect_stock(pid, 0, 0, 10)


def _problem(res, status, what):
    expect_status(res, status, what)
    check(res.content_type == "application/problem+json",
          "%s: problem+json, got %r" % (what, res.content_type))
    return res.json()


def _names(doc, field):
    return doc.get("field") == field or field in (doc.get("detail") or "")


def test_bad_input(run):
    pid = run.product("bad", 5, 100)
    url = stack.SERVICES["order"] + "/api/orders"
    res = stack.request("POST", url, raw=b'{"userId": "u-1", "items": [', headers={
        "Content-Type": "application/json"})
    _problem(res, 400, "malformed JSON")
    # (an omitted userId is the token's subject: an admin's request naming no
    # valid user is the one left to refuse)
    doc = _problem(stack.request("POST", url, {"userId": "not an id!", "items": [
        {"productId": pid, "quantity": 1}]}), 422, "malformed userId")
    check(_names(doc, "userId"), "problem names userId: %r" % doc)
    doc = _problem(stack.request("POST", url, {"userId": "u-1", "items": [{"productId": pid, "quantity": 0}]}),
                   422, "quantity 0")
    check(_names(doc, "items[0].quantity"), "problem names items[0].quantity: %r" % doc)
    doc = _problem(stack.request("POST", url, {"userId": "u-1", "items": [
        {"productId": run.id + "-no-such-product", "quantity": 1}]}), 422, "unknown product")
    _problem(stack.get("%s/api/orders/%s" % (stack.SERVICES["order"], uuid.uuid4())), 404,
             "unknown order")
    big = json.dumps({"userId": "u-1", "items": [{"productId": pid, "quantity": 1}],
                      "pad": "x" * (70 * 1024)}).encode()
    _problem(stack.request("POST", url, raw=big, headers={"Content-Type": "application/json"}),
             413, "oversized body")
    s = stack.stock(pid)
    check(s.get("available") == 5 and s.get("reserved") == 0, "bad requests moved no stock: %r" % s)


def test_idempotency_key(run):
    pid = run.product("idem", 30, 400)
    key = "idem-" + run.id
    items = [(pid, 2)]
    oid1, _ = run.order("u-" + run.id, items, expect=202, idempotency_key=key)
    oid2, _ = run.order("u-" + run.id, items, expect=200, idempotency_key=key)
    check(oid1 == oid2, "same key + same body -> same order: %s vs %s" % (oid1, oid2))
    res = stack.create_order({"userId": "u-" + run.id, "items": [{"productId": pid, "quantity": 3}]}, key)
    expect_status(res, 422, "same key + different body")
    o = stack.wait_terminal(oid1)
    check(o["status"] == "CONFIRMED", "order confirmed: %r" % o)
    expect_stock(pid, 28, 0, 2)  # one saga: the stock moved once


def test_health_and_docs(run):
    for name, base in stack.SERVICES.items():
        for path in ("/health/live", "/health/ready"):
            expect_status(stack.get(base + path), 200, "%s %s" % (name, path))
        doc = stack.get_json(base + "/openapi.json", "%s /openapi.json" % name)
        check(isinstance(doc, dict) and str(doc.get("openapi", "")).startswith("3"),
              "%s serves an OpenAPI 3 document" % name)
        check(doc.get("paths"), "%s OpenAPI lists paths" % name)
        res = expect_status(stack.get(base + "/swagger-ui.html"), 200, "%s swagger page" % name)
        html = res.body.decode("utf-8", "replace").lower()
        check("text/html" in res.content_type and "swagger-ui" in html,
              "%s /swagger-ui.html is HTML loading swagger-ui" % name)
    for name, base in stack.SIDECARS.items():
        expect_status(stack.get(base + "/health/ready"), 200, "%s sidecar ready" % name)
    expect_status(stack.get(stack.GATEWAY + "/health/live"), 200, "gateway-sim live")


def test_invariants(run):
    check(run.orders, "this run created orders")
    confirmed_total, captured_total = 0, 0
    for oid in run.orders:
        o = stack.wait_terminal(oid)
        p = stack.payment(oid)
        if p is not None and p.get("status") == "CAPTURED":
            check(o["status"] == "CONFIRMED", "captured only for confirmed orders: %s %r" % (oid, p))
            captured_total += p.get("amount", 0) - p.get("refundedAmount", 0)
        if o["status"] == "CONFIRMED":
            check(p is not None and p.get("status") == "CAPTURED",
                  "confirmed order %s has a capture: %r" % (oid, p))
            check(p.get("amount") == o.get("totalAmount"), "capture = total for %s" % oid)
            confirmed_total += o.get("totalAmount", 0)
    check(captured_total == confirmed_total,
          "captured %d = confirmed totals %d" % (captured_total, confirmed_total))

    def stock_settled():
        bad = []
        for pid, initial in run.initial.items():
            s = stack.stock(pid)
            counts = [s.get(k) for k in ("available", "reserved", "sold")]
            if any(not isinstance(c, int) or c < 0 for c in counts):
                bad.append("%s negative/missing %r" % (pid, counts))
            elif sum(counts) != initial:
                bad.append("%s %r sums to %d, not %d" % (pid, counts, sum(counts), initial))
            elif counts[1] != 0:
                bad.append("%s still has %d reserved" % (pid, counts[1]))
        return True if not bad else stack.TestFailure("; ".join(bad))
    stack.eventually(stock_settled, "stock invariants", 20, 0.5)


TESTS = [
    ("success", test_success),
    ("multi_item", test_multi_item),
    ("declined_payment", test_declined_payment),
    ("shortage", test_shortage),
    ("duplicate_events", test_duplicate_events),
    ("concurrent_orders", test_concurrent_orders),
    ("bad_input", test_bad_input),
    ("idempotency_key", test_idempotency_key),
    ("health_and_docs", test_health_and_docs),
    ("invariants", test_invariants),
]


def module_tests(module):
    """TESTS of tests/e2e/<module>.py. A listed module that is missing or
    fails to import stops the run: a test that silently did not run is not
    a pass."""
    return list(importlib.import_module(module).TESTS)


# DLQ list/re-drive (test_dlq.py) before the closing invariants, which then
# cover its orders too
TESTS[-1:-1] = module_tests("test_dlq")
TESTS[-1:-1] = module_tests("test_payment_batch")
TESTS[-1:-1] = module_tests("test_order_batch")
TESTS[-1:-1] = module_tests("test_payment_guard")
TESTS[-1:-1] = module_tests("test_inventory_bulk")
TESTS[-1:-1] = module_tests("test_metrics")
TESTS[-1:-1] = module_tests("test_console")
TESTS[-1:-1] = module_tests("test_inbox_retention")
# after the invariants: its product's moves belong to no real order
TESTS += module_tests("test_inventory_batch")
# after the invariants too: its orders exist only in the notification service
TESTS += module_tests("test_notification_batch")
MODULES = ("test_dlq", "test_payment_batch", "test_order_batch", "test_payment_guard",
           "test_inventory_bulk", "test_metrics", "test_console", "test_inbox_retention",
           "test_inventory_batch", "test_notification_batch")


def unlisted_modules():
    """tests/e2e/test_*.py files this runner does not list (they would never run)."""
    here = os.path.dirname(os.path.abspath(__file__))
    found = {f[:-3] for f in os.listdir(here) if f.startswith("test_") and f.endswith(".py")}
    return sorted(found - set(MODULES))


def main(argv):
    unlisted = unlisted_modules()
    if unlisted:
        print("run.py: test modules not listed here, so never run: %s" % ", ".join(unlisted),
              file=sys.stderr)
        return 1
    return stack.run_tests(TESTS, argv, Run, lambda run: "e2e run %s against %s" % (
        run.id, stack.SERVICES["order"]))

if __name__ == "__main__":
    sys.exit(main(sys.argv))
