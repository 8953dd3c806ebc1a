#!/usr/bin/env python3
"""Seeding benchmark (make seed-bench): times the full generator run against the
running stack and then the inventory lookup of random seeded products.

Prints the figures and writes them to run/bench/seed.json.
Environment: PRODUCTS (10000000), USERS (1000000), SEED (42), SEED_BIN, DB_SOCKET,
RUN_DIR (run), INVENTORY_URL, LOOKUPS (2000). The lookups are public: no token.
"""
import http.client
import json
import os
import platform
import random
import subprocess
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRODUCTS = int(os.environ.get("PRODUCTS", "10000000"))
USERS = int(os.environ.get("USERS", "1000000"))
SEED = os.environ.get("SEED", "42")
SEED_BIN = os.environ.get("SEED_BIN", os.path.join(ROOT, "build/bin/seed"))
RUN_DIR = os.path.join(ROOT, os.environ.get("RUN_DIR", "run"))  # the seed finds passwords there
SOCKET = os.environ.get("DB_SOCKET", os.path.join(RUN_DIR, "mariadb/mysqld.sock"))
INVENTORY = urllib.parse.urlparse(os.environ.get("INVENTORY_URL", "http://127.0.0.1:8083"))
LOOKUPS = int(os.environ.get("LOOKUPS", "2000"))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main():
    cmd = [SEED_BIN, "--products", str(PRODUCTS), "--users", str(USERS), "--seed", SEED]
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, env=dict(os.environ, DB_SOCKET=SOCKET, RUN_DIR=RUN_DIR))
    seconds = time.monotonic() - t0

    conn = http.client.HTTPConnection(INVENTORY.hostname, INVENTORY.port, timeout=10)
    lat = []
    for _ in range(LOOKUPS):
        pid = "P%09d" % random.randint(1, PRODUCTS)
        t = time.perf_counter()
        conn.request("GET", f"/api/inventory/{pid}")
        resp = conn.getresponse()
        body = resp.read()
        lat.append((time.perf_counter() - t) * 1000.0)
        if resp.status != 200:
            raise SystemExit(f"lookup of {pid}: HTTP {resp.status} {body[:200]!r}")
    result = {
        "command": " ".join(cmd),
        "products": PRODUCTS, "users": USERS,
        "seconds": round(seconds, 2),
        "rows_per_second": round((PRODUCTS + USERS) / seconds),
        "lookup_ms": {"n": LOOKUPS, "p50": round(pct(lat, 50), 3), "p99": round(pct(lat, 99), 3),
                      "max": round(max(lat), 3)},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    os.makedirs(os.path.join(ROOT, "run/bench"), exist_ok=True)
    with open(os.path.join(ROOT, "run/bench/seed.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
