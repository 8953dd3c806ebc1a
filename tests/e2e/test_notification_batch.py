"""End-to-end test of the consumer's type filter (svc/consumer.h, accepts)
with the notification service: one delivery to POST /internal/events with an
order's OrderCreated (no use to it), its OrderConfirmed and another order's
OrderCreated. The two OrderCreated are answered "ignored" with no claim in
processed_messages, the confirmation is sent and claimed, and a redelivery
sends nothing twice.

    TESTS = [("notification_batch_filter", ...)]
    python3 tests/e2e/test_notification_batch.py      (alone, against the stack)

It reads the notification database through stack.sql (the local stack's
socket, or what E2E_MYSQL_* name).
"""

import json
import sys
import time
import uuid

import stack
from stack import check, sql
from test_inventory_batch import event, http

EVENTS = stack.INTERNAL["notification"] + "/internal/events"  # the sidecar's listener


def claimed(event_ids):
    """The ids among `event_ids` in notification_db.processed_messages."""
    q = "SELECT event_id FROM processed_messages WHERE event_id IN ('%s')" % "','".join(event_ids)
    return {row[0] for row in sql(q, "notification_db")}


def test_notification_batch_filter(run=None):
    """(run: the e2e run, unused: the test makes its own ids)"""
    del run
    X, Y = str(uuid.uuid4()), str(uuid.uuid4())
    user = "u-notif-filter-%d" % int(time.time())
    msgs = [event("OrderCreatedEvent", X, {"userId": user, "totalAmount": 1200, "currency": "USD"}),
            event("OrderConfirmedEvent", X, {"userId": user, "totalAmount": 1200, "currency": "USD"}),
            event("OrderCreatedEvent", Y, {"userId": user, "totalAmount": 500, "currency": "USD"})]
    ids = [json.loads(m["value"])["eventId"] for m in msgs]
    res = http("POST", EVENTS, {"messages": msgs})["results"]
    got = [r["status"] for r in res]
    check(got == ["ignored", "ok", "ignored"], "answers %r" % got)
    check(claimed(ids) == {ids[1]}, "only the confirmation is claimed: %r" % claimed(ids))
    sent = stack.notifications(X)
    check(len(sent) == 1, "one notification for X: %r" % sent)
    check(stack.notifications(Y) == [], "none for Y")
    res = http("POST", EVENTS, {"messages": msgs})["results"]
    got = [r["status"] for r in res]
    check(got == ["ignored", "duplicate", "ignored"], "redelivery answers %r" % got)
    check(len(stack.notifications(X)) == 1, "still one notification for X")


TESTS = [("notification_batch_filter", test_notification_batch_filter)]

if __name__ == "__main__":
    try:
        test_notification_batch_filter()
    except stack.TestFailure as e:
        print("notification_batch_filter: FAIL: %s" % e)
        sys.exit(1)
    print("notification_batch_filter: PASS")
