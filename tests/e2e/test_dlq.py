"""End-to-end tests of dead-lettering, the DLQ listing and re-drive
(resilience/sidecar/dlq_admin.h), against a running stack.

    TESTS = [("dlq_poison_messages", ...), ("dlq_redrive", ...)]

Each test takes the runner's Run object (tests/e2e/run.py: run.product,
run.order, run.id, run.start_ms). Poison messages carry this run's ids, so
reruns on the same stack do not interfere; entries from earlier runs stay in
the DLQ and are ignored.
"""

import json
import subprocess
import time
import uuid

import stack
from stack import check, expect_status

# the sidecar consuming each topic (scripts/stack.sh SUBSCRIBE)
CONSUMERS = {
    "order.events": ("inventory", "notification"),
    "inventory.commands": ("inventory",),
}


# ---- helpers ------------------------------------------------------------------

def envelope(order_id, type_, data, version="1", event_id=None):
    """An event envelope (svc/event.h) as compact JSON."""
    return json.dumps({
        "eventId": event_id or str(uuid.uuid4()), "type": type_,
        "timestamp": int(time.time() * 1000), "data": data,
        "metadata": {"correlationId": order_id, "version": version, "source": "e2e-dlq"},
    }, separators=(",", ":"))


def kcat(args, data=None, what="kcat"):
    cmd = [stack.KCAT, "-b", stack.KAFKA] + args
    try:
        out = subprocess.run(cmd, input=data, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise stack.TestFailure("%s failed: %s" % (what, e))
    check(out.returncode == 0, "%s: exit %d %s" % (what, out.returncode, out.stderr.decode()[-300:]))
    return out.stdout.decode("utf-8", "replace")


def produce(topic, key, value, partition=None, headers=None):
    """One message with `key`; an explicit partition and headers when given."""
    args = ["-P", "-t", topic, "-K", "\t"]
    if partition is not None:
        args += ["-p", str(partition)]
    for name, val in (headers or {}).items():
        args += ["-H", "%s=%s" % (name, val)]
    check("\t" not in key and "\n" not in value, "message fits kcat's line format")
    kcat(args, ("%s\t%s\n" % (key, value)).encode("utf-8"), "produce to %s" % topic)


def partitions(topic):
    meta = json.loads(kcat(["-L", "-J", "-t", topic], what="metadata of %s" % topic))
    parts = meta["topics"][0]["partitions"]
    check(parts, "%s has partitions: %r" % (topic, meta))
    return len(parts)


def message_at(topic, partition, offset):
    """(headers text, payload) of one message, read with kcat."""
    out = kcat(["-C", "-t", topic, "-p", str(partition), "-o", str(offset), "-c", "1", "-e", "-q",
                "-f", "%h\t%s\n"], what="read %s[%d]@%d" % (topic, partition, offset))
    hdrs, _, payload = out.rstrip("\n").partition("\t")
    return hdrs, payload


def dlq(service, copies=True):
    """The DLQ listing: every message (copies=True), or one entry per dead
    letter, its re-driven copies folded into it (copies=False, the default
    of GET /dlq)."""
    url = stack.SIDECARS[service] + "/dlq?limit=10000" + ("&copies=true" if copies else "")
    doc = stack.get_json(url, "GET /dlq of %s" % service)
    check(isinstance(doc.get("entries"), list) and doc.get("count") == len(doc["entries"]),
          "%s /dlq lists entries with their count: %r" % (service, str(doc)[:300]))
    check(doc.get("topic") == service + ".dlq", "%s /dlq names its topic: %r" % (service, doc.get("topic")))
    return doc["entries"]


def entries_for(service, key, copies=True):
    return [e for e in dlq(service, copies) if e.get("key") == key]


def redrive(service, body, statuses=200):
    res = stack.request("POST", stack.SIDECARS[service] + "/dlq/redrive", body)
    expect_status(res, statuses, "POST /dlq/redrive %s to %s" % (json.dumps(body), service))
    return res.json()



def expect_stock(pid, want, timeout_s=20.0):
    def probe():
        s = stack.stock(pid)
        got = (s.get("available"), s.get("reserved"), s.get("sold"))
        return s if got == want else stack.TestFailure("%s is %r, want %r" % (pid, got, want))
    return stack.eventually(probe, "stock of %s" % pid, timeout_s)


def normal_order(run, name):
    """A one-item order that must confirm; returns (orderId, productId)."""
    pid = run.product(name, 10, 700)
    oid, _ = run.order("u-" + run.id, [(pid, 1)])
    o = stack.wait_terminal(oid)
    check(o["status"] == "CONFIRMED", "order placed after the poison confirms: %r" % o)
    expect_stock(pid, (9, 0, 1))
    return oid, pid


# ---- the poison messages ------------------------------------------------------

def poison_set(key):
    """(topic, payload, reason fragment, services that must dead-letter it) of
    each poison message keyed `key` (a UUID: only the property under test is
    wrong). Notification ignores event types it has no interest in, so only
    what it cannot even decode must reach its DLQ."""
    oid = key
    both = ("inventory", "notification")
    return [
        ("order.events", '{"eventId": "not closed', "json", both),
        ("order.events", envelope(oid, "NoSuchEvent", {"orderId": oid}), "unknown event type",
         ("inventory",)),
        ("order.events", envelope(oid, "OrderCreatedEvent", {"orderId": oid}, version="9"),
         "version", both),
        ("order.events", envelope(oid, "OrderCreatedEvent", {"userId": "u-1"}), "orderid",
         ("inventory",)),
        ("inventory.commands", envelope(oid, "ReleaseInventoryCommand", {"reason": "e2e"}),
         "orderid", ("inventory",)),
        ("inventory.commands",
         envelope(oid, "ReleaseInventoryCommand", {"orderId": oid, "reason": "e2e"}, version="2"),
         "version", ("inventory",)),
    ]


def check_entry(e, topic, payload, reason):
    where = "DLQ entry %s/%s" % (e.get("partition"), e.get("offset"))
    check(e.get("sourceTopic") == topic, "%s comes from %s: %r" % (where, topic, e))
    check(reason in (e.get("reason") or "").lower(), "%s reason mentions %r: %r" % (where, reason, e.get("reason")))
    check(e.get("payload") == payload, "%s keeps the payload unchanged: %r" % (where, e.get("payload")))
    check(e.get("orderId") == e.get("key"), "%s order-id header is the key: %r" % (where, e))
    for f in ("partition", "offset", "sourcePartition", "sourceOffset", "timestamp", "attempts"):
        check(isinstance(e.get(f), int) and e[f] >= 0, "%s has %s: %r" % (where, f, e))
    check(e["attempts"] >= 1, "%s counts attempts: %r" % (where, e))
    check(e.get("redriven") is False, "%s not re-driven yet: %r" % (where, e))
    # the provenance headers point at the original message
    _, original = message_at(topic, e["sourcePartition"], e["sourceOffset"])
    check(original == payload, "%s source %s[%d]@%d holds the original: %r" % (
        where, topic, e["sourcePartition"], e["sourceOffset"], original[:200]))


def test_dlq_poison_messages(run):
    key = str(uuid.uuid4())  # order ids are UUIDs
    sent = poison_set(key)
    for topic, payload, _, _ in sent:
        produce(topic, key, payload)
    # malformed JSON on every partition of order.events: no partition may stall
    nparts = partitions("order.events")
    broken = '{"eventId": "%s-broken' % key
    for p in range(nparts):
        produce("order.events", key + "-p%d" % p, broken, partition=p)

    for service in ("inventory", "notification"):
        want = [s for s in sent if service in s[3]]

        def probe(service=service, want=want):
            got = {e.get("payload") for e in entries_for(service, key)}
            missing = [s[1][:60] for s in want if s[1] not in got]
            return True if not missing else stack.TestFailure("%s DLQ misses %s" % (service, missing))
        stack.eventually(probe, "poison messages in %s.dlq" % service, 30, 0.5)
        by_payload = {e["payload"]: e for e in entries_for(service, key)}
        for topic, payload, reason, _ in want:
            check_entry(by_payload[payload], topic, payload, reason)
        stack.eventually(
            lambda service=service: len([e for e in dlq(service) if e.get("payload") == broken]) >= nparts,
            "the malformed message of each partition in %s.dlq" % service, 30, 0.5)
        per_partition = [e for e in dlq(service) if e.get("payload") == broken]
        check(sorted(e["sourcePartition"] for e in per_partition) == list(range(nparts)),
              "%s dead-lettered the malformed message of each partition: %r" % (
                  service, [e["sourcePartition"] for e in per_partition]))

    # every partition keeps flowing
    normal_order(run, "dlq-after-poison")


def test_dlq_redrive(run):
    key = str(uuid.uuid4())
    sent = poison_set(key)
    for topic, payload, _, _ in sent:
        produce(topic, key, payload)

    def all_listed():
        found = entries_for("inventory", key)
        return found if len(found) >= len(sent) else stack.TestFailure("%d of %d listed" % (len(found), len(sent)))
    first = stack.eventually(all_listed, "poison messages in inventory.dlq", 30, 0.5)

    # -- re-drive one: still bad, so it is dead-lettered again as a new entry
    target = next(e for e in first if "unknown event type" in (e.get("reason") or ""))
    doc = redrive("inventory", {"partition": target["partition"], "offset": target["offset"]})
    check(doc.get("status") == "redriven" and doc.get("sourceTopic") == "order.events",
          "single re-drive answered: %r" % doc)
    check(doc.get("eventId") == json.loads(target["payload"])["eventId"], "re-drive names the event: %r" % doc)
    again = redrive("inventory", {"partition": target["partition"], "offset": target["offset"]}, 409)
    check("re-driven" in again.get("detail", ""), "second re-drive of one entry is a conflict: %r" % again)
    expect_status(stack.request("POST", stack.SIDECARS["inventory"] + "/dlq/redrive",
                                {"partition": target["partition"], "offset": 10 ** 15}),
                  404, "re-drive of an offset past the end")
    expect_status(stack.request("POST", stack.SIDECARS["inventory"] + "/dlq/redrive", {"partition": 0}),
                  400, "re-drive without an offset")

    def copy_dead_lettered():
        copies = [e for e in entries_for("inventory", key)
                  if e["payload"] == target["payload"] and e["offset"] != target["offset"]
                  or e["payload"] == target["payload"] and e["partition"] != target["partition"]]
        return copies or None
    copies = stack.eventually(copy_dead_lettered, "the re-driven message dead-lettered again", 30, 0.5)
    check(copies[0]["redriven"] is False and copies[0]["attempts"] >= 1,
          "the new dead letter is a fresh entry: %r" % copies[0])
    hdrs, _ = message_at("order.events", copies[0]["sourcePartition"], copies[0]["sourceOffset"])
    check("dlq-redriven-from=inventory.dlq/%d/%d" % (target["partition"], target["offset"]) in hdrs,
          "the re-driven copy names its DLQ entry: %r" % hdrs)
    check("event-id=" + doc["eventId"] in hdrs, "the re-driven copy carries the event id: %r" % hdrs)
    listed = {(e["partition"], e["offset"]): e for e in entries_for("inventory", key)}
    check(listed[(target["partition"], target["offset"])]["redriven"] is True,
          "the entry is listed as re-driven: %r" % listed[(target["partition"], target["offset"])])

    # -- re-drive of an event processed meanwhile: answered "duplicate", not dead-lettered
    oid, pid = normal_order(run, "dlq-redrive")
    created = stack.eventually(
        lambda: [raw for ev, raw in stack.kcat_events("order.events", run.start_ms, oid)
                 if ev.get("type") == "OrderCreatedEvent"] or None,
        "OrderCreated of %s on Kafka" % oid, 20, 1.0)[0]
    produce("inventory.dlq", oid, created, headers={
        "dlq-reason": "e2e: simulated transient give-up", "dlq-source-topic": "order.events",
        "dlq-source-partition": "0", "dlq-source-offset": "0", "dlq-attempts": "10",
        "dlq-timestamp": str(int(time.time() * 1000)), "dlq-service": "inventory", "order-id": oid})
    entry = stack.eventually(lambda: entries_for("inventory", oid) or None,
                             "the simulated dead letter listed", 20, 0.5)[0]
    check(entry["eventId"] == json.loads(created)["eventId"] and entry["attempts"] == 10,
          "the simulated entry is read back: %r" % entry)
    before = stack.sidecar_counter_settled("inventory", "delivered")
    doc = redrive("inventory", {"partition": entry["partition"], "offset": entry["offset"]})
    check(doc.get("status") == "redriven", "re-drive of the processed event: %r" % doc)
    stack.eventually(lambda: stack.sidecar_counter("inventory", "delivered") > before,
                     "inventory consumes the re-driven event", 20, 0.2)
    stack.sidecar_counter_settled("inventory", "delivered")
    check(len(entries_for("inventory", oid)) == 1, "a processed event is not dead-lettered again: %r"
          % entries_for("inventory", oid))
    expect_stock(pid, (9, 0, 1), timeout_s=2)
    check(stack.order(oid)["status"] == "CONFIRMED", "the order stays confirmed")

    # -- re-drive all: every entry not re-driven yet, exactly once
    pending = [e for e in entries_for("inventory", key) if not e["redriven"]]
    check(pending, "entries left to re-drive")
    doc = redrive("inventory", {"all": True})
    check(isinstance(doc.get("redriven"), int) and doc["redriven"] >= len(pending),
          "re-drive all re-drove at least our %d entries: %r" % (len(pending), str(doc)[:300]))
    done = {(e["partition"], e["offset"]) for e in doc.get("entries", [])}
    check(all((e["partition"], e["offset"]) in done for e in pending),
          "re-drive all covered every pending entry of ours")
    listed = {(e["partition"], e["offset"]): e for e in entries_for("inventory", key)}
    check(all(listed[(e["partition"], e["offset"])]["redriven"] for e in pending),
          "every re-driven entry is listed as re-driven")
    # the copies come back (still poison); a second "all" leaves the old entries alone
    stack.eventually(lambda: len(entries_for("inventory", key)) >= len(first) + 1 + len(pending) or None,
                     "the re-driven poison dead-lettered again", 30, 0.5)
    doc2 = redrive("inventory", {"all": True})
    again = {(e["partition"], e["offset"]) for e in doc2.get("entries", [])}
    check(not again & done, "nothing is re-driven twice: %r" % sorted(again & done))
    check(doc2.get("alreadyRedriven", 0) >= len(done), "earlier entries count as re-driven: %r" % str(doc2)[:300])

    # invariants: the normal orders are settled, nothing reserved is left behind
    check(stack.order(oid)["status"] == "CONFIRMED", "the order stays confirmed")
    expect_stock(pid, (9, 0, 1), timeout_s=5)


def test_dlq_redrive_of_a_failing_message_keeps_one_entry(run):
    """A message that always fails, re-driven twice ({"all": true}), is listed
    as one entry: its newest copy, every round's attempts, two re-drives."""
    key = str(uuid.uuid4())
    payload = envelope(key, "NoSuchEvent", {"orderId": key})
    produce("order.events", key, payload)
    first = stack.eventually(lambda: entries_for("inventory", key, copies=False) or None,
                             "the poison message in inventory.dlq", 30, 0.5)
    check(len(first) == 1, "one entry: %r" % first)
    origin = "inventory.dlq/%d/%d" % (first[0]["partition"], first[0]["offset"])
    check(first[0].get("entryId") == origin and first[0].get("redrives") == 0,
          "a first dead letter is its own entry: %r" % first[0])
    attempts = first[0]["attempts"]
    for round_ in (1, 2):
        redrive("inventory", {"all": True})

        def back(round_=round_):
            copies = [e for e in entries_for("inventory", key) if e["payload"] == payload]
            return copies if len(copies) == round_ + 1 else None
        stack.eventually(back, "re-drive %d dead-lettered again" % round_, 30, 0.5)
        listed = entries_for("inventory", key, copies=False)
        check(len(listed) == 1, "still one entry after re-drive %d: %r" % (round_, listed))
        e = listed[0]
        check(e.get("entryId") == origin and e.get("redrives") == round_,
              "the entry names its origin and counts re-drives: %r" % e)
        check(e["attempts"] > attempts, "attempts add up across rounds: %r (was %d)" % (e, attempts))
        check(e["redriven"] is False, "the newest copy is the one left to re-drive: %r" % e)
        attempts = e["attempts"]


TESTS = [
    ("dlq_poison_messages", test_dlq_poison_messages),
    ("dlq_redrive", test_dlq_redrive),
    ("dlq_redrive_keeps_one_entry", test_dlq_redrive_of_a_failing_message_keeps_one_entry),
]
