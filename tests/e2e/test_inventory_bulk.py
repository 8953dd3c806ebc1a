"""End-to-end tests of the inventory's bulk read, GET /api/inventory?ids=...
(services/inventory/api.c), and of the order service pricing orders through
it (services/order/pricing.h: concurrent creates share look-ups).

    TESTS = [("inventory_bulk_read", ...), ("inventory_bulk_bad_ids", ...),
             ("inventory_bulk_priced_burst", ...)]
    python3 tests/e2e/test_inventory_bulk.py   (alone, against the stack)

The read test reaches Redis through stack.redis (the local stack's socket,
or what E2E_REDIS_* name).
"""

import sys
import threading

import stack
from stack import check, expect_status, redis

INV = stack.SERVICES["inventory"]
MAX_IDS = 200


def bulk(ids, status=200):
    """GET /api/inventory?ids=<ids joined by commas>; the JSON answer."""
    res = stack.get("%s/api/inventory?ids=%s" % (INV, ",".join(ids)))
    expect_status(res, status, "GET /api/inventory?ids=%s" % ",".join(ids)[:120])
    return res.json()


def bad_ids(query, what):
    """The query string is refused with a 400 problem naming ids."""
    res = stack.get("%s/api/inventory%s" % (INV, query))
    expect_status(res, 400, what)
    check(res.content_type == "application/problem+json", "%s: problem+json: %r" % (what, res))
    doc = res.json()
    check(doc.get("field") == "ids", "%s: the problem names ids: %r" % (what, doc))


def product(run_id, name, available, price):
    pid = "%s-%s" % (run_id, name)
    stack.put_product(pid, available, price, name="e2e " + name)
    return pid


def test_inventory_bulk_read(run):
    a, b = product(run.id, "bulk-a", 7, 1250), product(run.id, "bulk-b", 3, 990)
    unknown = run.id + "-bulk-none"
    for pid in (a, b):
        redis("DEL", "inv:" + pid)  # the first read goes to the database
    doc = bulk([b, a, unknown, a, b])
    check(sorted(doc) == ["missing", "products"], "products and missing only: %r" % doc)
    got = {p.get("productId"): p for p in doc["products"]}
    check(len(doc["products"]) == 2 and set(got) == {a, b}, "each known id once: %r" % doc)
    check(doc["missing"] == [unknown], "the unknown id once in missing: %r" % doc)
    for pid in (a, b):
        check(got[pid] == stack.stock(pid), "bulk %s = GET %s: %r vs %r" % (
            pid, pid, got[pid], stack.stock(pid)))
    check(redis("HGET", "inv:" + a, "price") == ["1250"], "the miss was cached: %r" % redis(
        "HGETALL", "inv:" + a))

    again = bulk([a, b, unknown])  # from the cache now
    check(again == doc, "the cached answer is the same: %r vs %r" % (again, doc))

    stack.put_product(a, 9, 1300)
    got = {p["productId"]: p for p in bulk([a])["products"]}
    check(got[a].get("price") == 1300 and got[a].get("available") == 9,
          "a PUT is seen by the bulk read: %r" % got)

    # A cached copy newer than the database is never overwritten: a version
    # alone (an incomplete entry) is a miss, and the store after it skipped.
    redis("DEL", "inv:" + b)
    redis("HSET", "inv:" + b, "version", "999999999")
    got = {p["productId"]: p for p in bulk([b])["products"]}
    check(got[b].get("price") == 990, "read from the database: %r" % got)
    check(redis("HGETALL", "inv:" + b) == ["version", "999999999"],
          "the newer cached version was kept: %r" % redis("HGETALL", "inv:" + b))
    redis("DEL", "inv:" + b)

    many = ["%s-bulk-x%03d-%s" % (run.id, i, "y" * 20) for i in range(MAX_IDS)]
    doc = bulk(many)
    check(doc["products"] == [] and sorted(doc["missing"]) == sorted(many),
          "%d unknown ids all missing: %d" % (MAX_IDS, len(doc["missing"])))


def test_inventory_bulk_bad_ids(run):
    pid = product(run.id, "bulk-bad", 1, 100)
    bad_ids("", "no ids")
    bad_ids("?ids=", "an empty list")
    bad_ids("?ids=%s,,%s" % (pid, pid), "an empty id")
    bad_ids("?ids=%s," % pid, "a trailing comma")
    bad_ids("?ids=%s,bad%%24id" % pid, "an id with a $")
    bad_ids("?ids=" + "x" * 65, "an id of 65 characters")
    bad_ids("?ids=" + ",".join([pid] * (MAX_IDS + 1)), "%d ids" % (MAX_IDS + 1))
    doc = bulk([pid] * MAX_IDS)
    check(len(doc["products"]) == 1 and doc["missing"] == [],
          "%d repeats of one id are fine: %r" % (MAX_IDS, doc))


def test_inventory_bulk_priced_burst(run):
    """Concurrent orders over fresh products (not in the order service's
    price cache): every one priced as GET /api/inventory/{id} says."""
    prices = [101, 2502, 37, 999, 12345]
    pids = [run.product("bulk-burst%d" % i, 1000, p) for i, p in enumerate(prices)]
    price_of = {pid: stack.stock(pid)["price"] for pid in pids}
    carts = []
    for i in range(60):
        n = 1 + i % len(pids)
        carts.append([(pids[(i + k) % len(pids)], 1 + (i + k) % 3) for k in range(n)])
    results, errors = [None] * len(carts), []

    def one(i):
        try:
            results[i] = run.order("u-%s-%d" % (run.id, i), carts[i])[1]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("%d: %s" % (i, e))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(carts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, "all %d accepted: %s" % (len(carts), errors[:3]))
    for cart, doc in zip(carts, results):
        want = sum(price_of[p] * q for p, q in cart)
        check(doc.get("totalAmount") == want, "total %r = %d for %r" % (
            doc.get("totalAmount"), want, cart))
        lines = {it.get("productId"): it.get("unitPrice") for it in doc.get("items", [])}
        check(lines == {p: price_of[p] for p, _ in cart}, "unit prices %r" % lines)
    for doc in results:
        o = stack.wait_terminal(doc["orderId"], 60)
        check(o.get("totalAmount") == doc.get("totalAmount"), "stored total: %r" % o)


TESTS = [
    ("inventory_bulk_read", test_inventory_bulk_read),
    ("inventory_bulk_bad_ids", test_inventory_bulk_bad_ids),
    ("inventory_bulk_priced_burst", test_inventory_bulk_priced_burst),
]


if __name__ == "__main__":
    import run as e2e  # noqa: E402  (the runner's Run: products and orders)

    _run = e2e.Run()
    _failed = 0
    for _name, _fn in TESTS:
        try:
            _fn(_run)
            print("%s: PASS" % _name)
        except stack.TestFailure as _e:
            _failed += 1
            print("%s: FAIL: %s" % (_name, _e))
    sys.exit(1 if _failed else 0)
