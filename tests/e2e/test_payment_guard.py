#!/usr/bin/env python3
"""Money moves only inside the saga: forged captures are refused, not obeyed.

An order is held in PAYMENT_PENDING by gateway-sim's latency; meanwhile forged
PaymentCompletedEvents go to payment.events:
  - one for the payment the order asked for, of one cent: refused for the
    amount;
  - one for the order's total under another payment id: refused for the id;
  - and, once the real capture confirmed the order, one under another id:
    refused too, not refunded (a refund would take back the real capture).
Each lands in order.dlq with a reason naming what the order expected and what
came, is absent from the order's history, and moves no money: the real
capture confirms the order for its total, under the id the order named, and
stays captured. The payment service's reconciliation lists none of them.

    TESTS = [("payment_guard_wrong_amount", ...), ...]
    python3 tests/e2e/test_payment_guard.py      (alone, against the stack)
"""

import sys
import time
import uuid

import stack
from stack import check, expect_status
from test_dlq import entries_for, produce
from test_order_batch import GATEWAY_LATENCY_MS, event, history_of, set_gateway, waiting_for_payment


def asked_payment(oid):
    """The payment id the order named in ProcessPayment, once Payment has
    recorded the request (it shows the id it charges under)."""
    def recorded():
        p = stack.payment(oid)
        return p if p and p.get("paymentId") else stack.TestFailure("payment %r" % (p,))
    p = stack.eventually(recorded, "the payment of %s recorded" % oid, 10, 0.1)
    rows = stack.sql("SELECT payment_id FROM orders WHERE order_id = '%s'" % oid, "order_db")
    check(rows and rows[0][0] == p["paymentId"],
          "Payment charges under the id the order named: order %r, payment %r" % (rows, p))
    return p["paymentId"]


def forge_capture(oid, payment_id, amount):
    """Produces a forged PaymentCompletedEvent; returns its event id."""
    eid, forged = event(oid, "PaymentCompletedEvent",
                        {"orderId": oid, "paymentId": payment_id, "amount": amount,
                         "currency": "USD", "gatewayRef": "e2e-forged"})
    produce("payment.events", oid, forged)
    return eid


def dead_letter(oid, eid):
    """The order service's dead letter of event `eid`; its reason."""
    entry = stack.eventually(
        lambda: [e for e in entries_for("order", oid) if e.get("eventId") == eid] or None,
        "the forged capture %s dead-lettered by the order service" % eid, 20, 0.25)[0]
    return entry.get("reason") or ""


def held_for_payment(run, name):
    """(orderId, its total, the payment id it asked for), while the gateway
    holds the charge. Restore the gateway with release_gateway()."""
    before = stack.get_json(stack.GATEWAY_ADMIN + "/admin/config", "gateway config")
    set_gateway({"latencyMs": GATEWAY_LATENCY_MS})
    try:
        oid, _ = waiting_for_payment("%s-%s" % (run.id, name))
        total = stack.order(oid).get("totalAmount")
        return oid, total, asked_payment(oid), before
    except Exception:
        release_gateway(before)
        raise


def release_gateway(before):
    set_gateway({"latencyMs": before.get("latencyMs", 0)})


def expect_confirmed_by(oid, pay_id, forged_ids):
    """The real capture confirmed the order, for its total, under `pay_id`;
    none of the forged events is in its history; nothing was refunded."""
    o = stack.wait_terminal(oid, GATEWAY_LATENCY_MS / 1000.0 + 20)
    check(o["status"] == "CONFIRMED", "the real capture confirms the order: %r" % o)
    for eid in forged_ids:
        check(history_of(o, eid) is None, "forged event %s is not in the history: %r" % (eid, o))
    p = stack.payment(oid)
    check(p is not None and p.get("status") == "CAPTURED" and p.get("amount") == o.get("totalAmount")
          and p.get("refundedAmount") == 0 and p.get("paymentId") == pay_id,
          "captured exactly the order's total under %s: payment %r, order total %r"
          % (pay_id, p, o.get("totalAmount")))
    return o


def expect_not_reconciled(oid):
    """The reconciliation (admin route) does not list the order."""
    doc = stack.get_json(stack.SERVICES["payment"] + "/api/payments/reconciliation",
                         "GET /api/payments/reconciliation")
    check(isinstance(doc.get("orders"), list) and "capturedOnCancelled" in doc,
          "the reconciliation answers its counts and orders: %r" % doc)
    check(all(o.get("orderId") != oid for o in doc["orders"]),
          "order %s is not reconciled: %r" % (oid, doc))


def test_payment_guard_wrong_amount(run):
    oid, total, pay_id, before = held_for_payment(run, "guard")
    try:
        forged_id = forge_capture(oid, pay_id, 1)
        reason = dead_letter(oid, forged_id)
    finally:
        release_gateway(before)
    check("does not match the total" in reason and "1 USD" in reason,
          "the dead letter says why: %r" % reason)
    expect_confirmed_by(oid, pay_id, [forged_id])


def test_payment_guard_wrong_payment_id(run):
    oid, total, pay_id, before = held_for_payment(run, "guardid")
    other = str(uuid.uuid4())
    try:
        forged_id = forge_capture(oid, other, total)
        reason = dead_letter(oid, forged_id)
    finally:
        release_gateway(before)
    check("expected payment %s, got %s" % (pay_id, other) in reason,
          "the dead letter names the payment expected and the one that came: %r" % reason)
    expect_confirmed_by(oid, pay_id, [forged_id])

    # confirmed: another capture is refused, never refunded
    late_id = forge_capture(oid, other, total)
    reason = dead_letter(oid, late_id)
    check("confirmed by payment %s, got %s: not refunded" % (pay_id, other) in reason,
          "the late forged capture is refused: %r" % reason)
    o = expect_confirmed_by(oid, pay_id, [forged_id, late_id])
    commands = [ev.get("type") for ev, _ in stack.kcat_events("payment.commands", run.start_ms, oid)]
    check("RefundPaymentCommand" not in commands,
          "no refund was asked for the confirmed order: %r" % commands)
    expect_not_reconciled(oid)
    res = expect_status(stack.request("POST", stack.SERVICES["payment"] + "/api/payments",
                                      {"orderId": oid, "amount": o.get("totalAmount")}),
                        410, "POST /api/payments is gone")
    check("saga" in (res.json().get("detail") or ""), "410 says why: %r" % res)


TESTS = [("payment_guard_wrong_amount", test_payment_guard_wrong_amount),
         ("payment_guard_wrong_payment_id", test_payment_guard_wrong_payment_id)]


if __name__ == "__main__":
    class _Run:
        id = "e2epg%d%s" % (int(time.time()), uuid.uuid4().hex[:6])
        start_ms = int(time.time() * 1000) - 5000

    failed = 0
    for name, fn in TESTS:
        try:
            fn(_Run())
            print("%s: PASS" % name)
        except stack.TestFailure as e:
            failed += 1
            print("%s: FAIL: %s" % (name, e))
    sys.exit(1 if failed else 0)
