#!/usr/bin/env python3
"""A PaymentCompleted that does not capture the order's total never confirms it.

An order is held in PAYMENT_PENDING by gateway-sim's latency; meanwhile a forged
PaymentCompletedEvent of one cent goes to payment.events. The order service
refuses it: it lands in order.dlq with a reason naming the mismatch, the order's
history does not show it, and the real capture then confirms the order for its
total.

    TESTS = [("payment_guard_wrong_amount", ...)]
    python3 tests/e2e/test_payment_guard.py      (alone, against the stack)
"""

import sys
import time
import uuid

import stack
from stack import check
from test_dlq import entries_for, produce
from test_order_batch import GATEWAY_LATENCY_MS, event, history_of, set_gateway, waiting_for_payment


def test_payment_guard_wrong_amount(run):
    before = stack.get_json(stack.GATEWAY + "/admin/config", "gateway config")
    set_gateway({"latencyMs": GATEWAY_LATENCY_MS})
    try:
        oid, _ = waiting_for_payment(run.id + "-guard")
        forged_id, forged = event(oid, "PaymentCompletedEvent",
                                  {"orderId": oid, "paymentId": "forged", "amount": 1,
                                   "currency": "USD", "gatewayRef": "e2e-forged"})
        produce("payment.events", oid, forged)
        entry = stack.eventually(
            lambda: [e for e in entries_for("order", oid) if e.get("eventId") == forged_id] or None,
            "the forged capture dead-lettered by the order service", 20, 0.25)[0]
    finally:
        set_gateway({"latencyMs": before.get("latencyMs", 0)})
    reason = entry.get("reason") or ""
    check("does not match the total" in reason and "1 USD" in reason,
          "the dead letter says why: %r" % reason)
    o = stack.wait_terminal(oid, GATEWAY_LATENCY_MS / 1000.0 + 20)
    check(o["status"] == "CONFIRMED", "the real capture confirms the order: %r" % o)
    check(history_of(o, forged_id) is None, "the forged event is not in the history: %r" % o)
    p = stack.payment(oid)
    check(p is not None and p.get("status") == "CAPTURED" and p.get("amount") == o.get("totalAmount"),
          "captured exactly the order's total: payment %r, order total %r" % (p, o.get("totalAmount")))


TESTS = [("payment_guard_wrong_amount", test_payment_guard_wrong_amount)]


if __name__ == "__main__":
    class _Run:
        id = "e2epg%d%s" % (int(time.time()), uuid.uuid4().hex[:6])

    try:
        test_payment_guard_wrong_amount(_Run())
    except stack.TestFailure as e:
        print("payment_guard_wrong_amount: FAIL: %s" % e)
        sys.exit(1)
    print("payment_guard_wrong_amount: PASS")
