"""End-to-end tests of the inbox's retention (svc/inbox_retention.h) against a
running stack: every service deletes the claims (processed_messages rows)
older than INBOX_RETENTION_HOURS (192 by default) plus a margin of an hour,
and dead-letters an event older than the retention instead of applying it.

    TESTS = [("inbox_retention_prunes_old_claims", ...),
             ("inbox_retention_dead_letters_old_events", ...)]

Each takes the runner's Run object (tests/e2e/run.py). The claims they write
carry this run's ids and are removed at the end, so reruns do not interfere.
"""

import json
import time
import uuid

import stack
from stack import check
from test_dlq import entries_for, produce

DATABASES = ("order_db", "payment_db", "inventory_db", "notification_db")
DAY_MS = 86400 * 1000
# the stack's retention (INBOX_RETENTION_HOURS): what is older than this and
# the hour's margin goes
OLD_DAYS = 9
# the job runs every INBOX_PRUNE_INTERVAL_MS (10 s)
PRUNE_WAIT_S = 45


def uuid7_at(ms):
    """A UUIDv7 of the millisecond `ms`, its random bits from uuid4."""
    r = uuid.uuid4().hex
    return "%08x-%04x-7%s-%s-%s" % (ms >> 16, ms & 0xFFFF, r[:3], "8" + r[3:6], r[6:18])


def insert_claim(db, event_id, days_ago):
    stack.sql("INSERT INTO processed_messages (event_id, event_type, topic, processed_at) "
              "VALUES ('%s', 'E2eRetentionEvent', 'e2e.retention', NOW(6) - INTERVAL %d DAY)"
              % (event_id, days_ago), db)


def claims(db, ids):
    rows = stack.sql("SELECT event_id FROM processed_messages WHERE event_id IN (%s)"
                     % ",".join("'%s'" % i for i in ids), db)
    return {r[0] for r in rows}


def test_inbox_retention_prunes_old_claims(run):
    old_ms = int(time.time() * 1000) - OLD_DAYS * DAY_MS
    plan = {}
    for db in DATABASES:
        tail = uuid.uuid4().hex[:12]
        plan[db] = {
            # old by its id and by the database's clock: deleted
            "old": uuid7_at(old_ms),
            # a random (v4) id at the low end of the key, processed long ago: deleted
            "old_v4": "00000000-0000-4000-9000-" + tail,
            # old by its id, but the database processed it now: kept
            "new_by_clock": uuid7_at(old_ms),
            # a random id at the low end of the key, processed now: kept
            "new_v4": "00000000-0000-4000-8000-" + tail,
        }
        ids = plan[db]
        insert_claim(db, ids["old"], OLD_DAYS)
        insert_claim(db, ids["old_v4"], OLD_DAYS)
        insert_claim(db, ids["new_by_clock"], 0)
        insert_claim(db, ids["new_v4"], 0)
        check(len(claims(db, ids.values())) == 4, "%s holds the four claims written" % db)

    try:
        for db in DATABASES:
            ids = plan[db]

            def pruned(db=db, ids=ids):
                left = claims(db, [ids["old"], ids["old_v4"]])
                return True if not left else stack.TestFailure("%s still holds %s" % (db, sorted(left)))
            stack.eventually(pruned, "claims older than the retention deleted from %s" % db,
                             PRUNE_WAIT_S, 1.0)
            kept = claims(db, [ids["new_by_clock"], ids["new_v4"]])
            check(kept == {ids["new_by_clock"], ids["new_v4"]},
                  "%s keeps the claims its clock says are recent: %r" % (db, sorted(kept)))
        for svc in ("order", "payment", "inventory", "notification"):
            text = stack.get(stack.SERVICES[svc] + "/metrics").body.decode("utf-8", "replace")
            check("svc_inbox_pruned_rows_total" in text,
                  "%s /metrics counts the claims it deleted" % svc)
    finally:
        for db in DATABASES:
            stack.sql("DELETE FROM processed_messages WHERE event_id IN (%s)"
                      % ",".join("'%s'" % i for i in plan[db].values()), db)


def test_inbox_retention_dead_letters_old_events(run):
    oid = str(uuid.uuid4())
    old_ms = int(time.time() * 1000) - OLD_DAYS * DAY_MS
    event_id = uuid7_at(old_ms)
    payload = json.dumps({
        "eventId": event_id, "type": "ReleaseInventoryCommand", "timestamp": old_ms,
        "data": {"orderId": oid, "reason": "e2e retention"},
        "metadata": {"correlationId": oid, "version": "1", "source": "e2e-retention"},
    }, separators=(",", ":"))
    produce("inventory.commands", oid, payload)

    def listed():
        found = entries_for("inventory", oid)
        return found if found else stack.TestFailure("not in inventory.dlq yet")
    entry = stack.eventually(listed, "the old command in inventory.dlq", 30, 0.5)[0]
    check("older than the inbox remembers" in (entry.get("reason") or ""),
          "the DLQ entry says why: %r" % entry.get("reason"))
    check(entry.get("payload") == payload, "the DLQ keeps the command unchanged")
    check(not claims("inventory_db", [event_id]), "the old command was not claimed")


TESTS = [
    ("inbox_retention_prunes_old_claims", test_inbox_retention_prunes_old_claims),
    ("inbox_retention_dead_letters_old_events", test_inbox_retention_dead_letters_old_events),
]
