#!/usr/bin/env python3
"""Checks the test-data generator against the running stack (make seed-check).

Loads 100 k products and 10 k users with a fixed seed, and checks: the counts;
a second run adds no duplicates and changes nothing; the same seed reproduces
the same data byte for byte (checksums over the rows), another seed does not;
an order for a random seeded product confirms; the seeded recipient is used.

Environment: SEED_BIN (build/bin/seed), DB_SOCKET (run/mariadb/mysqld.sock),
RUN_DIR (run: the seed finds the database passwords under its secrets/),
ORDER_URL, INVENTORY_URL, NOTIFICATION_URL (the local stack's ports). The
HTTP calls carry bearer tokens (tests/e2e/stack.py: the order the seeded
user's, the rest an admin's; E2E_JWT_SECRET, JWT_SECRET or RUN_DIR/secrets/jwt).
Ends with one line "N passed, N failed".
"""
import os
import random
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import stack  # noqa: E402  (the e2e HTTP helper: tokens)

SEED_BIN = os.environ.get("SEED_BIN", os.path.join(ROOT, "build/bin/seed"))
SOCKET = os.environ.get("DB_SOCKET", os.path.join(stack.RUN_DIR, "mariadb/mysqld.sock"))
ORDER = stack.SERVICES["order"]
INVENTORY = stack.SERVICES["inventory"]
NOTIFICATION = stack.SERVICES["notification"]
PRODUCTS, USERS = 100000, 10000
FIRST_P, LAST_P = "P000000001", "P%09d" % PRODUCTS
FIRST_U, LAST_U = "U000000001", "U%09d" % USERS


def seed(seed_value, replace=True):
    args = [SEED_BIN, "--products", str(PRODUCTS), "--users", str(USERS),
            "--seed", str(seed_value)]
    if replace:
        args.append("--replace")
    env = dict(os.environ, DB_SOCKET=SOCKET, RUN_DIR=stack.RUN_DIR)
    t0 = time.monotonic()
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def sql(db, query):
    out = subprocess.run(["mariadb", "-uroot", "-S", SOCKET, "-N", "-B", db, "-e", query],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("\t")


def fingerprint():
    products = sql("inventory_db",
                   "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('|', product_id, name, price,"
                   " available, reserved, sold))) FROM products"
                   f" WHERE product_id BETWEEN '{FIRST_P}' AND '{LAST_P}'")
    users = sql("notification_db",
                "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('|', user_id, email, phone)))"
                f" FROM contacts WHERE user_id BETWEEN '{FIRST_U}' AND '{LAST_U}'")
    return tuple(products), tuple(users)


def http(method, url, body=None):
    """The JSON answer of a 2xx; AssertionError otherwise."""
    res = stack.request(method, url, body)
    assert 200 <= res.status < 300, "%s %s: %r" % (method, url, res)
    return res.json()


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


STATE = {}


@check
def seed_loads_the_requested_counts():
    took = seed(7)
    fp = fingerprint()
    print(f"    {PRODUCTS} products + {USERS} users in {took:.2f} s")
    assert fp[0][0] == str(PRODUCTS), fp
    assert fp[1][0] == str(USERS), fp
    STATE["fp7"] = fp


@check
def second_run_adds_no_duplicates_and_changes_nothing():
    seed(7, replace=False)
    assert fingerprint() == STATE["fp7"]


@check
def same_seed_reproduces_the_same_rows():
    seed(8)
    fp8 = fingerprint()
    assert fp8[0][0] == str(PRODUCTS) and fp8[0] != STATE["fp7"][0], (fp8, STATE["fp7"])
    seed(7)
    assert fingerprint() == STATE["fp7"]


@check
def order_for_a_seeded_product_confirms():
    pid = "P%09d" % random.randint(1, PRODUCTS)
    uid = "U%09d" % random.randint(1, USERS)
    product = http("GET", f"{INVENTORY}/api/inventory/{pid}")
    assert product["available"] >= 10 and 100 <= product["price"] <= 100000, product
    order = http("POST", f"{ORDER}/api/orders",
                 {"userId": uid, "items": [{"productId": pid, "quantity": 1}]})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = http("GET", f"{ORDER}/api/orders/{order['orderId']}")
        if status["status"] in ("CONFIRMED", "CANCELLED"):
            break
        time.sleep(0.05)
    assert status["status"] == "CONFIRMED", status
    assert status["totalAmount"] == product["price"], (status, product)
    n = int(uid[1:])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = http("GET", f"{NOTIFICATION}/api/notifications?orderId={order['orderId']}")["items"]
        if items:
            break
        time.sleep(0.05)
    assert items and items[0]["recipient"] == f"user{n}@example.com", items


def main():
    passed = failed = 0
    for fn in CHECKS:
        print(f"{fn.__name__} ...", flush=True)
        try:
            fn()
            print(f"{fn.__name__}: PASS", flush=True)
            passed += 1
        except Exception as e:  # report every failure, keep going
            print(f"{fn.__name__}: FAIL {type(e).__name__}: {e}", flush=True)
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
