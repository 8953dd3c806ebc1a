"""Helpers for the end-to-end tests: where the stack runs, HTTP calls, polling
with deadlines, Kafka access through the kcat command, and the stack's own
stores (MariaDB, Redis) and service logs for the tests that look inside.

Python 3 standard library only. The endpoints default to the local stack's,
from the port variables scripts/stack.sh reads (ORDER_PORT, ..., GATEWAY_PORT,
GATEWAY_ADMIN_PORT, <SERVICE>_SIDECAR_PORT, <SERVICE>_INTERNAL_PORT,
KAFKA_PORT; `make test` sets them for its own stack), and each can be
overridden from the environment (ORDER_URL, PAYMENT_URL, INVENTORY_URL,
NOTIFICATION_URL, GATEWAY_URL, GATEWAY_ADMIN_URL, ORDER_SIDECAR_URL, ...,
ORDER_INTERNAL_URL, ..., KAFKA_BROKERS, KCAT; E2E_CONNECT_RETRY_S tries a
refused connection again for that long).

Every request carries a bearer token (HS256, minted here with the standard
library) unless the caller says otherwise: POST /api/orders a customer token
whose subject is the body's userId (the service refuses a customer ordering
for someone else), everything else an admin token (subject "e2e-admin").
request(..., auth=None) sends no Authorization header, auth="Bearer x" (or
an Authorization entry in headers) exactly that one. The key is
E2E_JWT_SECRET, else JWT_SECRET, else the local stack's RUN_DIR/secrets/jwt
(scripts/stack.sh up makes it).

The stores default to the local stack's Unix sockets under RUN_DIR
(scripts/stack.sh; root needs no password there); another deployment, e.g.
Kubernetes through kubectl port-forward (scripts/k8s-test.sh), is reached over
TCP with:

    E2E_MYSQL_HOST, E2E_MYSQL_PORT (3306)     MariaDB/MySQL, as
    E2E_MYSQL_USER (root), E2E_MYSQL_PASSWORD (none)
    E2E_REDIS_HOST, E2E_REDIS_PORT (6379)     Redis
    E2E_LOG_CMD    a command printing a service's log, "{service}" standing for
                   its name, e.g. "kubectl logs deploy/saga-{service}"
                   (default: the file RUN_DIR/logs/<service>-service.log)
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shlex
import subprocess
import threading
import time
import traceback
import urllib.parse

DEFAULT_PORTS = {"order": 8081, "payment": 8082, "inventory": 8083, "notification": 8084}


def env_port(name, default):
    """The port variable `name` (as scripts/stack.sh reads it), else `default`."""
    return int(os.environ.get(name) or default)


def service_port(svc):
    return env_port(svc.upper() + "_PORT", DEFAULT_PORTS[svc])


def sidecar_port(svc):
    """scripts/stack.sh: the service's port + 1000."""
    return env_port(svc.upper() + "_SIDECAR_PORT", service_port(svc) + 1000)


def _local(port):
    return "http://127.0.0.1:%d" % port


SERVICES = {svc: os.environ.get(svc.upper() + "_URL") or _local(service_port(svc))
            for svc in DEFAULT_PORTS}
SIDECARS = {svc: os.environ.get(svc.upper() + "_SIDECAR_URL") or _local(sidecar_port(svc))
            for svc in DEFAULT_PORTS}


def _internal_url(svc):
    """The service's listener for its sidecar (scripts/stack.sh: its port + 2000)."""
    env = os.environ.get(svc.upper() + "_INTERNAL_URL")
    if env:
        return env
    if os.environ.get(svc.upper() + "_INTERNAL_PORT"):
        return _local(env_port(svc.upper() + "_INTERNAL_PORT", 0))
    u = urllib.parse.urlsplit(SERVICES[svc])
    return "%s://%s:%d" % (u.scheme, u.hostname, u.port + 2000)


# where the sidecars deliver events (POST /internal/events is served there only)
INTERNAL = {svc: _internal_url(svc) for svc in SERVICES}
GATEWAY_PORT = env_port("GATEWAY_PORT", 8089)
GATEWAY = os.environ.get("GATEWAY_URL") or _local(GATEWAY_PORT)
# gateway-sim's /admin/config: on its admin listener (scripts/stack.sh: the
# gateway's port + 1000), which slow charges cannot hold up; a gateway given
# by GATEWAY_URL alone (a port-forward) serves it on its one port
GATEWAY_ADMIN = os.environ.get("GATEWAY_ADMIN_URL") or (
    GATEWAY if os.environ.get("GATEWAY_URL") else
    _local(env_port("GATEWAY_ADMIN_PORT", GATEWAY_PORT + 1000)))
