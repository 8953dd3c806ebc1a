#!/usr/bin/env python3
"""Security tests against the running local stack (scripts/stack.sh up): each
tries what an attacker, or a careless client, would, and asserts both the
refusal and that no state or money changed.

    python3 tests/security/run.py [test-name ...]

Covers issue 13's list and the OWASP API Security Top 10 (2023) cases that
apply: API1 BOLA, API2 broken authentication, API3 property-level
authorization (mass assignment), API4 unrestricted resource consumption,
API5 BFLA, API7 SSRF, API8 misconfiguration (internal routes, start-up
without keys), API10 unsafe consumption (the gateway's answers). Ends with
"N passed, N failed"; exits 1 when anything failed. Uses the e2e harness
(tests/e2e/stack.py) for endpoints, tokens (minted here, any claims, any key)
and the databases.
"""

import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

import stack  # noqa: E402  (after the path)
from stack import check, expect_status  # noqa: E402

RUN = "sec%d%s" % (int(time.time()), uuid.uuid4().hex[:4])
ORDER = stack.SERVICES["order"]
INVENTORY = stack.SERVICES["inventory"]
PAYMENT = stack.SERVICES["payment"]
NOTIFICATION = stack.SERVICES["notification"]
BIN_DIR = os.environ.get("BIN_DIR", os.path.join(stack.ROOT, "build", "bin"))
PRICE = 700


# ---- helpers ---------------------------------------------------------------

def problem(res, status, what):
    """Asserts a problem+json refusal with `status` (an int or a tuple)."""
    statuses = status if isinstance(status, tuple) else (status,)
    check(res.status in statuses, "%s: want %s, got %s" % (what, statuses, res))
    ctype = res.headers.get("content-type", "")
    check(ctype.startswith("application/problem+json"),
          "%s: a problem+json body, not %r (%s)" % (what, ctype, res))
    doc = res.json()
    check(isinstance(doc, dict) and doc.get("status") == res.status and doc.get("detail"),
          "%s: problem with status and detail: %r" % (what, doc))
    return doc


def user(name):
    return "%s-%s" % (RUN, name)


def product(name, available=1000, price=PRICE):
    pid = "%s-%s" % (RUN, name)
    stack.put_product(pid, available, price, name="security " + name)
    return pid


def order_body(uid, pid, qty=1, **extra):
    body = {"userId": uid, "items": [{"productId": pid, "quantity": qty}]}
    body.update(extra)
    return body


def orders_of(uid):
    """How many orders the database holds for `uid`."""
    return int(stack.sql("SELECT COUNT(*) FROM orders WHERE user_id = '%s'" % uid,
                         "order_db")[0][0])


def notifications_of(uid):
    return int(stack.sql("SELECT COUNT(*) FROM notifications WHERE user_id = '%s'" % uid,
                         "notification_db")[0][0])


def counts(pid):
    s = stack.stock(pid)
    return s.get("available"), s.get("reserved"), s.get("sold"), s.get("price")


def place(uid, pid, qty=1):
    """A customer's own order, accepted; returns its id."""
    res = stack.create_order(order_body(uid, pid, qty), auth=stack.customer_auth(uid))
    expect_status(res, 202, "order by %s" % uid)
    return res.json()["orderId"]


def raw_http(host, port, request_bytes, timeout=10):
    """Sends raw bytes, returns (status, headers text, body bytes). A server
    that answers and closes before it has read them all (a refusal) is read
    all the same."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(request_bytes)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep and b"content-length:" in head.lower():
                n = int([ln.split(b":", 1)[1] for ln in head.split(b"\r\n")
                         if ln.lower().startswith(b"content-length:")][0])
                if len(body) >= n:
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, head.decode("latin-1"), body


def raw_problem(url, req, status, what):
    """Sends the raw request `req` (str) to `url`'s server and asserts a
    problem+json refusal with `status`; returns the problem document."""
    host, port = host_port(url)
    got, head, body = raw_http(host, port, req.encode("latin-1"))
    check(got == status, "%s: want %d, got %d (%s)" % (what, status, got, head[:200]))
    ctypes = [ln.split(":", 1)[1].strip() for ln in head.split("\r\n")[1:]
              if ln.lower().startswith("content-type:")]
    check(ctypes == ["application/problem+json"],
          "%s: Content-Type application/problem+json, not %r" % (what, ctypes))
    try:
        doc = json.loads(body)
    except ValueError:
        raise stack.TestFailure("%s: the body is not JSON: %r" % (what, body[:200]))
    check(isinstance(doc, dict) and doc.get("status") == status and doc.get("title") and
          doc.get("detail"), "%s: problem with status %d, title, detail: %r" % (what, status, doc))
    return doc


def host_port(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def non_loopback_address():
    """An IPv4 address of this host other than 127.x (a caller from another
    host, as far as a listener can tell)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                         capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        addr = line.split()[3].split("/")[0]
        if not addr.startswith("127."):
            return addr
    raise stack.TestFailure("this host has no non-loopback IPv4 address to call from")


