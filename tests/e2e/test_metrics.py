"""End-to-end tests of observability (docs/observability.md), against a
running stack:

    TESTS = [("metrics_exposition", ...), ("metrics_move_after_order", ...),
             ("logs_are_json_and_join", ...)]

/metrics of every service and sidecar is parsed by a small parser of the
Prometheus text format 0.0.4 written here (no client library), which checks
what a scraper relies on: one HELP/TYPE per family before its samples,
samples grouped by family, valid names, labels and values, histograms with
cumulative buckets ending in +Inf equal to _count. The log test reads the
lines the local stack's processes wrote during it (RUN_DIR/logs; skipped when
E2E_LOG_CMD points elsewhere).
"""

import json
import os
import re
import time
import uuid

import stack
from stack import check

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


# ---- the exposition format -------------------------------------------------------

def parse_value(text, where):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    try:
        return float(text)
    except ValueError:
        raise stack.TestFailure("%s: value %r is not a float" % (where, text))


def parse_labels(text, where):
    """'{a="x",b="y"}' (without the braces) -> dict; checks the escapes."""
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        check(m is not None, "%s: bad label syntax at %r" % (where, text[pos:]))
        name = m.group(1)
        check(name not in labels, "%s: label %s twice" % (where, name))
        labels[name] = m.group(2).replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        pos = m.end()
        if pos < len(text):
            check(text[pos] == ",", "%s: expected ',' at %r" % (where, text[pos:]))
            pos += 1
    return labels


def family_of(name, types):
    """The family a sample name belongs to (histogram suffixes stripped)."""
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return name


def parse_exposition(text, where):
    """Parses and validates the text; returns {family: {"type", "help",
    "samples": [(name, labels, value)]}}."""
    check(text.endswith("\n"), "%s: the text ends with a newline" % where)
    families, types, closed, current = {}, {}, set(), None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        at = "%s line %d %r" % (where, n, line[:120])
        check(line.strip() != "" or line == "", "%s: blank line with spaces" % at)
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                fam = parts[2]
                check(NAME.fullmatch(fam) is not None, "%s: bad metric name" % at)
                f = families.setdefault(fam, {"type": None, "help": None, "samples": []})
                if parts[1] == "TYPE":
                    check(len(parts) == 4 and parts[3] in TYPES, "%s: bad TYPE" % at)
                    check(f["type"] is None, "%s: second TYPE for %s" % (at, fam))
                    check(not f["samples"], "%s: TYPE after samples of %s" % (at, fam))
                    f["type"] = types[fam] = parts[3]
                else:
                    check(f["help"] is None, "%s: second HELP for %s" % (at, fam))
                    f["help"] = parts[3] if len(parts) == 4 else ""
                if current != fam and current is not None:
                    closed.add(current)
                check(fam not in closed, "%s: %s comes back after another family" % (at, fam))
                current = fam
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$", line)
        check(m is not None, "%s: not a sample line" % at)
        name, labels = m.group(1), parse_labels(m.group(3) or "", at)
        value = parse_value(m.group(4), at)
        fam = family_of(name, types)
        if current != fam and current is not None:
            closed.add(current)
        check(fam not in closed, "%s: samples of %s are not grouped" % (at, fam))
        current = fam
        f = families.setdefault(fam, {"type": "untyped", "help": None, "samples": []})
        if f["type"] == "counter":
            check(value >= 0, "%s: negative counter" % at)
        f["samples"].append((name, labels, value))
    for fam, f in families.items():
        if f["type"] == "histogram":
            check_histogram(fam, f["samples"], where)
    return families


def check_histogram(fam, samples, where):
    series = {}
    for name, labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name == fam + "_bucket":
            check("le" in labels, "%s: %s bucket without le" % (where, fam))
            s["buckets"].append((parse_value(labels["le"], where), value))
        elif name == fam + "_sum":
            s["sum"] = value
        elif name == fam + "_count":
            s["count"] = value
    for key, s in series.items():
        what = "%s: %s%s" % (where, fam, dict(key))
        check(s["buckets"] and s["buckets"][-1][0] == float("inf"), "%s ends with +Inf" % what)
        check(s["sum"] is not None and s["count"] is not None, "%s has _sum and _count" % what)
        les = [le for le, _ in s["buckets"]]
        check(les == sorted(les), "%s: le bounds increase" % what)
        counts = [c for _, c in s["buckets"]]
        check(counts == sorted(counts), "%s: buckets are cumulative" % what)
        check(counts[-1] == s["count"], "%s: +Inf bucket equals _count" % what)