KAFKA = os.environ.get("KAFKA_BROKERS") or "127.0.0.1:%d" % env_port("KAFKA_PORT", 9092)
KCAT = os.environ.get("KCAT", "kcat")
HTTP_TIMEOUT_S = float(os.environ.get("E2E_HTTP_TIMEOUT_S", "10"))
# how long a refused connection is tried again (0: fail at once, the local stack)
CONNECT_RETRY_S = float(os.environ.get("E2E_CONNECT_RETRY_S", "0"))
TERMINAL = ("CONFIRMED", "CANCELLED")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_DIR = os.path.join(ROOT, os.environ.get("RUN_DIR", "run"))  # join keeps an absolute one


class TestFailure(AssertionError):
    """An expectation of a test did not hold."""


def check(cond, what):
    """Fails the running test with `what` unless `cond` holds."""
    if not cond:
        raise TestFailure(what)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body  # bytes

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise TestFailure("response is not JSON (%s): %r" % (e, self.body[:200]))

    def __repr__(self):
        return "HTTP %d %s" % (self.status, self.body[:300].decode("utf-8", "replace"))


# ---- bearer tokens (svc/auth.h) ------------------------------------------------

ADMIN_SUBJECT = "e2e-admin"
TOKEN_TTL_S = 3600
# a cached token is minted again when it has less than this left
TOKEN_RENEW_S = 300
ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")  # svc_id_valid: what a sub may be
AUTO = object()  # request(auth=AUTO): the token the route needs
_tokens = {}  # (sub, roles) -> (Authorization value, exp)
_tokens_lock = threading.Lock()
_secret = []  # the key, once read


def jwt_secret():
    """The HS256 key the stack verifies with, as bytes: E2E_JWT_SECRET, else
    JWT_SECRET, else the file RUN_DIR/secrets/jwt of the local stack."""
    if _secret:
        return _secret[0]
    where = next((v for v in ("E2E_JWT_SECRET", "JWT_SECRET") if os.environ.get(v)), None)
    key = os.environ.get(where) if where else None
    if not key:
        where = os.path.join(RUN_DIR, "secrets", "jwt")
        try:
            with open(where) as f:
                key = f.read().strip()
        except OSError as e:
            raise TestFailure("no token key: set E2E_JWT_SECRET (or JWT_SECRET) to the "
                              "stack's JWT_SECRET, or start the local stack, which keeps "
                              "it in %s (%s)" % (where, e))
    check(len(key.encode("utf-8")) >= 32, "the token key from %s has at least 32 bytes" % where)
    _secret.append(key.encode("utf-8"))
    return _secret[0]


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_encode(claims, key=None, header=None):
    """A compact JWS of the `claims` dict signed HS256 with `key` (bytes or
    str; default jwt_secret()) under `header` (default {"alg": "HS256",
    "typ": "JWT"}; the signature is HS256 whatever it says). For forged
    tokens too: any claims, any header, any key."""
    if key is None:
        key = jwt_secret()
    elif isinstance(key, str):
        key = key.encode("utf-8")
    head = header if header is not None else {"alg": "HS256", "typ": "JWT"}
    signing = "%s.%s" % (_b64url(json.dumps(head, separators=(",", ":")).encode("utf-8")),
                         _b64url(json.dumps(claims, separators=(",", ":")).encode("utf-8")))
    sig = hmac.new(key, signing.encode("ascii"), hashlib.sha256).digest()
    return signing + "." + _b64url(sig)


def mint(sub, roles=("customer",), ttl_s=TOKEN_TTL_S, now=None, key=None, **claims):
    """A token for `sub` with `roles`, issued at `now` (default: now) and
    expiring ttl_s later (negative: already expired). `claims` add to or
    replace those (a value of None leaves the claim out)."""
    now = int(time.time()) if now is None else int(now)
    body = {"sub": sub, "roles": list(roles), "iat": now, "exp": now + int(ttl_s)}
    body.update(claims)
    return jwt_encode({k: v for k, v in body.items() if v is not None}, key)


def bearer(sub, roles=("customer",)):
    """The Authorization value "Bearer <token>" for `sub` with `roles`, minted
    once and reused until it is close to expiry."""
    cache_key = (sub, tuple(roles))
    now = time.time()
    with _tokens_lock:
        hit = _tokens.get(cache_key)
        if hit and hit[1] - now > TOKEN_RENEW_S:
            return hit[0]
        value = "Bearer " + mint(sub, roles, TOKEN_TTL_S, now)
        _tokens[cache_key] = (value, now + TOKEN_TTL_S)
        return value