# ---- API2: broken authentication ------------------------------------------

def test_no_or_bad_token(ctx):
    pid = ctx["pid"]
    uid = user("auth")
    now = int(time.time())
    good = stack.mint(uid, ("customer",))
    bad = {
        "none": None,
        "empty bearer": "Bearer ",
        "basic": "Basic " + "YWxpY2U6c2VjcmV0",
        "malformed": "Bearer not-a-token",
        "two parts": "Bearer " + ".".join(good.split(".")[:2]),
        "expired": "Bearer " + stack.mint(uid, ("customer",), ttl_s=-120),
        "not yet valid": "Bearer " + stack.mint(uid, ("customer",), nbf=now + 600),
        "no exp": "Bearer " + stack.mint(uid, ("customer",), exp=None),
        "wrong key": "Bearer " + stack.mint(uid, ("customer",), key="k" * 40),
        "alg none": "Bearer " + stack.jwt_encode(
            {"sub": uid, "roles": ["customer"], "exp": now + 600},
            header={"alg": "none"}).rsplit(".", 1)[0] + ".",
        "alg HS512 label": "Bearer " + stack.jwt_encode(
            {"sub": uid, "roles": ["customer"], "exp": now + 600},
            header={"alg": "HS512", "typ": "JWT"}),
        "tampered claims": "Bearer " + good.split(".")[0] + "." + stack.mint(
            uid, ("admin",)).split(".")[1] + "." + good.split(".")[2],
        "no roles": "Bearer " + stack.mint(uid, ()),
        "unknown role": "Bearer " + stack.mint(uid, ("root",)),
        "bad subject": "Bearer " + stack.mint("a b", ("customer",)),
    }
    for name, auth in bad.items():
        res = stack.create_order(order_body(uid, pid), auth=auth)
        problem(res, 401, "POST /api/orders with %s token" % name)
        check("bearer" in res.headers.get("www-authenticate", "").lower(),
              "401 says WWW-Authenticate: Bearer (%s): %r" % (name, dict(res.headers)))
        problem(stack.get("%s/api/orders/%s" % (ORDER, uuid.uuid4()), auth=auth), 401,
                "GET /api/orders with %s token" % name)
    check(orders_of(uid) == 0, "no order was created for %s" % uid)
    # the same request with the good token is accepted: the refusals were the token's
    expect_status(stack.create_order(order_body(uid, pid), auth="Bearer " + good), 202,
                  "the same order with a valid token")


# ---- API5: broken function-level authorization ----------------------------

def test_customer_cannot_use_admin_functions(ctx):
    pid = ctx["pid"]
    cust = stack.customer_auth(user("bfla"))
    before = counts(pid)
    problem(stack.request("PUT", "%s/api/inventory/%s" % (INVENTORY, pid),
                          {"available": 1, "price": 1}, auth=cust), 403, "customer sets stock")
    problem(stack.request("PUT", "%s/api/inventory/%s" % (INVENTORY, pid),
                          {"available": 1, "price": 1}, auth=None), 401, "anonymous sets stock")
    check(counts(pid) == before, "stock and price unchanged: %r -> %r" % (before, counts(pid)))
    problem(stack.request("POST", NOTIFICATION + "/api/notifications",
                          {"userId": user("bfla"), "subject": "Your account",
                           "message": "click here"}, auth=cust), 403, "customer sends a notice")
    check(notifications_of(user("bfla")) == 0, "no notification recorded")
    for svc in ("order", "payment"):
        sidecar = stack.SIDECARS[svc]
        problem(stack.get(sidecar + "/dlq", auth=cust), 403, "customer lists %s's DLQ" % svc)
        problem(stack.request("POST", sidecar + "/dlq/redrive", {"all": True}, auth=cust), 403,
                "customer re-drives %s's DLQ" % svc)
        problem(stack.get(sidecar + "/dlq", auth=None), 401, "anonymous lists %s's DLQ" % svc)
    config = stack.get_json(stack.GATEWAY + "/admin/config")
    problem(stack.get(stack.GATEWAY + "/admin/config", auth=cust), 403,
            "customer reads the gateway's config")
    problem(stack.request("POST", stack.GATEWAY + "/admin/config", {"declineRate": 1.0},
                          auth=cust), 403, "customer reconfigures the gateway")
    problem(stack.request("POST", stack.GATEWAY + "/admin/config", {"declineRate": 1.0},
                          auth=None), 401, "anonymous reconfigures the gateway")
    check(stack.get_json(stack.GATEWAY + "/admin/config") == config, "gateway config unchanged")
    problem(stack.get(PAYMENT + "/api/payments/reconciliation", auth=cust), 403,
            "customer reads the reconciliation")