def scrape(url):
    res = stack.get(url + "/metrics", auth=None)
    stack.expect_status(res, (200,), "GET %s/metrics" % url)
    ctype = res.headers.get("content-type", "")
    check(ctype.startswith("text/plain") and "version=0.0.4" in ctype,
          "%s/metrics is text/plain; version=0.0.4: %r" % (url, ctype))
    return parse_exposition(res.body.decode("utf-8"), url + "/metrics")


def value(families, fam, sample=None, **labels):
    """Sum of the samples named `sample` (default: the family name) of `fam`
    whose labels include `labels`; 0 when none."""
    f = families.get(fam)
    if not f:
        return 0.0
    want = sample or fam
    return sum(v for n, l, v in f["samples"]
               if n == want and all(l.get(k) == x for k, x in labels.items()))


def processes():
    """(what, url) of every service and sidecar instance."""
    out = [("%s-service" % s, u) for s, u in stack.SERVICES.items()]
    for s in stack.SIDECARS:
        out += [("%s-sidecar" % s, u) for u in stack.sidecar_urls(s)]
    return out


# ---- tests ----------------------------------------------------------------------

def test_metrics_exposition(run):
    """Every process serves valid exposition text with the families it owes,
    and still its JSON at ?format=json."""
    for what, url in processes():
        fams = scrape(url)
        check("svc_http_requests_total" in fams and
              fams["svc_http_requests_total"]["type"] == "counter",
              "%s has svc_http_requests_total" % what)
        check(fams.get("svc_http_request_duration_seconds", {}).get("type") == "histogram",
              "%s has the HTTP latency histogram" % what)
        for _, labels, _ in fams["svc_http_requests_total"]["samples"]:
            check("/" not in labels["route"] or labels["route"].startswith("/"),
                  "%s: route label is a template: %r" % (what, labels))
            check(re.fullmatch(r"[1-5]xx", labels["status_class"]) is not None,
                  "%s: status class %r" % (what, labels))
        doc = stack.get_json(url + "/metrics?format=json", auth=None)
        check(isinstance(doc, dict) and "service" in doc,
              "%s /metrics?format=json is the JSON object: %r" % (what, doc))
        if what.endswith("-sidecar"):
            for fam in ("saga_outbox_relayed_total", "saga_dlq_messages_total",
                        "saga_breaker_state"):
                check(fam in fams, "%s has %s" % (what, fam))
        else:
            check("svc_db_pool_in_use" in fams, "%s has svc_db_pool_in_use" % what)
            check(fams.get("svc_auth_token_cache_total", {}).get("type") == "counter",
                  "%s has svc_auth_token_cache_total" % what)
    order = scrape(stack.SERVICES["order"])
    for fam in ("saga_in_flight", "saga_step_duration_seconds", "saga_completion_seconds",
                "saga_events_total"):
        check(fam in order, "order service has %s" % fam)
    # an order's sidecar relays (it has an outbox) and consumes (it has lag)
    sc = scrape(stack.sidecar_urls("order")[0])
    check("saga_outbox_backlog" in sc, "order sidecar has saga_outbox_backlog")
    check("saga_consumer_lag" in sc and sc["saga_consumer_lag"]["samples"],
          "order sidecar has saga_consumer_lag per partition: %r" % sc.get("saga_consumer_lag"))


