"""A second order-service instance with its own sidecar: the same binaries,
database, consumer group and environment as the pair scripts/stack.sh
started (copied from their /proc/<pid>/environ: JWT_SECRET and DB_PASSWORD
too), on other ports and with its own outbox wake socket. Should the first
pair lack a secret, the pair gets what scripts/stack.sh gives: JWT_SECRET
and DB_PASSWORD_ORDER from this environment, else RUN_DIR/secrets/{jwt,db-order}.

    python3 tests/faults/order2.py start|stop      (or use start()/stop())

Ports: ORDER2_PORT (ORDER_PORT + 10), ORDER2_SIDECAR_PORT (+ 1000) and
ORDER2_INTERNAL_PORT (+ 2000: the listener its sidecar delivers events to).
Logs: $RUN_DIR/logs/order2-{service,sidecar}.log.
"""

import os
import signal
import subprocess
import sys
import time

import cluster
from cluster import TestFailure, check, stack

PORT = int(os.environ.get("ORDER2_PORT", cluster.service_port("order") + 10))
SIDECAR_PORT = int(os.environ.get("ORDER2_SIDECAR_PORT", PORT + 1000))
URL = "http://127.0.0.1:%d" % PORT
INTERNAL_PORT = int(os.environ.get("ORDER2_INTERNAL_PORT", PORT + 2000))
SIDECAR_URL = "http://127.0.0.1:%d" % SIDECAR_PORT
INTERNAL_URL = "http://127.0.0.1:%d" % INTERNAL_PORT
WAKE = os.path.join(cluster.RUN_DIR, "order2.wake")
NAMES = ("order2-service", "order2-sidecar")


def _pidfile(name):
    return os.path.join(cluster.RUN_DIR, "pids", name + ".pid")


def _secret(var, name):
    """$var, else the local stack's RUN_DIR/secrets/<name> (scripts/lib/common.sh secret)."""
    if os.environ.get(var):
        return os.environ[var]
    path = os.path.join(cluster.RUN_DIR, "secrets", name)
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError as e:
        raise TestFailure("the second order instance needs %s: not set and %s unreadable (%s)"
                          % (var, path, e))


def _env_of(first, overrides):
    pid = cluster.pid_of(first)
    check(pid is not None, "%s runs (to copy its environment)" % first)
    env = cluster.proc_environ(pid)
    if not env.get("JWT_SECRET") and not env.get("JWT_PUBLIC_KEY_FILE"):
        env["JWT_SECRET"] = _secret("JWT_SECRET", "jwt")
    if not env.get("DB_PASSWORD"):
        env["DB_PASSWORD"] = _secret("DB_PASSWORD_ORDER", "db-order")
    env.update(overrides)
    return cluster.proc_exe(pid), env


def _spawn(name, exe, env):
    log = open(os.path.join(cluster.RUN_DIR, "logs", name + ".log"), "ab")
    try:
        p = subprocess.Popen([exe], cwd=cluster.ROOT, env=env, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()
    with open(_pidfile(name), "w") as f:
        f.write("%d\n" % p.pid)


def _wait_ready(url, what, timeout_s=60):
    def probe():
        return stack.request("GET", url + "/health/ready").status == 200
    stack.eventually(probe, "%s ready" % what, timeout_s, 0.25)


def start():
    """Starts the pair (service first: its migrations are the sidecar's tables)."""
    exe, env = _env_of("order-service", {
        "HTTP_PORT": str(PORT), "INTERNAL_HTTP_PORT": str(INTERNAL_PORT),
        "SIDECAR_URL": SIDECAR_URL, "OUTBOX_WAKE_SOCKET": WAKE})
    _spawn("order2-service", exe, env)
    _wait_ready(URL, "second order-service")
    exe, env = _env_of("order-sidecar", {
        "SIDECAR_PORT": str(SIDECAR_PORT), "SERVICE_URL": INTERNAL_URL,
        "OUTBOX_WAKE_SOCKET": WAKE})
    try:
        os.unlink(WAKE)
    except FileNotFoundError:
        pass
    _spawn("order2-sidecar", exe, env)
    _wait_ready(SIDECAR_URL, "second order sidecar")
    cluster.log("second order instance up: %s (sidecar %s, the first's consumer group)" % (
        URL, SIDECAR_URL))


def _stop_one(name):
    try:
        with open(_pidfile(name)) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(150):
            try:
                # reaps it when it is our child, else only probes it
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            except ChildProcessError:
                os.kill(pid, 0)
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.unlink(_pidfile(name))


def stop():
    """Stops the pair, the sidecar first (it finishes its deliveries)."""
    for name in reversed(NAMES):
        _stop_one(name)


def main(argv):
    cmds = {"start": start, "stop": stop}
    if len(argv) != 2 or argv[1] not in cmds:
        print("usage: %s start|stop" % argv[0], file=sys.stderr)
        return 2
    try:
        cmds[argv[1]]()
    except TestFailure as e:
        print("order2: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