# ---- API1: broken object-level authorization ------------------------------

def test_customers_see_only_their_own(ctx):
    pid = ctx["pid"]
    alice, bob = user("alice"), user("bob")
    oid = place(alice, pid)
    stack.wait_terminal(oid)
    as_alice, as_bob = stack.customer_auth(alice), stack.customer_auth(bob)
    expect_status(stack.get("%s/api/orders/%s" % (ORDER, oid), auth=as_alice), 200,
                  "alice reads her order")
    missing = str(uuid.uuid4())
    theirs = stack.get("%s/api/orders/%s" % (ORDER, oid), auth=as_bob)
    absent = stack.get("%s/api/orders/%s" % (ORDER, missing), auth=as_bob)
    problem(theirs, 404, "bob reads alice's order")
    problem(absent, 404, "bob reads an order that does not exist")
    check(theirs.body.decode().replace(oid, "ID") == absent.body.decode().replace(missing, "ID"),
          "another's order reads as a missing one: %s / %s" % (theirs, absent))
    check(alice not in theirs.body.decode(), "the 404 does not name the owner")
    expect_status(stack.get("%s/api/payments/%s" % (PAYMENT, oid), auth=as_alice), 200,
                  "alice reads her payment")
    problem(stack.get("%s/api/payments/%s" % (PAYMENT, oid), auth=as_bob), 404,
            "bob reads alice's payment")
    notes = stack.eventually(
        lambda: stack.get_json("%s/api/notifications?orderId=%s" % (NOTIFICATION, oid),
                               auth=as_alice)["items"] or None,
        "alice's notification", 20)
    doc = stack.get_json("%s/api/notifications?orderId=%s" % (NOTIFICATION, oid), auth=as_bob)
    check(doc.get("items") == [], "bob lists no notification of alice's order: %r" % doc)
    doc = stack.get_json(NOTIFICATION + "/api/notifications", auth=as_bob)
    check(all(n.get("userId") == bob for n in doc.get("items", [])),
          "bob's own list holds only his: %r" % doc.get("items", [])[:2])
    problem(stack.get("%s/api/notifications?userId=%s" % (NOTIFICATION, alice), auth=as_bob),
            403, "bob asks for alice's list")
    problem(stack.get("%s/api/notifications/%s" % (NOTIFICATION, notes[0]["notificationId"]),
                      auth=as_bob), 404, "bob reads alice's notification")
    body = stack.get("%s/api/notifications" % NOTIFICATION, auth=as_bob).body.decode()
    check("@" not in body or alice not in body, "no e-mail address of alice leaks to bob")


def test_idempotency_keys_are_per_user(ctx):
    pid = ctx["pid"]
    alice, bob = user("idem-a"), user("idem-b")
    key = "shared-" + RUN
    res = stack.create_order(order_body(alice, pid, 1), key, auth=stack.customer_auth(alice))
    expect_status(res, 202, "alice orders with a key")
    alice_oid = res.json()["orderId"]
    res = stack.create_order(order_body(bob, pid, 2), key, auth=stack.customer_auth(bob))
    expect_status(res, 202, "bob's order with the same key is his own, new order")
    check(res.json()["orderId"] != alice_oid and alice_oid not in res.body.decode(),
          "bob learns nothing of alice's order: %s" % res)
    res = stack.create_order(order_body(alice, pid, 1), key, auth=stack.customer_auth(alice))
    expect_status(res, 200, "alice's replay")
    check(res.json()["orderId"] == alice_oid, "alice's replay gives her order")


