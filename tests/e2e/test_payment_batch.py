"""End-to-end test of the payment service's batch transaction
(services/payment/batch.h): two commands for one order delivered together,
the second of which must see the first one's effect.

    TESTS = [("payment_batch_same_order", ...)]
    python3 tests/e2e/test_payment_batch.py      (alone, against the stack)

Two RefundPayment commands (distinct event ids) for one captured payment are
produced in one kcat call, so they reach the payment sidecar in one fetch and
the service in one delivery. The consumer library ends a group before the
second event of an order whose prepare() reaches outside (svc/consumer.h),
so the second command is prepared only after the first one's transaction
committed REFUNDED, and must then do nothing: one PaymentRefunded event, not
two, and one refund of the full amount. The order is created with
stack.create_order, not run.order, so the run's closing invariants (a
confirmed order has a capture) do not count it.
"""

import sys
import time
import uuid

import stack
from stack import check, expect_status
from test_dlq import envelope, kcat


def produce_together(topic, key, values):
    """The messages in one kcat call: one produce request, one fetch."""
    lines = "".join("%s\t%s\n" % (key, v) for v in values)
    kcat(["-P", "-t", topic, "-K", "\t"], lines.encode("utf-8"), "produce to %s" % topic)


def confirmed_order(run_id):
    """A new confirmed order of its own product; returns (orderId, payment)."""
    pid = "%s-paybatch" % run_id
    stack.put_product(pid, 5, 700, name="e2e payment batch")
    res = stack.create_order({"userId": "u-" + run_id, "items": [{"productId": pid, "quantity": 1}]})
    expect_status(res, (201, 202), "POST /api/orders")
    oid = res.json().get("orderId")
    o = stack.wait_terminal(oid)
    check(o["status"] == "CONFIRMED", "order confirmed: %r" % o)
    pay = stack.payment(oid)
    check(pay is not None and pay.get("status") == "CAPTURED", "payment captured: %r" % pay)
    return oid, pay


def test_payment_batch_same_order(run):
    oid, pay = confirmed_order(run.id)
    since_ms = int(time.time() * 1000) - 5000
    before = stack.sidecar_counter_settled("payment", "delivered", 15)
    refund = {"orderId": oid, "reason": "e2e batch"}
    produce_together("payment.commands", oid, [envelope(oid, "RefundPaymentCommand", refund),
                                               envelope(oid, "RefundPaymentCommand", refund)])
    stack.eventually(lambda: stack.sidecar_counter("payment", "delivered") >= before + 2,
                     "payment sidecar delivers both commands", 20, 0.2)
    stack.sidecar_counter_settled("payment", "delivered", 15)
    after = stack.payment(oid)
    check(after.get("status") == "REFUNDED", "payment refunded: %r" % after)
    check(after.get("refundedAmount") == pay.get("amount"),
          "refunded once, in full: %r" % after)

    def refunded_events():
        evs = [ev for ev, _ in stack.kcat_events("payment.events", since_ms, oid)
               if ev.get("type") == "PaymentRefundedEvent"]
        return evs or None
    evs = stack.eventually(refunded_events, "PaymentRefunded of %s on Kafka" % oid, 20, 1.0)
    time.sleep(1.0)  # a second event would be relayed by now
    evs = refunded_events()
    check(len(evs) == 1, "one PaymentRefunded, not %d: %r" % (len(evs), evs))
    check(stack.order(oid).get("status") == "CONFIRMED", "the order is left as it was")


TESTS = [("payment_batch_same_order", test_payment_batch_same_order)]


if __name__ == "__main__":
    class _Run:
        id = "e2epb%d%s" % (int(time.time()), uuid.uuid4().hex[:6])

    try:
        test_payment_batch_same_order(_Run())
    except stack.TestFailure as e:
        print("payment_batch_same_order: FAIL: %s" % e)
        sys.exit(1)
    print("payment_batch_same_order: PASS")
