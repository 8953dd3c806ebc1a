"""End-to-end tests of the saga console (services/console), against a running
stack:

    TESTS = [("console_api", ...), ("console_page", ...)]

console_api places an order and reads it back through the console's JSON API
(its journey with the partition and offset of each event the order service
consumed), and checks the access rules: the page is public, every API route
admin-only. console_page loads the page in headless Chromium with the admin
token and the order id in the URL fragment, lets its script poll, and looks
for the order and its states in the DOM. Chromium: `scripts/install-deps.sh
browser` (CHROMIUM names another binary). With CONSOLE_SCREENSHOT=<png> it also
saves a screenshot there (how docs/console.png is made).

CONSOLE_URL: the console (http://127.0.0.1:CONSOLE_PORT, 8090).
"""

import os
import shutil
import subprocess
import tempfile
import urllib.parse

import stack
from stack import check, expect_status

CONSOLE = os.environ.get("CONSOLE_URL") or "http://127.0.0.1:%d" % stack.env_port("CONSOLE_PORT",
                                                                               8090)
CHROMIUM = os.environ.get("CHROMIUM", "chromium")


def confirmed_order(run, name):
    pid = run.product(name, 10, 1250)
    oid, _ = run.order("u-console", [(pid, 2)], idempotency_key="console-" + run.id + name)
    final = stack.wait_terminal(oid)
    check(final["status"] == "CONFIRMED", "order %s confirmed: %r" % (oid, final))
    return oid


def test_console_api(run):
    """The console's API shows an order's journey; only admins may read it."""
    oid = confirmed_order(run, "console-api")
    page = stack.request("GET", CONSOLE + "/", auth=None)
    expect_status(page, (200,), "GET / (public)")
    check("script-src 'self'" in page.headers.get("content-security-policy", ""),
          "the page is served with a script policy: %r" % page.headers)

    doc = stack.get_json(CONSOLE + "/api/console/orders/" + oid, "the journey")
    check(doc["orderId"] == oid and doc["status"] == "CONFIRMED", "journey of %s: %r" % (oid, doc))
    check(doc["idempotencyKey"] == "console-" + run.id + "console-api",
          "the request's idempotency key: %r" % doc["idempotencyKey"])
    states = [t["to"] for t in doc["transitions"]]
    check(states[0] == "PENDING" and "PAYMENT_PENDING" in states and "CONFIRMED" in states,
          "states PENDING .. CONFIRMED: %r" % states)
    consumed = [t for t in doc["transitions"] if t["eventType"] == "InventoryReservedEvent"]
    check(len(consumed) == 1 and consumed[0]["topic"] == "inventory.events"
          and isinstance(consumed[0]["partition"], int) and isinstance(consumed[0]["offset"], int),
          "InventoryReserved with its topic, partition and offset: %r" % consumed)

    def overview_counts():
        o = stack.get_json(CONSOLE + "/api/console/overview", "the overview")
        return True if o["orders"]["up"] and o["orders"]["confirmedTotal"] >= 1 else \
            stack.TestFailure("the console has not read the order service's metrics: %r" % o)
    stack.eventually(overview_counts, "the console's order counters", 10, 0.5)
    overview = stack.get_json(CONSOLE + "/api/console/overview", "the overview")
    check({s["service"] for s in overview["sidecars"]} >=
          {"order", "payment", "inventory", "notification"}, "every sidecar: %r" % overview)
    check(all(s["up"] for s in overview["sidecars"]), "every sidecar up: %r" % overview)
    sagas = stack.get_json(CONSOLE + "/api/console/sagas", "sagas in flight")
    check(set(sagas["inFlight"]) == {"PENDING", "PAYMENT_PENDING", "COMPENSATING"}, "%r" % sagas)
    topics = stack.get_json(CONSOLE + "/api/console/topics", "topics")
    names = {t["name"] for t in topics["topics"]}
    check({"order.events", "payment.events", "order.dlq"} <= names, "topics: %r" % sorted(names))
    order_events = [t for t in topics["topics"] if t["name"] == "order.events"][0]
    groups = {g["group"] for p in order_events["partitions"] for g in p["groups"]}
    check("inventory-service" in groups, "inventory's lag on order.events: %r" % order_events)
    # every partition's start and end come from one request each (sidecar/kafka.h)
    parts = order_events["partitions"]
    check(all(isinstance(p["end"], int) and 0 <= p["start"] <= p["end"] for p in parts)
          and sum(p["end"] for p in parts) > 0, "order.events' log starts and ends: %r" % parts)
    check(all(isinstance(g["lag"], int) and 0 <= g["lag"] <= p["end"]
              for p in parts for g in p["groups"]), "each group's lag a count: %r" % parts)
    dlq = stack.get_json(CONSOLE + "/api/console/dlq?limit=5", "dead letters")
    check(all("entries" in s for s in dlq["services"]), "every sidecar's DLQ listed: %r" % dlq)

    for path in ("/api/console/overview", "/api/console/orders/" + oid, "/api/console/dlq"):
        res = stack.request("GET", CONSOLE + path, auth=stack.customer_auth("u-console"))
        expect_status(res, (403,), "GET %s as a customer" % path)
        res = stack.request("GET", CONSOLE + path, auth=None)
        expect_status(res, (401,), "GET %s without a token" % path)
    res = stack.request("POST", CONSOLE + "/api/console/dlq/order/redrive",
                        body={"partition": 0, "offset": 0}, auth=stack.customer_auth("u-console"))
    expect_status(res, (403,), "a customer's re-drive")
    res = stack.request("POST", CONSOLE + "/api/console/dlq/nope/redrive", body={"all": True})
    expect_status(res, (404,), "a re-drive for no such sidecar")
    res = stack.request("GET", CONSOLE + "/api/console/orders/not-a-uuid")
    expect_status(res, (400,), "a journey of no UUID")


def chromium(*args):
    binary = shutil.which(CHROMIUM)
    check(binary is not None, "%s is installed (scripts/install-deps.sh browser)" % CHROMIUM)
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run([binary, "--headless=new", "--no-sandbox", "--disable-gpu",
                              "--no-first-run", "--user-data-dir=" + profile,
                              "--virtual-time-budget=8000"] + list(args),
                             capture_output=True, timeout=120)
    check(out.returncode == 0, "chromium exits 0: %s" % out.stderr.decode(errors="replace")[-500:])
    return out.stdout.decode("utf-8", errors="replace")


def test_console_page(run):
    """The page, run by a browser, shows an order's journey."""
    oid = confirmed_order(run, "console-page")
    token = stack.admin_auth().split(" ", 1)[1]
    url = "%s/#%s" % (CONSOLE, urllib.parse.urlencode({"token": token, "order": oid}))
    dom = chromium("--dump-dom", url)
    check('id="journey-id">%s<' % oid in dom, "the page shows the journey of %s" % oid)
    journey = dom[dom.index('id="journey"'):]
    for state in ("PENDING", "PAYMENT_PENDING", "CONFIRMED"):
        check(">%s<" % state in journey, "the journey shows %s" % state)
    check("inventory.events/" in journey, "the journey names the events' topics")
    check("updated " in dom and "Topics and consumer lag" in dom and "order.events" in dom,
          "every panel was filled")
    shot = os.environ.get("CONSOLE_SCREENSHOT")
    if shot:
        chromium("--screenshot=" + os.path.abspath(shot), "--window-size=1400,1000",
                 "--hide-scrollbars", url)
        check(os.path.getsize(shot) > 10000, "a screenshot in %s" % shot)


TESTS = [
    ("console_api", test_console_api),
    ("console_page", test_console_page),
]