# ---- API3: property-level authorization (mass assignment) -----------------

def test_mass_assignment(ctx):
    pid = ctx["pid"]
    alice, mallory = user("ma-a"), user("ma-m")
    # ordering for someone else
    res = stack.create_order(order_body(alice, pid), auth=stack.customer_auth(mallory))
    doc = problem(res, 403, "mallory orders as alice")
    check(doc.get("field") == "userId", "the refusal names userId: %r" % doc)
    check(orders_of(alice) == 0 and orders_of(mallory) == 0, "no order for either")
    # fields the client does not own are ignored: the price is the catalogue's,
    # the state the saga's
    res = stack.create_order(order_body(mallory, pid, 2, totalAmount=1, status="CONFIRMED",
                                        orderId=str(uuid.uuid4()), currency="XXX",
                                        items=[{"productId": pid, "quantity": 2,
                                                "unitPrice": 1, "price": 1}]),
                             auth=stack.customer_auth(mallory))
    expect_status(res, 202, "an order with extra members")
    doc = res.json()
    check(doc["totalAmount"] == 2 * PRICE and doc["status"] == "PENDING" and
          doc["currency"] != "XXX", "server-side price and state: %r" % doc)
    final = stack.wait_terminal(doc["orderId"])
    check(final["totalAmount"] == 2 * PRICE, "charged the catalogue price: %r" % final)
    # an omitted userId is the token's
    res = stack.create_order({"items": [{"productId": pid, "quantity": 1}]},
                             auth=stack.customer_auth(mallory))
    expect_status(res, 202, "an order without userId")
    check(stack.order(res.json()["orderId"])["userId"] == mallory, "the token's user orders")


# ---- money: no charge outside the saga -------------------------------------

def test_no_money_outside_the_saga(ctx):
    oid = str(uuid.uuid4())
    for auth in (None, stack.customer_auth(user("pay")), stack.admin_auth()):
        res = stack.request("POST", PAYMENT + "/api/payments",
                            {"orderId": oid, "amount": 1, "currency": "USD"}, auth=auth)
        problem(res, 410, "POST /api/payments")
    check(stack.sql("SELECT COUNT(*) FROM payments WHERE order_id = '%s'" % oid,
                    "payment_db")[0][0] == "0", "no payment row")
    # the payment sidecar's egress to the gateway is the pod's own: from another
    # address it refuses (here: this host's non-loopback address)
    addr = non_loopback_address()
    _, port = host_port(stack.SIDECARS["payment"])
    for path in ("/egress/gateway/v1/refunds", "/egress/gateway/v1/charges"):
        status, head, body = raw_http(addr, port, (
            "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\n{}" % path).encode())
        check(status == 403 and "application/problem+json" in head.lower(),
              "egress %s from %s: want a 403 problem, got %d %s" % (path, addr, status,
                                                                   body[:200]))
    # and nothing reaches the event listener from outside: not on the public port...
    problem(stack.request("POST", ORDER + "/internal/events", {"messages": []}), 404,
            "POST /internal/events on the public port")
    # ...and the internal one listens on 127.0.0.1 only
    _, iport = host_port(stack.INTERNAL["order"])
    try:
        socket.create_connection((addr, iport), timeout=3).close()
        reachable = True
    except OSError:
        reachable = False
    check(not reachable, "the internal listener does not answer on %s:%d" % (addr, iport))
    check(stack.sql("SELECT COUNT(*) FROM payments WHERE order_id = '%s'" % oid,
                    "payment_db")[0][0] == "0", "still no payment row for %s" % oid)


# ---- API4: unrestricted resource consumption, input edges -----------------

