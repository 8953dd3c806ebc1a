"""What one fault scenario creates: its products (with the stock of their last
PUT) and a background burst of orders, and the wait until all are terminal."""

import itertools
import threading
import time
import uuid

import cluster
from cluster import TestFailure, check, stack


class Scope:
    """A scenario's own products and orders; the invariants look only at these."""

    def __init__(self, name):
        self.name = name
        self.id = "flt%d%s-%s" % (int(time.time()), uuid.uuid4().hex[:4], name)
        self.start_ms = int(time.time() * 1000) - 5000  # Kafka reads from here (clock slack)
        self.initial = {}  # product id -> available of its last PUT
        self.orders = {}  # order id -> time.monotonic() when accepted
        self.refusals = []  # why orders were refused (faults make that legitimate)
        self.lock = threading.Lock()

    def product(self, name, available, price):
        pid = "%s-%s" % (self.id, name)
        p = stack.put_product(pid, available, price, name="fault " + name)
        check(p.get("available") == available, "PUT %s: %r" % (pid, p))
        self.initial[pid] = available
        return pid

    def order(self, user, items, instance_url=None):
        """Creates an order; its id, or None when the service refused (a fault
        may make it answer 5xx or not at all)."""
        body = {"userId": user, "items": [{"productId": p, "quantity": q} for p, q in items]}
        url = (instance_url or stack.SERVICES["order"]) + "/api/orders"
        try:
            res = stack.request("POST", url, body)
        except TestFailure as e:
            self.refusals.append(str(e))
            return None
        if res.status != 202:
            check(res.status >= 500 or res.status == 429,
                  "POST /api/orders during a fault: only 5xx/429 refusals, got %r" % res)
            self.refusals.append(repr(res))
            return None
        oid = res.json().get("orderId")
        check(isinstance(oid, str) and len(oid) == 36, "orderId in %r" % res)
        with self.lock:
            self.orders.setdefault(oid, time.monotonic())
        return oid

    def ids(self):
        with self.lock:
            return list(self.orders)


class Burst:
    """Creates orders in a background thread, one every `interval_s`, cycling
    through `carts` (lists of (productId, quantity)) and `instance_urls`,
    until stopped or max_orders were accepted (a slow fault stays bounded)."""

    def __init__(self, scope, carts, interval_s=0.1, instance_urls=None, max_orders=60):
        self.scope = scope
        self.carts = carts
        self.interval_s = interval_s
        self.max_orders = max_orders
        self.urls = instance_urls or [None]
        self.accepted = self.refused = 0
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        n = itertools.count()
        try:
            while not self._stop.is_set() and self.accepted < self.max_orders:
                i = next(n)
                oid = self.scope.order("u-%s-%d" % (self.scope.id, i % 7),
                                       self.carts[i % len(self.carts)],
                                       self.urls[i % len(self.urls)])
                if oid:
                    self.accepted += 1
                else:
                    self.refused += 1
                self._stop.wait(self.interval_s)
        except Exception as e:  # noqa: BLE001 - reported by stop()
            self.error = e

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(60)
        cluster.log("burst: %d orders accepted, %d refused%s" % (
            self.accepted, self.refused,
            " (first: %s)" % self.scope.refusals[0][:200] if self.scope.refusals else ""))
        if self.error:
            raise TestFailure("burst failed: %s" % self.error)
        check(self.accepted > 0, "the burst placed orders")


def statuses(order_ids):
    """order id -> status, read from order_db."""
    rows = cluster.sql("SELECT order_id, status FROM orders WHERE order_id IN %s"
                       % cluster.sql_list(order_ids), "order_db")
    return {r[0]: r[1] for r in rows}


def wait_terminal(scope, timeout_s):
    """Waits until every order of the scope is CONFIRMED or CANCELLED; returns
    the statuses and prints how they ended."""
    ids = scope.ids()
    deadline = time.monotonic() + timeout_s
    last = {}
    while True:
        try:
            last = statuses(ids)
        except TestFailure:
            last = {}
        open_ = [o for o in ids if last.get(o) not in stack.TERMINAL]
        if not open_:
            break
        if time.monotonic() >= deadline:
            raise TestFailure("%d of %d orders not terminal after %.0f s, e.g. %s" % (
                len(open_), len(ids), timeout_s,
                ", ".join("%s=%s" % (o, last.get(o)) for o in open_[:3])))
        time.sleep(0.5)
    counts = {}
    for s in last.values():
        counts[s] = counts.get(s, 0) + 1
    cluster.log("all %d orders terminal: %s" % (len(ids), counts))
    return last
