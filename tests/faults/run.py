#!/usr/bin/env python3
"""Fault-injection tests against a running stack (scripts/stack.sh up; `make
faults` starts it with sanitized binaries and short saga deadlines).

    python3 tests/faults/run.py [scenario ...]

Runs every scenario (or the named ones) in order; each makes a part of the
system fail during a burst of orders, restores it and checks the invariants
(invariants.py). Prints each result and ends with one line
"N passed, N failed"; exits 1 when anything failed.

Environment: the stack's (RUN_DIR, ORDER_PORT, ..., KAFKA_PORT, as for
scripts/stack.sh), SAGA_TIMEOUT_{INVENTORY,PAYMENT,COMPENSATION}_MS (4000
each): an order service running with other deadlines is restarted with
these, and with its former ones at the end. Requests carry bearer tokens
minted by tests/e2e/stack.py (E2E_JWT_SECRET, JWT_SECRET or the stack's
RUN_DIR/secrets/jwt).
"""

import os
import sys
import time
import traceback

import cluster
import scenarios
from cluster import TestFailure


def heal():
    """After a failed scenario: every part running and ready again."""
    pid = cluster.pid_of("order-service")
    env = {"BIN_DIR": os.path.dirname(cluster.proc_exe(pid))} if pid else {}
    try:
        cluster.stack_sh("up", env=env)
        cluster.wait_all_ready(time.monotonic(), "after a failed scenario", 60)
    except (TestFailure, OSError) as e:
        print("    cannot heal the stack: %s" % e, flush=True)


def main(argv):
    known = [name for name, _ in scenarios.SCENARIOS]
    wanted = set(argv[1:])
    if wanted - set(known):
        print("unknown scenario(s): %s (known: %s)" % (", ".join(sorted(wanted - set(known))), ", ".join(known)))
        return cluster.stack.summary(0, [(name, "no such scenario") for name in sorted(wanted - set(known))])
    print("fault tests against %s (deadlines %s)" % (cluster.stack.SERVICES["order"], cluster.saga_env_wanted()))
    passed, failures = 0, []
    had = None
    try:
        had = cluster.ensure_saga_env()
        cluster.wait_all_ready(time.monotonic(), "stack before the scenarios", 60)
    except TestFailure as e:
        print("setup: FAIL: %s" % e)
        return cluster.stack.summary(0, [("setup", str(e))])
    try:
        for name, fn in scenarios.SCENARIOS:
            if wanted and name not in wanted:
                continue
            t0 = time.monotonic()
            print("%s ..." % name, flush=True)
            try:
                fn()
                passed += 1
                print("%s: PASS (%.1f s)" % (name, time.monotonic() - t0), flush=True)
                continue
            except TestFailure as e:
                failures.append((name, str(e)))
                print("%s: FAIL (%.1f s): %s" % (name, time.monotonic() - t0, e), flush=True)
            except Exception as e:  # noqa: BLE001 - a broken scenario is a failed one
                failures.append((name, "%s: %s" % (type(e).__name__, e)))
                print("%s: ERROR\n%s" % (name, traceback.format_exc()), flush=True)
            heal()
    finally:
        cluster.restore_saga_env(had)
    return cluster.stack.summary(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
