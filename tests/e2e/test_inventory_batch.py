"""End-to-end test of the inventory service's batch transaction
(services/inventory/batch.h): one delivery to POST /internal/events with
several events on the same rows: a hot product reserved twice, then a
shortage; an order reserved and cancelled in the same batch, another reserved
and sold; a release that arrives before its order (a tombstone) and the late
OrderCreated; a confirmation for an unknown order. It checks the answers,
the counts and versions (+1 per move), the reservation rows, the events the
relay sent to Kafka and the Redis cache; a redelivery (all duplicates,
nothing moves); a rejected event that gives the batch up (the others then one
by one); a batch of new orders only; a settle-only batch.

    TESTS = [("inventory_batch_same_rows", ...)]
    python3 tests/e2e/test_inventory_batch.py      (alone, against the stack)

It reads the inventory database, Redis and the inventory service's log
through stack.sql, stack.redis and stack.service_log (the local stack's
sockets and files, or what E2E_MYSQL_*, E2E_REDIS_* and E2E_LOG_CMD name).
"""

import json
import sys
import time
import uuid

import stack
from stack import check, redis, sql

INV = stack.SERVICES["inventory"]
EVENTS = stack.INTERNAL["inventory"] + "/internal/events"  # the sidecar's listener


def http(method, url, body=None):
    res = stack.request(method, url, body)
    check(200 <= res.status < 300, "%s %s: %r" % (method, url, res))
    return res.json() if res.body else None


def inv_sql(q):
    return sql(q, "inventory_db")


def event(etype, order_id, data, topic="order.events"):
    ev = {"eventId": str(uuid.uuid4()), "type": etype, "timestamp": int(time.time() * 1000),
          "data": dict(data, orderId=order_id),
          "metadata": {"correlationId": order_id, "version": "1", "source": "order-service"}}
    return {"topic": topic, "partition": 0, "offset": 0, "key": order_id, "value": json.dumps(ev)}


def given_up_count():
    """How often the inventory service gave a batch transaction up so far."""
    return stack.service_log("inventory").count("given up")


def relayed(since_ms, keys, want):
    """The (key, type) pairs of the distinct events on inventory.events for
    `keys` since `since_ms`, sorted, when they are `want`; a TestFailure
    saying what is there otherwise. The relay deletes an outbox row once
    Kafka has it, so the topic is where emitted events are seen."""
    got = {}
    for key, value in stack.kcat_read("inventory.events", since_ms):
        if key in keys:
            ev = json.loads(value)
            got[ev["eventId"]] = [key, ev["type"]]
    pairs = sorted(got.values())
    return pairs if pairs == want else stack.TestFailure("on Kafka: %r" % pairs)


def item(pid, q):
    return {"items": [{"productId": pid, "quantity": q}]}