def test_rate_limit(ctx):
    pid = ctx["pid"]
    uid = user("flood")
    auth = stack.customer_auth(uid)
    # 160 orders from 16 threads at once: far past the burst (40) whatever
    # the stack's speed (20/s refill)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: stack.create_order(order_body(uid, pid), auth=auth),
                                range(160)))
    statuses = [r.status for r in results]
    limited = [r for r in results if r.status == 429]
    check(limited, "a flood meets 429: %r" % sorted(set(statuses)))
    problem(limited[0], 429, "the 429")
    retry = limited[0].headers.get("retry-after")
    check(retry is not None and retry.isdigit() and int(retry) >= 1,
          "429 carries Retry-After: %r" % retry)
    check(set(statuses) <= {202, 429}, "only accepted or limited: %r" % sorted(set(statuses)))
    accepted = sum(1 for s in statuses if s == 202)
    check(orders_of(uid) == accepted, "exactly the accepted orders exist (%d)" % accepted)
    # another user is not held back by the flood
    expect_status(stack.create_order(order_body(user("calm"), pid),
                                     auth=stack.customer_auth(user("calm"))), 202,
                  "another user orders meanwhile")


def test_input_edges(ctx):
    pid = ctx["pid"]
    uid = user("edges")
    auth = stack.customer_auth(uid)
    admin = stack.admin_auth()
    victim = product("nul")
    before = counts(victim)
    # a percent-encoded NUL or control character in a path
    problem(stack.request("PUT", "%s/api/inventory/%s%%00evil" % (INVENTORY, victim),
                          {"available": 1, "price": 1}, auth=admin), 400, "NUL in a path")
    problem(stack.request("PUT", "%s/api/inventory/%s%%0Aevil" % (INVENTORY, victim),
                          {"available": 1, "price": 1}, auth=admin), 400, "LF in a path")
    check(counts(victim) == before, "the product before the NUL is untouched")
    oid = place(uid, pid)
    problem(stack.get("%s/api/orders/%s%%00junk" % (ORDER, oid), auth=auth), 400,
            "GET an order id with a NUL and junk")
    # JSON bodies only
    n = orders_of(uid)
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                  None):
        headers = {"Content-Type": ctype} if ctype else {}
        res = stack.request("POST", ORDER + "/api/orders",
                            raw=json.dumps(order_body(uid, pid)).encode(), headers=headers,
                            auth=auth)
        problem(res, 415, "POST /api/orders as %s" % ctype)
    problem(stack.request("PUT", "%s/api/inventory/%s" % (INVENTORY, victim),
                          raw=b'{"available": 1, "price": 1}',
                          headers={"Content-Type": "text/plain"}, auth=admin), 415,
            "PUT stock as text/plain")
    check(orders_of(uid) == n and counts(victim) == before, "nothing created or changed")
    # sizes: a long path, large headers, a large body, all problem+json
    token = auth.split(" ", 1)[1]
    for what, req, status in (
            ("a 3 KiB path", "GET /api/orders/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
             "%s\r\nConnection: close\r\n\r\n" % ("a" * 3000, token), 414),
            ("20 KiB of headers", "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n"
             "Connection: close\r\n\r\n" % ("p" * 20000), 431),
            ("a body announced at 10 MiB", "POST /api/orders HTTP/1.1\r\nHost: x\r\n"
             "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
             "Content-Length: 10485760\r\nConnection: close\r\n\r\n" % token, 413)):
        raw_problem(ORDER, req, status, what)
    check(orders_of(uid) == n, "no order from the oversized requests")