def customer_auth(user_id):
    """A customer's Authorization value: may order for `user_id` and read its own."""
    return bearer(user_id, ("customer",))


def admin_auth():
    """The admin Authorization value of the tests (subject ADMIN_SUBJECT)."""
    return bearer(ADMIN_SUBJECT, ("admin",))


def auth_for(method, path, body=None, raw=None):
    """The Authorization value a request sends by default: for POST
    /api/orders the customer named by the body's userId (its own rate limit
    and idempotency keys), for anything else, and an order whose userId is
    missing or not an id, the admin's."""
    if method == "POST" and path.rstrip("/").endswith("/api/orders"):
        doc = body
        if doc is None and raw is not None:
            try:
                doc = json.loads(raw)
            except (UnicodeDecodeError, ValueError):
                doc = None
        user = doc.get("userId") if isinstance(doc, dict) else None
        if isinstance(user, str) and ID_RE.match(user):
            return customer_auth(user)
    return admin_auth()


def request(method, url, body=None, headers=None, raw=None, auth=AUTO):
    """One HTTP request. `body` is sent as JSON, `raw` as bytes. `auth`: AUTO
    (the token the route needs, auth_for), None (no Authorization header) or
    the exact Authorization value; an Authorization entry in `headers` wins.
    Returns a Response for any status; raises TestFailure when no answer
    arrives."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    hdrs = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    if not any(k.lower() == "authorization" for k in hdrs):
        if auth is AUTO:
            auth = auth_for(method, parts.path, body, raw)
        if auth is not None:
            hdrs["Authorization"] = auth
    # a refused connection sent nothing, so any method may try again; a reset
    # one only when the method is repeatable. Through kubectl port-forward
    # (scripts/k8s-test.sh) a forward that kubectl gave up is back within a
    # second or two; with E2E_CONNECT_RETRY_S unset (the local stack) never.
    deadline = time.monotonic() + CONNECT_RETRY_S
    while True:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=HTTP_TIMEOUT_S)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            res = conn.getresponse()
            return Response(res.status, {k.lower(): v for k, v in res.getheaders()}, res.read())
        except ConnectionRefusedError as e:
            if time.monotonic() >= deadline:
                raise TestFailure("%s %s: no answer (%s)" % (method, url, e))
        except (ConnectionResetError, BrokenPipeError) as e:
            # the forward went away under the request: only a repeatable one goes again
            if method not in ("GET", "HEAD", "PUT", "DELETE") or time.monotonic() >= deadline:
                raise TestFailure("%s %s: no answer (%s)" % (method, url, e))
        except (OSError, http.client.HTTPException) as e:
            raise TestFailure("%s %s: no answer (%s)" % (method, url, e))
        finally:
            conn.close()
        time.sleep(0.2)


def get(url, headers=None, auth=AUTO):
    return request("GET", url, headers=headers, auth=auth)


def expect_status(res, statuses, what):
    if isinstance(statuses, int):
        statuses = (statuses,)
    check(res.status in statuses, "%s: expected HTTP %s, got %r" % (what, statuses, res))
    return res


def get_json(url, what=None, auth=AUTO):
    return expect_status(get(url, auth=auth), 200, what or "GET " + url).json()


def eventually(probe, what, timeout_s=30.0, interval_s=0.2):
    """Calls probe() until it returns a true value other than a TestFailure
    (returned) or timeout_s passes (TestFailure naming `what` and the last
    value seen). A probe may return or raise a TestFailure to say why not yet."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        try:
            last = probe()
        except TestFailure as e:
            last = e
        if last and not isinstance(last, TestFailure):
            return last
        if time.monotonic() >= deadline:
            raise TestFailure("%s: not within %.0f s (last: %s)" % (what, timeout_s, last))
        time.sleep(interval_s)


# ---- the services' APIs --------------------------------------------------

def put_product(product_id, available, price, name=None):
    body = {"available": available, "price": price}
    if name:
        body["name"] = name
    res = request("PUT", "%s/api/inventory/%s" % (SERVICES["inventory"], product_id), body)
    expect_status(res, 200, "PUT product %s" % product_id)
    return res.json()


def stock(product_id):
    return get_json("%s/api/inventory/%s" % (SERVICES["inventory"], product_id))


def create_order(body, idempotency_key=None, auth=AUTO):
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    return request("POST", SERVICES["order"] + "/api/orders", body, headers, auth=auth)


def order(order_id):
    return get_json("%s/api/orders/%s" % (SERVICES["order"], order_id))


