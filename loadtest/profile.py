#!/usr/bin/env python3
"""make profile: what one order costs, from a bench run made with BENCH_PROFILE=1.

    profile.py RUN_DIR --rate R          writes RUN_DIR/profile.{md,json}, prints the table

Reads what scripts/bench.sh left in RUN_DIR: report.json (CPU per process during
the load, MariaDB's counters per accepted order), kafka-{before,after}.json
(each topic's messages: the sum of its high watermarks), kafka-bytes-*.tsv (the
bytes of each topic's log segments), strace-<process>.txt (strace -c -f over a
window of the load) and strace-window.txt (the window's start and end, ns).

The yardsticks are per accepted order, so runs at different rates compare:
CPU ms (seconds of CPU per second of load / orders per second), statements,
commits and rows written, Kafka messages and bytes, each sidecar's rounds
(relay rounds, deliveries, egress calls: samples.jsonl), the broker's
requests by type (kafka-requests-*.tsv, its JMX meters), every process's
context switches (ctxsw-*.tsv), system calls, and with BENCH_DIGESTS=1 the
rows each table read and wrote (tables-*.tsv). This
machine's CPUs expose no hardware counters (perf stat: instructions <not
supported>), so instructions per order are not measured here.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import (HARNESS, harness_sentence, machine, num, per_harness,  # noqa: E402
                    read_json, read_jsonl, read_tsv, stack_share)

DB_KEYS = [("Questions", "statements (Questions)"), ("Com_commit", "commits"),
           ("Com_insert", "INSERT statements"), ("Com_update", "UPDATE statements"),
           ("Com_select", "SELECT statements"), ("Com_delete", "DELETE statements"),
           ("Handler_write", "rows written (Handler_write)"),
           ("Handler_update", "rows updated (Handler_update)"),
           ("Handler_delete", "rows deleted (Handler_delete)"),
           ("Handler_read_key", "index look-ups (Handler_read_key)"),
           ("Innodb_log_writes", "redo log writes"), ("Innodb_data_fsyncs", "fsyncs"),
           ("Innodb_data_written", "bytes written by InnoDB")]


def kafka(d, accepted):
    before = (read_json(os.path.join(d, "kafka-before.json"), {}) or {}).get("end", {})
    after = (read_json(os.path.join(d, "kafka-after.json"), {}) or {}).get("end", {})
    bb = {r[0]: num(r[1]) for r in read_tsv(os.path.join(d, "kafka-bytes-before.tsv")) if len(r) > 1}
    ba = {r[0]: num(r[1]) for r in read_tsv(os.path.join(d, "kafka-bytes-after.tsv")) if len(r) > 1}
    out = {}
    for name in sorted(after):
        topic = name.split("profile-", 1)[-1]
        msgs = after[name] - before.get(name, 0)
        nbytes = (ba.get(name) or 0) - (bb.get(name) or 0)
        out[topic] = {"messages": round(msgs / accepted, 3),
                      "bytes": round(nbytes / accepted, 1)}
    if out:
        out["total"] = {"messages": round(sum(v["messages"] for v in out.values()), 3),
                        "bytes": round(sum(v["bytes"] for v in out.values()), 1)}
    return out


def counter_delta(d, name, accepted):
    """{key: per order} from NAME-{before,after}.tsv ("key<TAB>count" lines),
    largest first; {} without them."""
    def load(suffix):
        return {r[0]: num(r[1]) or 0
                for r in read_tsv(os.path.join(d, f"{name}-{suffix}.tsv")) if len(r) > 1}
    before, after = load("before"), load("after")
    out = {k: round((v - before.get(k, 0)) / accepted, 2) for k, v in after.items()}
    return dict(sorted(((k, v) for k, v in out.items() if v > 0), key=lambda kv: -kv[1]))


def table_rows(d, accepted):
    """Rows read, inserted, updated and deleted per order in each table, from
    the performance schema's table I/O counters before and after the load
    (tables-{before,after}.tsv: BENCH_DIGESTS=1); {} without them."""
    def load(name):
        return {f"{r[0]}.{r[1]}": [num(x) or 0 for x in r[2:6]]
                for r in read_tsv(os.path.join(d, name)) if len(r) >= 6}
    before, after = load("tables-before.tsv"), load("tables-after.tsv")
    out = {}
    for table, a in after.items():
        b = before.get(table, [0, 0, 0, 0])
        v = [round((x - y) / accepted, 2) for x, y in zip(a, b)]
        if any(v):
            out[table] = dict(zip(("read", "inserted", "updated", "deleted"), v))
    return dict(sorted(out.items(), key=lambda kv: -sum(kv[1].values())))


def strace_counts(path):
    """{syscall: calls} from strace -c's table"""
    calls = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                # % time, seconds, usecs/call, calls, [errors], syscall
                if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                    try:
                        calls[parts[-1]] = int(parts[3])
                    except ValueError:
                        pass
    except OSError:
        pass
    return calls