def test_server_library_refusals(ctx):
    """What libmicrohttpd refuses by itself, before the service sees the
    request, is problem+json too (third_party/libmicrohttpd): each carries a
    whole valid order, and none may be placed."""
    pid = product("mhd", 50)
    uid = user("mhd")
    token = stack.customer_auth(uid).split(" ", 1)[1]
    order = json.dumps(order_body(uid, pid))
    before = counts(pid)

    def post(headers, body=order, path="/api/orders", version="HTTP/1.1"):
        return ("POST %s %s\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\n%sConnection: close\r\n\r\n%s"
                % (path, version, token, headers, body))

    chunked = "Transfer-Encoding: chunked\r\n"
    cases = (
        ("a Content-Length over 64 bits",
         post("Content-Length: 99999999999999999999999\r\n"), 413),
        ("a Content-Length that is not a number",
         post("Content-Length: 12abc\r\n"), 400),
        # the services set no MHD_OPTION_CONNECTION_MEMORY_LIMIT: MHD's 32 KiB pool
        ("200 KiB of headers",
         post("Content-Length: %d\r\n%s" % (len(order), "".join(
             "X-Pad-%d: %s\r\n" % (i, "p" * 1000) for i in range(200)))), 431),
        ("a 40 KiB request line",
         post("Content-Length: %d\r\n" % len(order), path="/api/orders?" + "q" * 40000), 414),
        ("a malformed chunk size after a whole order",
         post(chunked, body="%x\r\n%s\r\nzz\r\n\r\n" % (len(order), order)), 400),
        ("a chunk size over 64 bits",
         post(chunked, body="%s\r\n%s\r\n0\r\n\r\n" % ("f" * 20, order)), 413),
        ("HTTP/2.0 in the request line",
         post("Content-Length: %d\r\n" % len(order), version="HTTP/2.0"), 505),
        ("HTTP/0.9 in the request line",
         post("Content-Length: %d\r\n" % len(order), version="HTTP/0.9"), 505),
        ("a malformed HTTP version",
         post("Content-Length: %d\r\n" % len(order), version="HTTP/1.x"), 400),
    )
    for what, req, status in cases:
        raw_problem(ORDER, req, status, what)
    # every other server links the same library
    for name, url in ([(svc, u) for svc, u in stack.SERVICES.items() if svc != "order"] +
                      [("%s sidecar" % svc, u) for svc, u in stack.SIDECARS.items()] +
                      [("gateway-sim", stack.GATEWAY)]):
        raw_problem(url, cases[0][1], 413, "%s: %s" % (name, cases[0][0]))
    check(orders_of(uid) == 0, "no order was placed for %s" % uid)
    check(counts(pid) == before, "stock unchanged: %r -> %r" % (before, counts(pid)))
    # the same order, well formed, is accepted: the refusals were the framing's
    res = stack.create_order(order_body(uid, pid), auth="Bearer " + token)
    expect_status(res, (201, 202), "the same order, well framed")


# ---- API7 SSRF, API10 unsafe consumption -----------------------------------

def test_no_client_chosen_destinations(ctx):
    admin = stack.admin_auth()
    uid = user("ssrf")
    for field, value in (("recipient", "victim@example.com"),
                         ("recipient", "http://169.254.169.254/latest/meta-data/")):
        res = stack.request("POST", NOTIFICATION + "/api/notifications",
                            {"userId": uid, "subject": "s", "message": "m", field: value},
                            auth=admin)
        doc = problem(res, 422, "a notification to a client-chosen %s" % field)
        check(doc.get("field") == field, "the refusal names %s: %r" % (field, doc))
    check(notifications_of(uid) == 0, "no notification sent to %s" % uid)
    # a notification goes to the contact stored for the user, never elsewhere
    res = stack.request("POST", NOTIFICATION + "/api/notifications",
                        {"userId": uid, "subject": "s", "message": "m"}, auth=admin)
    expect_status(res, 201, "a notification to the stored contact")
    rcpt = res.json().get("recipient", "")
    check(rcpt.endswith("@customers.invalid") or "@" in rcpt and "169.254" not in rcpt,
          "sent to the stored (or the fallback) contact: %r" % rcpt)
    # the gateway's answers are capped: the payment sidecar refuses to read more
    # than HTTPC_MAX_RESPONSE (unit-tested: tests/unit/test_httpc_cap.c); here the gateway's
    # config accepts no URL or unknown member to redirect payment traffic
    res = stack.request("POST", stack.GATEWAY + "/admin/config",
                        {"callbackUrl": "http://169.254.169.254/"}, auth=admin)
    problem(res, 422, "a URL in the gateway's config")


# ---- API8: misconfiguration ------------------------------------------------

def test_no_start_without_keys(ctx):
    env = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "JWT_PUBLIC_KEY_FILE")}
    env.update({"HTTP_PORT": "18181", "INTERNAL_HTTP_PORT": "20181", "DB_WAIT_S": "0",
                "LOG_LEVEL": "info"})
    for binary, extra, needle in (
            ("order-service", {}, "JWT_SECRET"),
            ("order-service", {"JWT_SECRET": "short"}, "at least 32"),
            ("order-service", {"JWT_SECRET": "x" * 40, "INTERNAL_HTTP_PORT": ""},
             "INTERNAL_HTTP_PORT"),
            ("gateway-sim", {"HTTP_PORT": "18189"}, "JWT_SECRET")):
        path = os.path.join(BIN_DIR, binary)
        check(os.path.exists(path), "%s is built" % path)
        e = dict(env, **extra)
        e = {k: v for k, v in e.items() if v != ""}
        try:
            out = subprocess.run([path], env=e, capture_output=True, text=True, timeout=20,
                                 cwd=stack.ROOT)
        except subprocess.TimeoutExpired:
            raise stack.TestFailure("%s with %r kept running" % (binary, extra))
        check(out.returncode != 0, "%s with %r refuses to start" % (binary, extra))
        check(needle in out.stdout + out.stderr,
              "%s says why (%s): %s" % (binary, needle, (out.stdout + out.stderr)[-300:]))