def test_inventory_batch_same_rows(run=None):
    """(run: the e2e run, unused: the test makes its own ids)"""
    del run
    pid = "PBATCH%08d" % (int(time.time()) % 10**8)
    http("PUT", INV + "/api/inventory/" + pid, {"available": 10, "price": 500, "name": "batch test"})
    v0 = int(inv_sql("SELECT version FROM products WHERE product_id = '%s'" % pid)[0][0])
    A, B, C, D, E = (str(uuid.uuid4()) for _ in range(5))
    msgs = [event("OrderCreatedEvent", A, item(pid, 4)),
            event("OrderCreatedEvent", B, item(pid, 4)),
            event("OrderCreatedEvent", C, item(pid, 4)),           # 2 left: shortage
            event("OrderCancelledEvent", A, {"reason": "x"}),  # reserved in this batch, given back
            event("OrderConfirmedEvent", B, {}),              # reserved in this batch, sold
            event("ReleaseInventoryCommand", D, {"reason": "deadline"}, "inventory.commands"),  # tombstone
            event("OrderCreatedEvent", D, item(pid, 1)),           # refused: released before it arrived
            event("OrderConfirmedEvent", E, {})]              # unknown order: ignored
    # the public port does not take events: a client cannot inject one
    public = stack.request("POST", INV + "/internal/events", {"messages": msgs})
    check(public.status == 404, "POST /internal/events on the public port: %r" % public)
    given_up = given_up_count()
    since_ms = int(time.time() * 1000) - 1000
    res = http("POST", EVENTS, {"messages": msgs})["results"]
    got = [r["status"] for r in res]
    check(got == ["ok"] * 6 + ["ignored"] * 2, "answers %r" % got)
    check(given_up_count() == given_up, "handled as one batch (none given up)")
    row = inv_sql("SELECT available, reserved, sold, version FROM products WHERE product_id = '%s'" % pid)[0]
    check(row == ["6", "0", "4", str(v0 + 4)], "product counts/version %r (want 6 0 4 %d)" % (row, v0 + 4))
    st = dict((r[0], (r[1], r[2])) for r in inv_sql("SELECT order_id, status, COALESCE(reason, 'NULL') FROM order_reservations WHERE order_id IN ('%s')" % "','".join([A, B, C, D, E])))
    check(st.get(A) == ("RELEASED", "order cancelled"), "A %r" % (st.get(A),))
    check(st.get(B) == ("COMMITTED", "NULL"), "B %r" % (st.get(B),))
    check(st.get(C) == ("SHORTAGE", "insufficient stock for product " + pid), "C %r" % (st.get(C),))
    check(st.get(D) == ("RELEASED", "deadline"), "D %r" % (st.get(D),))
    check(E not in st, "no row (nor placeholder) for E")
    lines = inv_sql("SELECT order_id, quantity, unit_price FROM stock_reservations WHERE product_id = '%s' ORDER BY order_id" % pid)
    check(sorted(l[0] for l in lines) == sorted([A, B]) and all(l[1:] == ["4", "500"] for l in lines), "lines %r" % lines)
    want = sorted([[A, "InventoryReservedEvent"], [B, "InventoryReservedEvent"],
                   [C, "InventoryShortageEvent"], [D, "InventoryReleasedEvent"]])
    stack.eventually(lambda: relayed(since_ms, [A, B, C, D, E], want), "the batch's events on Kafka", 20, 0.5)
    cached = redis("HMGET", "inv:" + pid, "available", "reserved", "sold", "version")
    check(cached == ["6", "0", "4", str(v0 + 4)], "redis %r" % cached)
    g = http("GET", INV + "/api/inventory/" + pid)
    check((g.get("available"), g.get("reserved"), g.get("sold")) == (6, 0, 4), "GET %r" % g)
    res = http("POST", EVENTS, {"messages": msgs})["results"]
    check([r["status"] for r in res] == ["duplicate"] * 8, "redelivery: all duplicates")
    row = inv_sql("SELECT available, reserved, sold, version FROM products WHERE product_id = '%s'" % pid)[0]
    check(row == ["6", "0", "4", str(v0 + 4)], "redelivery moved nothing")
    # inventory has no outside prepare(): the batch goes ahead without a
    # SELECT for duplicates, its claims collide, and the one-by-one path finds
    # them (once given up)
    check(given_up_count() == given_up + 1, "the redelivered batch was given up once")
    given_up += 1
    # a rejected event gives the batch transaction up: the others are applied one
    # by one, each in its own transaction (apply() without begin_batch)
    F, G = str(uuid.uuid4()), str(uuid.uuid4())
    msgs = [event("OrderCreatedEvent", F, item(pid, 2)),
            event("OrderCreatedEvent", G, {"items": [{"productId": pid, "quantity": 0}]}),
            event("OrderCancelledEvent", F, {})]
    res = http("POST", EVENTS, {"messages": msgs})["results"]
    check([r["status"] for r in res] == ["ok", "rejected", "ok"], "one by one: answers %r" % res)
    check(given_up_count() == given_up + 1, "the batch was given up once")
    row = inv_sql("SELECT available, reserved, sold, version FROM products WHERE product_id = '%s'" % pid)[0]
    check(row == ["6", "0", "4", str(v0 + 6)], "one by one: counts/version %r (want 6 0 4 %d)" % (row, v0 + 6))
    st = dict((r[0], r[1]) for r in inv_sql("SELECT order_id, status FROM order_reservations WHERE order_id IN ('%s','%s')" % (F, G)))
    check(st == {F: "RELEASED"}, "one by one: rows %r" % st)
    cached = redis("HGET", "inv:" + pid, "version")
    check(cached == [str(v0 + 6)], "one by one: redis version %r" % cached)
    # a batch of new orders only (their placeholders all new: nothing read back),
    # then an OrderCreated under a new event id for an order decided before
    H, I = str(uuid.uuid4()), str(uuid.uuid4())
    res = http("POST", EVENTS, {"messages": [event("OrderCreatedEvent", H, item(pid, 1)),
                                                                 event("OrderCreatedEvent", I, item(pid, 2))]})["results"]
    check([r["status"] for r in res] == ["ok", "ok"], "new orders only: answers %r" % res)
    row = inv_sql("SELECT available, reserved, sold, version FROM products WHERE product_id = '%s'" % pid)[0]
    check(row == ["3", "3", "4", str(v0 + 8)], "new orders only: counts/version %r" % (row,))
    res = http("POST", EVENTS, {"messages": [event("OrderCreatedEvent", B, item(pid, 1))]})["results"]
    check([r["status"] for r in res] == ["ignored"], "OrderCreated again for a sold order: %r" % res)
    res = http("POST", EVENTS, {"messages": [event("OrderCancelledEvent", H, {}),
                                                                 event("OrderConfirmedEvent", I, {})]})["results"]
    check([r["status"] for r in res] == ["ok", "ok"], "settle only: answers %r" % res)
    row = inv_sql("SELECT available, reserved, sold, version FROM products WHERE product_id = '%s'" % pid)[0]
    check(row == ["4", "0", "6", str(v0 + 10)], "settle only: counts/version %r" % (row,))
    cached = redis("HMGET", "inv:" + pid, "available", "reserved", "sold", "version")
    check(cached == ["4", "0", "6", str(v0 + 10)], "redis at the end %r" % cached)
    check(given_up_count() == given_up + 1, "no other batch given up")

TESTS = [("inventory_batch_same_rows", test_inventory_batch_same_rows)]

if __name__ == "__main__":
    try:
        test_inventory_batch_same_rows()
    except stack.TestFailure as e:
        print("inventory_batch_same_rows: FAIL: %s" % e)
        sys.exit(1)
    print("inventory_batch_same_rows: PASS")
