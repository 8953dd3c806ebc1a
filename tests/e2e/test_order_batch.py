"""End-to-end test of the order service's batch transaction
(services/order/batch.h): two events for one order delivered together, the
second of which must see the state the first one left.

    TESTS = [("order_batch_same_order", ...)]
    python3 tests/e2e/test_order_batch.py      (alone, against the stack)

The payment gateway is made slow, so an order waits in PAYMENT_PENDING.
Then a PaymentFailed and a PaymentCompleted for it are produced to
payment.events in one kcat call, so they reach the order sidecar in one
fetch and the service in one delivery. The failure moves the order to
COMPENSATING; the completion must then find it COMPENSATING in the batch's
copy of the row and only ask for a refund: had it read the row as it was
before the batch (PAYMENT_PENDING), it would confirm the order. The saga
then ends as any compensated one: the stock released, the late real charge
refunded or voided.
"""

import sys
import time
import uuid

import stack
from stack import check, expect_status
from test_dlq import envelope
from test_payment_batch import produce_together

GATEWAY_LATENCY_MS = 4000


def event(order_id, type_, data):
    """An event envelope for `order_id`; returns (its id, its JSON)."""
    eid = str(uuid.uuid4())
    return eid, envelope(order_id, type_, data, event_id=eid)


def set_gateway(config):
    res = stack.request("POST", stack.GATEWAY_ADMIN + "/admin/config", config)
    expect_status(res, 200, "gateway /admin/config %r" % (config,))


def history_of(o, event_id):
    """The order's history row for `event_id`, or None."""
    for h in o.get("history", []):
        if h.get("eventId") == event_id:
            return h
    return None


def waiting_for_payment(run_id):
    """A new order of its own product, in PAYMENT_PENDING; (orderId, productId)."""
    pid = "%s-ordbatch" % run_id
    stack.put_product(pid, 5, 700, name="e2e order batch")
    res = stack.create_order({"userId": "u-" + run_id, "items": [{"productId": pid, "quantity": 1}]})
    expect_status(res, 202, "POST /api/orders")
    oid = res.json().get("orderId")

    def pending():
        o = stack.order(oid)
        if o.get("status") == "PAYMENT_PENDING":
            return o
        return stack.TestFailure("status %s" % o.get("status"))
    stack.eventually(pending, "order %s waits for its payment" % oid, 10, 0.05)
    return oid, pid


def test_order_batch_same_order(run):
    before = stack.get_json(stack.GATEWAY_ADMIN + "/admin/config", "gateway config")
    set_gateway({"latencyMs": GATEWAY_LATENCY_MS})
    try:
        oid, pid = waiting_for_payment(run.id)
        failed_id, failed = event(oid, "PaymentFailedEvent",
                                  {"orderId": oid, "reason": "e2e batch decline"})
        completed_id, completed = event(oid, "PaymentCompletedEvent", {"orderId": oid})
        produce_together("payment.events", oid, [failed, completed])

        def both_applied():
            o = stack.order(oid)
            if history_of(o, failed_id) and history_of(o, completed_id):
                return o
            return stack.TestFailure("history of %s: %r" % (oid, o.get("history")))
        o = stack.eventually(both_applied, "both events applied to %s" % oid, 20, 0.1)
    finally:
        set_gateway({"latencyMs": before.get("latencyMs", 0)})
    first, second = history_of(o, failed_id), history_of(o, completed_id)
    check(first.get("from") == "PAYMENT_PENDING" and first.get("to") == "COMPENSATING",
          "the failure starts the compensation: %r" % first)
    check(second.get("from") == "COMPENSATING" and second.get("to") == "COMPENSATING",
          "the completion saw the compensating order: %r" % second)
    check("RefundPayment" in (second.get("detail") or ""), "the capture is refunded: %r" % second)
    check(all(h.get("to") != "CONFIRMED" for h in o.get("history", [])),
          "never confirmed: %r" % o.get("history"))

    o = stack.wait_terminal(oid, GATEWAY_LATENCY_MS / 1000.0 + 20)
    check(o["status"] == "CANCELLED", "order cancelled: %r" % o)
    check(o.get("cancellationReason") == "payment declined: e2e batch decline",
          "cancelled for the first cause: %r" % o)

    def settled():
        s = stack.stock(pid)
        p = stack.payment(oid)
        if s.get("available") == 5 and s.get("reserved") == 0 and s.get("sold") == 0 and \
                p is not None and p.get("status") in ("REFUNDED", "VOIDED"):
            return True
        return stack.TestFailure("stock %r, payment %r" % (s, p))
    stack.eventually(settled, "stock back and no money kept for %s" % oid, 30, 0.5)


TESTS = [("order_batch_same_order", test_order_batch_same_order)]


if __name__ == "__main__":
    class _Run:
        id = "e2eob%d%s" % (int(time.time()), uuid.uuid4().hex[:6])

    try:
        test_order_batch_same_order(_Run())
    except stack.TestFailure as e:
        print("order_batch_same_order: FAIL: %s" % e)
        sys.exit(1)
    print("order_batch_same_order: PASS")