def test_no_secret_in_logs(ctx):
    secrets_dir = os.path.join(stack.RUN_DIR, "secrets")
    secrets = []
    for name in os.listdir(secrets_dir):
        with open(os.path.join(secrets_dir, name)) as f:
            secrets.append((name, f.read().strip()))
    check(secrets, "the stack's secrets are in %s" % secrets_dir)
    mode = os.stat(secrets_dir).st_mode & 0o777
    check(mode == 0o700, "%s is private (mode %o)" % (secrets_dir, mode))
    token = stack.admin_auth().split(" ", 1)[1]
    logs = os.path.join(stack.RUN_DIR, "logs")
    for fname in os.listdir(logs):
        with open(os.path.join(logs, fname), errors="replace") as f:
            text = f.read()
        for name, value in secrets:
            check(value not in text, "secret %s appears in %s" % (name, fname))
        check(token.split(".")[2] not in text, "a token appears in %s" % fname)


def test_sql_literals_kept_verbatim(ctx):
    """Text that SQL gives meaning to (quotes, backslashes, comments, control
    characters, multibyte UTF-8) is stored byte for byte: the services build
    statements as text and escape each literal (svc_sql_add_str, svc/db.h)."""
    admin = stack.admin_auth()
    tricky = ("O'Brien's \"tea\" pot \\ \\' \\\\'' \\0 \n\r\t\x1a "
              "' OR '1'='1' -- ; DROP TABLE products; # /* */ \u00fc \u20ac \U0001F600")
    for i, name in enumerate((tricky, "\\", "'", "\\'", "x\\")):
        pid = "%s-sqltext%d" % (RUN, i)
        expect_status(stack.request("PUT", "%s/api/inventory/%s" % (INVENTORY, pid),
                                    {"available": 3, "price": PRICE, "name": name}, auth=admin),
                      (200, 201), "PUT a product named %r" % name)
        row = stack.sql("SELECT HEX(name), available FROM products WHERE product_id = '%s'" % pid,
                        "inventory_db")
        check(row and row[0][0] == name.encode("utf-8").hex().upper() and row[0][1] == "3",
              "the row holds the name byte for byte: %r for %r" % (row, name))
        got = stack.get_json("%s/api/inventory/%s" % (INVENTORY, pid))
        check(got.get("name") == name, "GET returns the name as sent: %r" % got.get("name"))
    check(int(stack.sql("SELECT COUNT(*) FROM products WHERE product_id LIKE '%s-sqltext%%'" % RUN,
                        "inventory_db")[0][0]) == 5, "five products, nothing else touched")


TESTS = [
    ("no_or_bad_token", test_no_or_bad_token),
    ("customer_cannot_use_admin_functions", test_customer_cannot_use_admin_functions),
    ("customers_see_only_their_own", test_customers_see_only_their_own),
    ("idempotency_keys_are_per_user", test_idempotency_keys_are_per_user),
    ("mass_assignment", test_mass_assignment),
    ("no_money_outside_the_saga", test_no_money_outside_the_saga),
    ("rate_limit", test_rate_limit),
    ("input_edges", test_input_edges),
    ("sql_literals_kept_verbatim", test_sql_literals_kept_verbatim),
    ("server_library_refusals", test_server_library_refusals),
    ("no_client_chosen_destinations", test_no_client_chosen_destinations),
    ("no_start_without_keys", test_no_start_without_keys),
    ("no_secret_in_logs", test_no_secret_in_logs),
]


def main(argv):
    return stack.run_tests(TESTS, argv, lambda: {"pid": product("stock", 100000)},
                           lambda ctx: "security run %s against %s" % (RUN, ORDER))

if __name__ == "__main__":
    sys.exit(main(sys.argv))