def syscalls(d, rate):
    try:
        with open(os.path.join(d, "strace-window.txt")) as f:
            t = [int(x) for x in f.read().split()]
        secs = (t[1] - t[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return {}
    orders = rate * secs
    out = {}
    for name in sorted(os.listdir(d)):
        if name.startswith("strace-") and name.endswith(".txt") and name != "strace-window.txt":
            calls = strace_counts(os.path.join(d, name))
            if calls:
                top = sorted(calls.items(), key=lambda kv: -kv[1])[:5]
                out[name[7:-4]] = {"per_order": round(sum(calls.values()) / orders, 1),
                                   "top": {k: round(v / orders, 1) for k, v in top}}
    return {"window_s": round(secs, 1), "processes": out,
            "total_per_order": round(sum(p["per_order"] for p in out.values()), 1)}


ROUNDS = [("relay_batches", "relay rounds"), ("delivery_batches", "deliveries"),
          ("egress_requests", "egress requests"), ("egress", "egress calls")]


def rounds(d, accepted):
    """{service: {counter: per order}}: each sidecar's rounds between the first
    and the last sample of the measured load (samples.jsonl), before the
    strace window's own load"""
    cut = None
    try:
        with open(os.path.join(d, "strace-window.txt")) as f:
            cut = int(f.read().split()[0]) / 1e6 - 2000  # its load began 2 s before
    except (OSError, ValueError, IndexError):
        pass
    samples = [x for x in read_jsonl(os.path.join(d, "samples.jsonl"))
               if x.get("sidecars") and (cut is None or x.get("t_ms", 0) < cut)]
    if len(samples) < 2:
        return {}

    def counters(sc):
        routes = (sc.get("egress") or {}).values()
        return {"relay_batches": sc.get("relay_batches", 0),
                "delivery_batches": sc.get("delivery_batches", 0),
                "egress_requests": sum((v or {}).get("requests", 0) for v in routes),
                "egress": sum((v or {}).get("calls", 0) for v in routes)}
    out = {}
    for svc, last in sorted(samples[-1]["sidecars"].items()):
        first = samples[0]["sidecars"].get(svc)
        if not isinstance(first, dict) or not isinstance(last, dict):
            continue
        a, b = counters(first), counters(last)
        out[svc] = {k: round((b[k] - a[k]) / accepted, 3) for k, _ in ROUNDS}
    return out


def main(argv):
    d = argv[1]
    rate = float(argv[argv.index("--rate") + 1]) if "--rate" in argv else 0
    rep = read_json(os.path.join(d, "report.json"), {})
    accepted = (rep.get("http") or {}).get("ok") or 0
    if not rep or not accepted or not rate:
        print(f"profile: no usable report.json in {d}", file=sys.stderr)
        return 1
    cpu = {k: round(v * 1000 / rate, 3) for k, v in rep.get("cpu_cores", {}).items()}
    db = {k: (rep.get("db_per_order") or {}).get(k) for k, _ in DB_KEYS}
    prof = {"machine": machine(), "rate": rate, "orders": accepted,
            "cpu_ms_per_order": cpu, "cpu_ms_per_order_total": round(sum(cpu.values()), 3),
            "cpu_ms_per_order_stack": round(stack_share(cpu), 3),
            "stack_per_harness_cpu": per_harness(cpu),
            "mariadb_per_order": db, "kafka_per_order": kafka(d, accepted),
            "syscalls_per_order": syscalls(d, rate),
            "table_rows_per_order": table_rows(d, accepted),
            "sidecar_rounds_per_order": rounds(d, accepted),
            "kafka_requests_per_order": counter_delta(d, "kafka-requests", accepted),
            "context_switches_per_order": counter_delta(d, "ctxsw", accepted),
            "correctness": rep.get("correctness")}
    with open(os.path.join(d, "profile.json"), "w") as f:
        json.dump(prof, f, indent=1)
    L = [f"# Profile: {accepted:,} orders at {rate:g}/s", "", f"Machine: {prof['machine']}", "",
         "## CPU ms per order (during the load)", "", "| process | CPU ms/order |", "|---|---|"]
    L += [f"| {k} | {v:.3f} |" for k, v in cpu.items()]
    L += [f"| **total** | **{prof['cpu_ms_per_order_total']:.3f}** |",
          f"| the stack alone (total without {' and '.join(HARNESS)}) | "
          f"{prof['cpu_ms_per_order_stack']:.3f} |", ""]
    if prof["stack_per_harness_cpu"] is not None:
        L += [harness_sentence(prof["stack_per_harness_cpu"]), ""]
    L += ["## MariaDB per order (load and settle)", "", "| counter | per order |", "|---|---|"]
    L += [f"| {label} | {db[k] if db[k] is not None else '-'} |" for k, label in DB_KEYS]
    tr = prof["table_rows_per_order"]
    if tr:
        L += ["", "## MariaDB rows per order by table (performance schema, the load)", "",
              "| table | read | inserted | updated | deleted |", "|---|---|---|---|---|"]
        L += [f"| {t} | {v['read']} | {v['inserted']} | {v['updated']} | {v['deleted']} |"
              for t, v in tr.items()]
    L += ["", "## Kafka per order", "", "| topic | messages | bytes |", "|---|---|---|"]
    L += [f"| {t} | {v['messages']} | {v['bytes']} |" for t, v in prof["kafka_per_order"].items()]
    kr = prof["kafka_requests_per_order"]
    if kr:
        L += ["", "## Kafka requests per order by type (the broker's meters, load and settle)",
              "", "| request | per order |", "|---|---|"]
        L += [f"| {k} | {v} |" for k, v in kr.items()]
        L.append(f"| **total** | **{round(sum(kr.values()), 2)}** |")
    cs = prof["context_switches_per_order"]
    if cs:
        L += ["", "## Context switches per order (every thread, load and settle)", "",
              "| process | per order |", "|---|---|"]
        L += [f"| {k} | {v} |" for k, v in cs.items()]
        L.append(f"| **total** | **{round(sum(cs.values()), 1)}** |")
    rd = prof["sidecar_rounds_per_order"]
    if rd:
        L += ["", "## Rounds per order (each sidecar's counters over the load)", "",
              "| sidecar | " + " | ".join(label for _, label in ROUNDS) + " |",
              "|---|" + "---|" * len(ROUNDS)]
        L += [f"| {svc} | " + " | ".join(str(v[k]) for k, _ in ROUNDS) + " |"
              for svc, v in rd.items()]
    sc = prof["syscalls_per_order"]
    if sc:
        L += ["", f"## System calls per order (strace -c -f, {sc['window_s']} s of the load)", "",
              "| process | syscalls/order | top five |", "|---|---|---|"]
        for name, p in sorted(sc["processes"].items(), key=lambda kv: -kv[1]["per_order"]):
            top = ", ".join(f"{k} {v}" for k, v in p["top"].items())
            L.append(f"| {name} | {p['per_order']} | {top} |")
        L.append(f"| **total** | **{sc['total_per_order']}** | |")
    L += ["", "The system calls are counted during a short load of their own after the "
          "measured one (strace slows what it traces).", ""]
    with open(os.path.join(d, "profile.md"), "w") as f:
        f.write("\n".join(L))
    print("\n".join(L))
    print(f"profile: {os.path.join(d, 'profile.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