def wait_terminal(order_id, timeout_s=30.0, interval_s=0.2):
    """Polls the order until CONFIRMED or CANCELLED; returns it."""
    def probe():
        o = order(order_id)
        if o.get("status") in TERMINAL:
            return o
        return TestFailure("status %s, step %s" % (o.get("status"), o.get("step")))
    return eventually(probe, "order %s terminal" % order_id, timeout_s, interval_s)


def payment(order_id):
    """The payment record, or None when the order has none (404)."""
    res = get("%s/api/payments/%s" % (SERVICES["payment"], order_id))
    if res.status == 404:
        return None
    expect_status(res, 200, "GET payment of %s" % order_id)
    return res.json()


def notifications(order_id):
    doc = get_json("%s/api/notifications?orderId=%s" % (SERVICES["notification"], order_id))
    check(isinstance(doc, dict) and isinstance(doc.get("items"), list),
          "notification list has an items array: %r" % (doc,))
    return doc["items"]


def sidecar_urls(service):
    """Every sidecar instance of `service`: <SERVICE>_SIDECAR_URLS (comma-separated;
    one per pod when the service runs several) or its one SIDECARS URL."""
    urls = os.environ.get(service.upper() + "_SIDECAR_URLS", "")
    return [u.strip() for u in urls.split(",") if u.strip()] or [SIDECARS[service]]


def service_urls(service):
    """Every instance of `service`: <SERVICE>_SERVICE_URLS (comma-separated; one per
    pod when the service runs several) or its one SERVICES URL."""
    urls = os.environ.get(service.upper() + "_SERVICE_URLS", "")
    return [u.strip() for u in urls.split(",") if u.strip()] or [SERVICES[service]]


def sidecar_counter(service, name):
    """A counter from the sidecars' /metrics?format=json (searched for at any depth), summed
    over every instance of the service (sidecar_urls)."""
    return sum(_sidecar_counter_at(url, service, name) for url in sidecar_urls(service))


def _sidecar_counter_at(url, service, name):
    doc = get_json(url + "/metrics?format=json")

    def find(node):
        if isinstance(node, dict):
            if isinstance(node.get(name), (int, float)):
                return node[name]
            for v in node.values():
                found = find(v)
                if found is not None:
                    return found
        return None
    value = find(doc)
    check(value is not None, "%s sidecar /metrics has a %r counter: %r" % (service, name, doc))
    return value


def sidecar_counter_settled(service, name, timeout_s=20.0):
    """The sidecar counter once it stopped moving (unchanged for >= 0.5 s)."""
    seen = {"value": sidecar_counter(service, name), "at": time.monotonic()}

    def probe():
        now = sidecar_counter(service, name)
        if now != seen["value"]:
            seen.update(value=now, at=time.monotonic())
            return False
        return time.monotonic() - seen["at"] >= 0.5
    eventually(probe, "%s sidecar idle" % service, timeout_s, 0.25)
    return seen["value"]


# ---- Kafka through kcat ----------------------------------------------------

def kcat_read(topic, since_ms):
    """Every message of `topic` produced since `since_ms` (epoch ms), as
    (key, value) string pairs, read to the current end."""
    cmd = [KCAT, "-C", "-b", KAFKA, "-t", topic, "-o", "s@%d" % since_ms, "-e", "-q",
           "-f", "%k\t%s\n"]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TestFailure("kcat on %s failed: %s" % (topic, e))
    check(out.returncode == 0, "kcat on %s: exit %d %s" % (topic, out.returncode,
                                                            out.stderr.decode()[-300:]))
    pairs = []
    for line in out.stdout.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("\t")
        if sep:
            pairs.append((key, value))
    return pairs


def kcat_events(topic, since_ms, order_id):
    """The decoded events of `topic` keyed by `order_id`, with their raw text."""
    found = []
    for key, value in kcat_read(topic, since_ms):
        if key != order_id:
            continue
        try:
            found.append((json.loads(value), value))
        except ValueError:
            continue
    return found


