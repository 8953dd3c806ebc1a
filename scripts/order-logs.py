#!/usr/bin/env python3
"""One order's log lines from every process of the local stack, in time order.

    scripts/order-logs.py ORDER_ID [LOG_DIR]        (make logs ORDER=<id>)

Reads every *.log in LOG_DIR (default RUN_DIR/logs, RUN_DIR default run):
the services, sidecars and gateway-sim write one JSON object per line
(svc/log.h). A line belongs to the order when its orderId or correlationId
is the id, or when the id appears anywhere in it (a sidecar's dead-letter
line names the key in its message; a LOG_FORMAT=text line has the fields in
brackets). Prints them merged by timestamp as
    <timestamp> <service> <level> <message> [eventType eventId]
or, with --json, the lines themselves. Exit 1 when no line matched.
Per-step lines are debug lines: run the stack with LOG_LEVEL=debug to see an
order's every transition (warnings and failures are logged at any level).
"""
import json
import os
import sys


def lines_of(path, order_id):
    """(timestamp, service, record or None, raw) of the lines naming the order."""
    name = os.path.basename(path)[:-len(".log")]
    with open(path, "rb") as f:
        for raw in f:
            text = raw.decode("utf-8", "replace").rstrip("\n")
            if order_id not in text:
                continue
            try:
                rec = json.loads(text)
            except ValueError:
                rec = None
            if isinstance(rec, dict):
                yield rec.get("timestamp", ""), rec.get("service", name), rec, text
            else:
                # a text line: "2026-11-24T20:17:04.123Z LEVEL name message"
                yield text.split(" ", 1)[0], name, None, text


def main(argv):
    as_json = "--json" in argv
    args = [a for a in argv[1:] if a != "--json"]
    if not args or not args[0]:
        sys.stderr.write("usage: order-logs.py [--json] ORDER_ID [LOG_DIR]\n")
        return 2
    order_id = args[0]
    log_dir = args[1] if len(args) > 1 else os.path.join(os.environ.get("RUN_DIR", "run"), "logs")
    if not os.path.isdir(log_dir):
        sys.stderr.write("no log directory %s (is the stack running? make run)\n" % log_dir)
        return 2
    found = []
    for name in sorted(os.listdir(log_dir)):
        if name.endswith(".log"):
            found.extend(lines_of(os.path.join(log_dir, name), order_id))
    # stable: lines of one process keep their order within a millisecond
    found.sort(key=lambda x: x[0])
    for ts, service, rec, raw in found:
        if as_json or rec is None:
            print(raw)
            continue
        event = " ".join(x for x in (rec.get("eventType"), rec.get("eventId")) if x)
        print("%s %-20s %-5s %s%s" % (ts, service, rec.get("level", ""), rec.get("message", ""),
                                      " [%s]" % event if event else ""))
    return 0 if found else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BrokenPipeError:  # | head
        sys.exit(0)
