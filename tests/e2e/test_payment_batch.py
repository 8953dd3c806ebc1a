"""End-to-end test of the payment service's batch transaction
(services/payment/batch.h): two commands for one order delivered together,
both of which must be refused: refunds of a confirmed order.

    TESTS = [("payment_batch_same_order", ...)]
    python3 tests/e2e/test_payment_batch.py      (alone, against the stack)

Two RefundPayment commands (distinct event ids) for one captured payment are
produced in one kcat call, so they reach the payment sidecar in one fetch and
the service in one delivery (the consumer library ends a group before the
second event of an order whose prepare() reaches outside, svc/consumer.h).
The order is CONFIRMED: no saga asks to refund it, so both commands are
forged or stale, and both must be refused, each dead-lettered with its
reason, with no money moved: the payment stays CAPTURED, nothing refunded, no
PaymentRefunded on Kafka, the order as it was. (That a second command sees
the first one's effect within a batch is unit-tested: test_payment_batch.c.)
The order is created with stack.create_order, not run.order, so the run's
closing invariants do not count it.
"""

import sys
import time
import uuid

import stack
from stack import check, expect_status
from test_dlq import entries_for, envelope, kcat


def produce_together(topic, key, values):
    """The messages in one kcat call: one produce request, one fetch."""
    lines = "".join("%s\t%s\n" % (key, v) for v in values)
    kcat(["-P", "-t", topic, "-K", "\t"], lines.encode("utf-8"), "produce to %s" % topic)


def confirmed_order(run_id):
    """A new confirmed order of its own product; returns (orderId, payment)."""
    pid = "%s-paybatch" % run_id
    stack.put_product(pid, 5, 700, name="e2e payment batch")
    res = stack.create_order({"userId": "u-" + run_id, "items": [{"productId": pid, "quantity": 1}]})
    expect_status(res, 202, "POST /api/orders")
    oid = res.json().get("orderId")
    o = stack.wait_terminal(oid)
    check(o["status"] == "CONFIRMED", "order confirmed: %r" % o)
    pay = stack.payment(oid)
    check(pay is not None and pay.get("status") == "CAPTURED", "payment captured: %r" % pay)
    # The order service commits CONFIRMED before its relay publishes
    # OrderConfirmed, and the payment service reads that event on its own
    # time: until it has, the capture is an unconfirmed one that a refund may
    # take back (the guard refuses refunds of orders *known* to be confirmed).
    # The commands below must be forged or stale, so they wait until it knows.
    stack.eventually(lambda: stack.sql(
        "SELECT 1 FROM order_outcomes WHERE order_id = '%s' AND status = 'CONFIRMED'" % oid,
        "payment_db"),
        "the payment service knows %s is confirmed" % oid, 20, 0.1)
    return oid, pay


def test_payment_batch_same_order(run):
    oid, pay = confirmed_order(run.id)
    since_ms = int(time.time() * 1000) - 5000
    refund = {"orderId": oid, "reason": "e2e batch"}
    produce_together("payment.commands", oid, [envelope(oid, "RefundPaymentCommand", refund),
                                               envelope(oid, "RefundPaymentCommand", refund)])

    def both_refused():
        letters = entries_for("payment", oid)
        return letters if len(letters) >= 2 else None
    letters = stack.eventually(both_refused, "both refunds of %s dead-lettered" % oid, 20, 0.25)
    check(len(letters) == 2, "two dead letters, one per command: %r" % letters)
    for e in letters:
        check("confirmed" in (e.get("reason") or ""),
              "the reason says the order is confirmed: %r" % e)
    after = stack.payment(oid)
    check(after.get("status") == "CAPTURED" and not after.get("refundedAmount"),
          "the capture stands, nothing refunded: %r (was %r)" % (after, pay))
    # the refusals were dead-lettered after the service's transaction: any
    # event it wrote is in its outbox, which the relay empties once Kafka
    # has it; so when no row of this order is left, Kafka has them all. A
    # row holding a transaction's events (messages > 1) names only the first
    # event's key: its pack (netstrings) holds the order id of each event.
    stack.eventually(lambda: not stack.sql(
        "SELECT 1 FROM outbox_messages WHERE msg_key = '%s' OR "
        "(messages > 1 AND LOCATE('36:%s,', payload) > 0) LIMIT 1" % (oid, oid),
        "payment_db"),
        "the payment outbox of %s relayed" % oid, 20, 0.1)
    evs = [ev for ev, _ in stack.kcat_events("payment.events", since_ms, oid)
           if ev.get("type") == "PaymentRefundedEvent"]
    check(not evs, "no PaymentRefunded: %r" % evs)
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