def kcat_produce(topic, key, value):
    """Produces one message with `key` (tab-separated input, kcat -K)."""
    check("\t" not in key and "\n" not in value, "message fits kcat's line format")
    cmd = [KCAT, "-P", "-b", KAFKA, "-t", topic, "-K", "\t"]
    try:
        out = subprocess.run(cmd, input=("%s\t%s\n" % (key, value)).encode("utf-8"),
                             capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TestFailure("kcat produce to %s failed: %s" % (topic, e))
    check(out.returncode == 0, "kcat produce to %s: exit %d %s" % (
        topic, out.returncode, out.stderr.decode()[-300:]))


# ---- the stack's stores and logs -----------------------------------------------

MYSQL_HOST = os.environ.get("E2E_MYSQL_HOST", "")
MYSQL_PORT = os.environ.get("E2E_MYSQL_PORT", "3306")
MYSQL_USER = os.environ.get("E2E_MYSQL_USER", "root")
MYSQL_PASSWORD = os.environ.get("E2E_MYSQL_PASSWORD", "")
MYSQL_SOCKET = os.path.join(RUN_DIR, "mariadb/mysqld.sock")
REDIS_HOST = os.environ.get("E2E_REDIS_HOST", "")
REDIS_PORT = os.environ.get("E2E_REDIS_PORT", "6379")
REDIS_SOCKET = os.path.join(RUN_DIR, "redis/redis.sock")
LOG_CMD = os.environ.get("E2E_LOG_CMD", "")


def sql(query, db):
    """The rows of `query` in database `db` (lists of strings, tab-split), run
    with the mariadb client as E2E_MYSQL_USER (root): over TCP when
    E2E_MYSQL_HOST is set, else over the local stack's socket."""
    if MYSQL_HOST:
        where = ["--protocol=TCP", "-h", MYSQL_HOST, "-P", MYSQL_PORT]
    else:
        where = ["--socket=" + MYSQL_SOCKET]
    cmd = ["mariadb", "--no-defaults", "-u" + MYSQL_USER] + where + ["-N", "-B", db, "-e", query]
    env = dict(os.environ, MYSQL_PWD=MYSQL_PASSWORD) if MYSQL_PASSWORD else None
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    check(out.returncode == 0, "mariadb on %s: exit %d %s" % (db, out.returncode, out.stderr[-300:]))
    return [line.split("\t") for line in out.stdout.splitlines()]


def redis(*args):
    """redis-cli's answer to one command, split into words: over TCP when
    E2E_REDIS_HOST is set, else over the local stack's socket."""
    if REDIS_HOST:
        where = ["-h", REDIS_HOST, "-p", REDIS_PORT]
    else:
        where = ["-s", REDIS_SOCKET]
    return subprocess.run(["redis-cli"] + where + list(args),
                          capture_output=True, text=True).stdout.split()


def service_log(service):
    """The log of `service` ("inventory", ...) so far, as text: the output of
    E2E_LOG_CMD when set, else the local stack's log file."""
    if not LOG_CMD:
        with open(os.path.join(RUN_DIR, "logs/%s-service.log" % service), errors="replace") as f:
            return f.read()
    cmd = [w.replace("{service}", service) for w in shlex.split(LOG_CMD)]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TestFailure("%s: %s" % (" ".join(cmd), e))
    check(out.returncode == 0, "%s: exit %d %s" % (" ".join(cmd), out.returncode,
                                                   out.stderr.decode("utf-8", "replace")[-300:]))
    return out.stdout.decode("utf-8", "replace")


# ---- the runners' loop ----------------------------------------------------

def run_tests(tests, argv, arg, banner):
    """Runs `tests` ([(name, fn)]; only those named in argv[1:] when any),
    each fn(arg), printing each name and result, then "N passed, N failed".
    `arg` may be a callable, called once before the first test, whose
    result is passed; `banner` (a function of it) prints the first line.
    Returns the exit code: 1 when anything failed."""
    wanted = set(argv[1:])
    unknown = wanted - {name for name, _ in tests}
    if unknown:
        print("unknown test(s): %s" % ", ".join(sorted(unknown)))
        return summary(0, [(name, "no such test") for name in sorted(unknown)])
    arg = arg() if callable(arg) else arg
    print(banner(arg))
    passed, failures = 0, []
    for name, fn in tests:
        if wanted and name not in wanted:
            continue
        t0 = time.monotonic()
        print("%s ..." % name, flush=True)
        try:
            fn(arg)
            passed += 1
            print("%s: PASS (%.1f s)" % (name, time.monotonic() - t0), flush=True)
        except TestFailure as e:
            failures.append((name, str(e)))
            print("%s: FAIL (%.1f s): %s" % (name, time.monotonic() - t0, e), flush=True)
        except Exception as e:  # noqa: BLE001 - a broken test is a failed test
            failures.append((name, "%s: %s" % (type(e).__name__, e)))
            print("%s: ERROR\n%s" % (name, traceback.format_exc()), flush=True)
    return summary(passed, failures)


def summary(passed, failures):
    """Prints the failures again (a log's tail then names them), then
    "N passed, N failed"; returns the exit code: 1 when anything failed."""
    for name, why in failures:
        print("FAILED %s: %s" % (name, why.splitlines()[0][:300] if why else ""))
    print("%d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0
