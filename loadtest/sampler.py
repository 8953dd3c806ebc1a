#!/usr/bin/env python3
"""Samples the running stack once a second for the benchmark report.

    sampler.py RUN_DIR  > samples.jsonl      (stops on SIGTERM)

Each line: {"t_ms": wall clock, "cpu": {name: CPU ticks so far}, "rss_kb":
{name: resident KiB}, "pending": orders not yet terminal (every
PENDING_EVERY-th sample, null in the others), "sidecars":
{service: the sidecar's /metrics?format=json counters}} for every process whose pid file
is in RUN_DIR/pids (services, sidecars, mariadb, redis, kafka).
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

SERVICES = {"order": 8081, "payment": 8082, "inventory": 8083, "notification": 8084}
PENDING_SQL = ("SELECT COUNT(*) FROM orders "
               "WHERE status IN ('PENDING','PAYMENT_PENDING','COMPENSATING')")
# The count reads every waiting order's index entry, and MariaDB's CPU is in
# the figures: a count every 5 s, not every second (a fifth of the cost).
PENDING_EVERY = 5

stopping = False


def on_term(_sig, _frame):
    global stopping
    stopping = True


def proc_stat(pid):
    """(utime + stime ticks, rss KiB) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # after the command: state is fields[0]; utime/stime are stat fields 14/15
        ticks = int(fields[11]) + int(fields[12])
        rss_kb = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        return ticks, rss_kb
    except (OSError, IndexError, ValueError):
        return None


def pids(run_dir):
    out = {}
    d = os.path.join(run_dir, "pids")
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        try:
            with open(os.path.join(d, name)) as f:
                out[name[:-4]] = int(f.read().strip())
        except (OSError, ValueError):
            pass
    return out


def pending(run_dir):
    try:
        r = subprocess.run(["mariadb", "--no-defaults", "-uroot", "-B", "-N",
                            f"--socket={run_dir}/mariadb/mysqld.sock", "order_db",
                            "-e", PENDING_SQL], capture_output=True, text=True, timeout=5)
        return int(r.stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def sidecar_metrics():
    out = {}
    for svc, port in SERVICES.items():
        port = int(os.environ.get(f"{svc.upper()}_PORT", port)) + 1000
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics?format=json", timeout=2) as r:
                out[svc] = json.load(r)
        except (OSError, ValueError):
            pass
    return out


def main():
    run_dir = sys.argv[1]
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "*"
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    n = 0
    while not stopping:
        start = time.time()
        cpu, rss = {}, {}
        for name, pid in pids(run_dir).items():
            st = proc_stat(pid)
            if st:
                cpu[name], rss[name] = st
        line = {"t_ms": int(start * 1000), "ticks_per_s": ticks_per_s, "cpu": cpu,
                "rss_kb": rss, "pending": pending(run_dir) if n % PENDING_EVERY == 0 else None,
                "sidecars": sidecar_metrics()}
        n += 1
        print(json.dumps(line), flush=True)
        time.sleep(max(0.0, 1.0 - (time.time() - start)))


if __name__ == "__main__":
    main()
