"""The running stack as the fault tests see it: where it runs (the same
environment scripts/stack.sh reads), starting and stopping its parts, SQL as
MariaDB's root over the socket, readiness and the order service's saga
deadlines.

The endpoints come from tests/e2e/stack.py, which derives them from the
same port variables (ORDER_PORT, ..., KAFKA_PORT).
"""

import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUN_DIR = os.path.join(ROOT, os.environ.get("RUN_DIR", "run"))  # join keeps an absolute RUN_DIR
SOCKET = os.path.join(RUN_DIR, "mariadb", "mysqld.sock")
SERVICE_NAMES = ("order", "payment", "inventory", "notification")
SAGA_VARS = ("SAGA_TIMEOUT_INVENTORY_MS", "SAGA_TIMEOUT_PAYMENT_MS", "SAGA_TIMEOUT_COMPENSATION_MS")


sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import stack  # noqa: E402
from stack import TestFailure, check, service_port  # noqa: E402,F401  (re-exported)


def log(msg):
    print("    " + msg, flush=True)


# ---- processes -------------------------------------------------------------

def stack_sh(*args, env=None, timeout=240):
    """Runs scripts/stack.sh ARGS with this environment (plus `env`); fails the
    test with the script's output when it fails. Returns the seconds it took
    and prints its notes about forced stops (SIGKILL)."""
    full = dict(os.environ)
    full.update(env or {})
    t0 = time.monotonic()
    out = subprocess.run([os.path.join(ROOT, "scripts", "stack.sh")] + list(args), cwd=ROOT,
                         env=full, capture_output=True, timeout=timeout, check=False)
    check(out.returncode == 0, "stack.sh %s: exit %d\n%s%s" % (
        " ".join(args), out.returncode, out.stdout.decode()[-1500:], out.stderr.decode()[-1500:]))
    for line in out.stdout.decode("utf-8", "replace").splitlines():
        if "SIGKILL" in line:
            log(line)
    return time.monotonic() - t0


def pid_of(name):
    """The pid stack.sh recorded for NAME (e.g. "payment-service"), or None."""
    try:
        with open(os.path.join(RUN_DIR, "pids", name + ".pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def proc_environ(pid):
    """The environment a running process started with."""
    with open("/proc/%d/environ" % pid, "rb") as f:
        raw = f.read().decode("utf-8", "replace")
    return dict(kv.split("=", 1) for kv in raw.split("\0") if "=" in kv)


def proc_exe(pid):
    """The binary a process runs (the file now at that path when a rebuild
    replaced it meanwhile)."""
    exe = os.readlink("/proc/%d/exe" % pid)
    return exe[:-len(" (deleted)")] if exe.endswith(" (deleted)") else exe


# ---- readiness ---------------------------------------------------------------

def ready_urls():
    urls = [stack.SERVICES[s] + "/health/ready" for s in SERVICE_NAMES]
    return urls + [stack.SIDECARS[s] + "/health/ready" for s in SERVICE_NAMES]


def not_ready():
    """The readiness URLs that do not answer 200 right now."""
    bad = []
    for url in ready_urls():
        try:
            if stack.request("GET", url).status != 200:
                bad.append(url)
        except TestFailure:
            bad.append(url)
    return bad


def wait_all_ready(since, what, limit_s=30.0):
    """Waits until every service and sidecar is ready; prints and returns the
    seconds since `since` (time.monotonic()); fails beyond limit_s."""
    last = []
    deadline = since + limit_s + 30  # keep polling a little past the limit, to report
    while time.monotonic() < deadline:
        last = not_ready()
        if not last:
            took = time.monotonic() - since
            log("recovery time (%s): every service and sidecar ready after %.1f s" % (what, took))
            check(took <= limit_s, "%s: ready only after %.1f s (limit %.0f s)" % (what, took, limit_s))
            return took
        time.sleep(0.25)
    raise TestFailure("%s: still not ready after %.0f s: %s" % (what, deadline - since, last))


# ---- SQL ------------------------------------------------------------------------

def sql(query, db=None, timeout=30):
    """Runs `query` as MariaDB's root over the socket; returns the rows as
    lists of strings (NULL as None). TestFailure when the server is down."""
    cmd = ["mariadb", "--no-defaults", "-uroot", "--socket=" + SOCKET, "-N", "-B", "-e", query]
    if db:
        cmd.append(db)
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TestFailure("mariadb client: %s" % e)
    check(out.returncode == 0, "SQL failed (%s): %s" % (query[:120], out.stderr.decode()[-300:]))
    rows = []
    for line in out.stdout.decode("utf-8", "replace").splitlines():
        rows.append([None if c == "NULL" else c for c in line.split("\t")])
    return rows


def sql_list(values):
    """A SQL list literal of ids (they are UUIDs and our own product ids)."""
    for v in values:
        check("'" not in v and "\\" not in v, "plain id %r" % v)
    return "(" + ",".join("'%s'" % v for v in values) + ")" if values else "('')"


# ---- the saga deadlines -----------------------------------------------------------

def saga_env_wanted():
    """The SAGA_* deadlines the fault tests run with (short; overridable)."""
    for var in SAGA_VARS:
        os.environ.setdefault(var, "4000")
    return {var: os.environ[var] for var in SAGA_VARS}


def deadline_s(var="SAGA_TIMEOUT_PAYMENT_MS"):
    return int(os.environ[var]) / 1000.0


def ensure_saga_env():
    """Restarts the order service when it runs with other SAGA_* deadlines
    than wanted. Returns the values it ran with when it was restarted (to
    restore at the end), else None."""
    want = saga_env_wanted()
    pid = pid_of("order-service")
    check(pid is not None, "order-service runs (pid file in %s)" % RUN_DIR)
    env = proc_environ(pid)
    had = {var: env.get(var) for var in SAGA_VARS}
    if all(had[v] == want[v] for v in SAGA_VARS):
        return None
    log("order-service runs with %s: restarting it with %s" % (had, want))
    stack_sh("restart", "order", env={"BIN_DIR": os.path.dirname(proc_exe(pid))})
    return had


def restore_saga_env(had):
    """Restarts the order service with the deadlines it had before."""
    if had is None:
        return
    env = {k: v for k, v in os.environ.items() if k not in SAGA_VARS}
    env.update({k: v for k, v in had.items() if v is not None})
    env["BIN_DIR"] = os.path.dirname(proc_exe(pid_of("order-service")))
    out = subprocess.run([os.path.join(ROOT, "scripts", "stack.sh"), "restart", "order"],
                         cwd=ROOT, env=env, capture_output=True, timeout=240, check=False)
    log("order-service restarted with its former deadlines (exit %d)" % out.returncode)