def test_metrics_move_after_order(run):
    """One order moves the counters and histograms along its path (summed over
    every instance of a service: with several pods, another one may handle it)."""
    def total(svc, fn):
        return sum(fn(scrape(u)) for u in stack.service_urls(svc))

    posted = lambda f: value(f, "svc_http_requests_total", route="/api/orders",  # noqa: E731
                             method="POST", status_class="2xx")
    lat = lambda f: value(f, "svc_http_request_duration_seconds",  # noqa: E731
                          "svc_http_request_duration_seconds_count", route="/api/orders")
    done = lambda f: value(f, "saga_completion_seconds",  # noqa: E731
                           "saga_completion_seconds_count", outcome="CONFIRMED")
    steps = {step: (lambda f, step=step: value(f, "saga_step_duration_seconds",
                                                "saga_step_duration_seconds_count", step=step))
             for step in ("INVENTORY", "PAYMENT")}
    ok = lambda f: value(f, "saga_events_total", outcome="ok")  # noqa: E731
    tokens = lambda f: value(f, "svc_auth_token_cache_total")  # noqa: E731
    relayed = lambda: sum(value(scrape(u), "saga_outbox_relayed_total")  # noqa: E731
                          for u in stack.sidecar_urls("order"))
    before = {"posted": total("order", posted), "lat": total("order", lat),
              "done": total("order", done), "ok": total("order", ok),
              "inv_ok": total("inventory", ok), "relayed": relayed(),
              "tokens": total("order", tokens)}
    before.update({s: total("order", fn) for s, fn in steps.items()})
    pid = run.product("metrics", 5, 1000)
    oid, _ = run.order("u-metrics", [(pid, 1)])
    final = stack.wait_terminal(oid)
    check(final["status"] == "CONFIRMED", "order %s confirmed: %r" % (oid, final))

    check(total("order", posted) >= before["posted"] + 1, "POST /api/orders 2xx counted")
    check(total("order", tokens) >= before["tokens"] + 1,
          "the order's bearer token was looked up in the token cache (hit or miss)")
    check(total("order", lat) >= before["lat"] + 1, "POST /api/orders latency observed")
    check(total("order", done) >= before["done"] + 1, "order completion observed")
    for step, fn in steps.items():
        check(total("order", fn) >= before[step] + 1, "step %s observed" % step)
    check(total("order", ok) >= before["ok"] + 2, "order service counted its events ok")
    check(total("inventory", ok) >= before["inv_ok"] + 1, "inventory counted OrderCreated ok")
    stack.eventually(lambda: relayed() > before["relayed"],
                     "the order sidecar's relayed counter moves")


def _log_files():
    d = os.path.join(stack.RUN_DIR, "logs")
    if stack.LOG_CMD or not os.path.isdir(d):
        return []
    names = [n for n in os.listdir(d)
             if n.endswith(("-service.log", "-sidecar.log")) or n == "gateway-sim.log"]
    return [os.path.join(d, n) for n in sorted(names)]


def test_logs_are_json_and_join(run):
    """Lines written during the test are JSON with the common fields; a poison
    event's lines in the consumer carry its order and event ids."""
    files = _log_files()
    if not files:
        print("    (skipped: no local log files)")
        return
    start = {f: os.path.getsize(f) for f in files}
    oid, eid = str(uuid.uuid4()), str(uuid.uuid4())
    # OrderCreated without its items: inventory rejects it (and dead-letters)
    ev = json.dumps({"eventId": eid, "type": "OrderCreatedEvent",
                     "timestamp": int(time.time() * 1000), "data": {"orderId": oid},
                     "metadata": {"correlationId": oid, "version": "1",
                                  "source": "e2e-metrics"}}, separators=(",", ":"))
    stack.kcat_produce("order.events", oid, ev)
    inv_log = [f for f in files if f.endswith("inventory-service.log")]

    def joined():
        lines = _read_since(inv_log[0], start[inv_log[0]]) if inv_log else []
        return [x for x in lines if x.get("orderId") == oid and x.get("eventId") == eid]
    found = stack.eventually(joined, "inventory logs the poison event with its ids")
    check(found[0].get("eventType") == "OrderCreatedEvent" and found[0].get("correlationId") == oid,
          "the line names the event type and correlation id: %r" % found[0])
    for f in files:
        _read_since(f, start[f])  # every line is checked as it is read


def _read_since(path, offset):
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    lines = []
    for raw in data.split(b"\n")[:-1]:  # a last partial line is still being written
        text = raw.decode("utf-8")
        try:
            line = json.loads(text)
        except ValueError:
            raise stack.TestFailure("%s: not a JSON line: %r" % (path, text[:200]))
        for key in ("timestamp", "level", "service", "message"):
            check(isinstance(line.get(key), str), "%s: line has %s: %r" % (path, key, line))
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["timestamp"]),
              "%s: RFC 3339 UTC ms timestamp: %r" % (path, line["timestamp"]))
        lines.append(line)
    return lines


TESTS = [
    ("metrics_exposition", test_metrics_exposition),
    ("metrics_move_after_order", test_metrics_move_after_order),
    ("logs_are_json_and_join", test_logs_are_json_and_join),
]
