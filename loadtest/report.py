#!/usr/bin/env python3
"""The benchmark report (scripts/bench.sh): report.md, report.json, chart.svg.

    report.py run DIR --rate R --duration S [--smoke]
    report.py series OUT DIR...

`run` reads what bench.sh left in DIR (loadgen.json, orders.tsv,
transitions.tsv, invariants.tsv, samples.jsonl, lag.jsonl, *-ceiling.json),
prints the summary and exits 1 when --smoke is given and correctness fails
(an accepted order not terminal, an invariant broken, an order refused for
its token or by the per-user rate limit). `series` writes
OUT/report.md with one row per rate. Standard library only.
"""
import json
import os
import sys
from collections import defaultdict

TERMINAL = ("CONFIRMED", "CANCELLED")
MAX_SECONDS = 86400  # per-second series never run past a day (bad clocks, old data)
KPI = {"confirmed_share": 0.999, "avg_ms": 1000.0, "p99_ms": 2000.0}


# ---------------------------------------------------------------- loading

def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def read_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def read_tsv(path):
    try:
        with open(path) as f:
            return [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except OSError:
        return []


def num(s):
    try:
        return int(s)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- statistics

def summary(values):
    v = sorted(values)
    n = len(v)
    if not n:
        return {"count": 0, "avg_ms": None, "p50_ms": None, "p95_ms": None, "p99_ms": None,
                "max_ms": None}

    def rank(p):
        return v[min(n - 1, int(p * n))]
    return {"count": n, "avg_ms": round(sum(v) / n, 1), "p50_ms": rank(0.50),
            "p95_ms": rank(0.95), "p99_ms": rank(0.99), "max_ms": v[-1]}


def slope(points):
    """least-squares slope of [(x, y)]"""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else 0.0


# ---------------------------------------------------------------- analysis

def analyse_orders(d, lg):
    start = lg.get("start_ms")
    if not start:  # loadgen without a wall-clock start: the first order's creation
        start = min((num(r[2]) for r in read_tsv(os.path.join(d, "orders.tsv"))
                     if len(r) > 2 and num(r[2])), default=0)
        lg["start_ms"] = start
    accepted = set(lg.get("orders", []))
    rows = read_tsv(os.path.join(d, "orders.tsv"))
    status_count = defaultdict(int)
    completion, created_sec, done_sec = [], defaultdict(list), defaultdict(int)
    reasons = defaultdict(int)
    missing = len(accepted)
    for r in rows:
        if len(r) < 4:
            continue
        oid, status, created, terminal = r[0], r[1], num(r[2]), num(r[3])
        if accepted and oid not in accepted:
            continue
        missing -= 1
        status_count[status] += 1
        if status == "CANCELLED" and len(r) > 4:
            reasons[r[4][:60]] += 1
        if created is None or terminal is None or status not in TERMINAL:
            continue
        ms = terminal - created
        completion.append(ms)
        created_sec[(created - start) // 1000].append(ms)
        done_sec[(terminal - start) // 1000] += 1
    n = sum(status_count.values())
    confirmed = status_count.get("CONFIRMED", 0)
    per_sec = []
    last = max([k for k in list(created_sec) + list(done_sec) if k < MAX_SECONDS] + [0])
    for s in range(0, last + 1):
        c = summary(created_sec.get(s, []))
        per_sec.append({"t": s, "created": c["count"], "completed": done_sec.get(s, 0),
                        "p50_ms": c["p50_ms"], "p95_ms": c["p95_ms"], "p99_ms": c["p99_ms"]})
    return {
        "orders": n, "missing_in_db": max(0, missing), "by_status": dict(status_count),
        "confirmed_share": confirmed / n if n else 0.0,
        "not_terminal": n - status_count.get("CONFIRMED", 0) - status_count.get("CANCELLED", 0),
        "cancel_reasons": dict(reasons), "completion": summary(completion), "per_second": per_sec,
    }


def analyse_steps(d, accepted):
    """time from one saga transition to the next, per (step, from -> to), for
    the accepted orders of the measured run"""
    rows = [r for r in read_tsv(os.path.join(d, "transitions.tsv"))
            if r and (not accepted or r[0] in accepted)]
    steps = defaultdict(list)
    prev = None
    for r in rows:
        if len(r) < 7:
            continue
        cur = {"order": r[0], "to": r[3], "step": r[4], "event": r[5], "t": num(r[6])}
        if prev and prev["order"] == cur["order"] and prev["t"] is not None and cur["t"] is not None:
            key = f"{prev['step']}: {prev['to']} -> {cur['to']} ({cur['event']})"
            steps[key].append(cur["t"] - prev["t"])
        prev = cur
    return {k: summary(v) for k, v in sorted(steps.items(), key=lambda kv: -len(kv[1]))}


def analyse_lag(d, lg, duration):
    start = lg.get("start_ms", 0)
    series = defaultdict(list)
    for line in read_jsonl(os.path.join(d, "lag.jsonl")):
        t = (line.get("t_ms", 0) - start) / 1000.0
        for g, v in line.get("lag", {}).items():
            if v is not None and v >= 0:
                series[g].append((t, v))
    out = {}
    for g, pts in series.items():
        load = [p for p in pts if 0 <= p[0] <= duration]
        tail = [p for p in load if p[0] >= duration / 2]
        out[g] = {"max": max((p[1] for p in pts), default=0),
                  "max_during_load": max((p[1] for p in load), default=0),
                  "at_end_of_load": load[-1][1] if load else None,
                  "slope_2nd_half_per_s": round(slope(tail), 2)}
    return out, series


def analyse_cpu(d, lg, duration):
    start = lg.get("start_ms", 0)
    end = start + duration * 1000
    samples = read_jsonl(os.path.join(d, "samples.jsonl"))
    inside = [s for s in samples if start <= s.get("t_ms", 0) <= end]
    pending = [((s["t_ms"] - start) / 1000.0, s["pending"]) for s in samples
               if s.get("pending") is not None]
    out = {}
    if len(inside) >= 2:
        a, b = inside[0], inside[-1]
        secs = (b["t_ms"] - a["t_ms"]) / 1000.0
        hz = b.get("ticks_per_s", 100)
        for name, ticks in b["cpu"].items():
            if name in a["cpu"] and secs > 0:
                out[name] = round((ticks - a["cpu"][name]) / hz / secs, 3)
    if lg.get("cpu_s") and lg.get("elapsed_s"):
        out["loadgen"] = round(lg["cpu_s"] / lg["elapsed_s"], 3)
    return dict(sorted(out.items(), key=lambda kv: -kv[1])), pending


def analyse_sidecars(d):
    """per sidecar: the best 10 s rate of inbound deliveries and relayed outbox rows
    (while a backlog exists, that is the service's own capacity)"""
    samples = read_jsonl(os.path.join(d, "samples.jsonl"))
    out = {}
    for svc in ("order", "inventory", "payment", "notification"):
        pts = [(x["t_ms"], x["sidecars"][svc]) for x in samples if svc in x.get("sidecars", {})]
        best_in = best_out = 0.0
        for (ta, a), (tb, b) in zip(pts, pts[10:]):
            secs = (tb - ta) / 1000.0
            if secs > 0:
                best_in = max(best_in, (b.get("delivered", 0) - a.get("delivered", 0)) / secs)
                best_out = max(best_out, (b.get("relayed", 0) - a.get("relayed", 0)) / secs)
        if pts:
            out[svc] = {"peak_delivered_per_s": round(best_in), "peak_relayed_per_s": round(best_out),
                        "delivered": pts[-1][1].get("delivered"),
                        "retried": pts[-1][1].get("retried")}
    return out


def db_work(d, accepted):
    """MariaDB's counters over load + settle, per accepted order"""
    before = {r[0]: num(r[1]) for r in read_tsv(os.path.join(d, "dbstatus-before.tsv")) if len(r) > 1}
    after = {r[0]: num(r[1]) for r in read_tsv(os.path.join(d, "dbstatus-after.tsv")) if len(r) > 1}
    if not before or not after or not accepted:
        return {}
    return {k: round((after[k] - before.get(k, 0)) / accepted, 2)
            for k in sorted(after) if after[k] is not None and before.get(k) is not None}


def invariants(d):
    inv = {}
    for r in read_tsv(os.path.join(d, "invariants.tsv")):
        if len(r) >= 2:
            inv[r[0]] = num(r[1])
    return inv


# ---------------------------------------------------------------- chart

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]


def panel(out, top, title, series, xmax, ylabel, width=960, height=230):
    left, right = 70, width - 170
    ymax = max([y for _, _, pts in series for _, y in pts if y is not None] + [1]) * 1.1
    out.append(f'<text x="{left}" y="{top - 8}" font-weight="bold">{title}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{height}" '
               'fill="none" stroke="#999"/>')
    for i in range(5):
        y = top + height - i * height / 4
        out.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
                   f'{ymax * i / 4:.0f}</text>')
    for i in range(6):
        x = left + i * (right - left) / 5
        out.append(f'<text x="{x:.1f}" y="{top + height + 14}" text-anchor="middle" '
                   f'font-size="11">{xmax * i / 5:.0f}s</text>')
    out.append(f'<text x="14" y="{top + height / 2}" font-size="11" '
               f'transform="rotate(-90 14 {top + height / 2})">{ylabel}</text>')
    for k, (name, color, pts) in enumerate(series):
        coords = " ".join(f"{left + x / xmax * (right - left):.1f},"
                          f"{top + height - y / ymax * height:.1f}"
                          for x, y in pts if y is not None and 0 <= x <= xmax)
        if coords:
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" '
                       f'points="{coords}"/>')
        out.append(f'<rect x="{right + 12}" y="{top + 8 + k * 18}" width="12" height="3" '
                   f'fill="{color}"/>')
        out.append(f'<text x="{right + 30}" y="{top + 13 + k * 18}" font-size="12">{name}</text>')


def chart(path, rep, lg, lag_series, pending):
    xmax = max(10, len(rep["orders"]["per_second"]), rep["duration_s"])
    per = rep["orders"]["per_second"]
    http = [(p["t"], p["latency"]["p99_ms"]) for p in lg.get("per_second", [])
            if p["latency"]["count"]]
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="960" height="900" '
           'font-family="sans-serif" font-size="13">', '<rect width="100%" height="100%" '
           'fill="white"/>', f'<text x="70" y="22" font-size="15" font-weight="bold">'
           f'{rep["rate"]} orders/s for {rep["duration_s"]} s: completion time and throughput'
           '</text>']
    panel(out, 60, "Order completion time (create -> CONFIRMED/CANCELLED) by creation second",
          [("p50", COLORS[0], [(p["t"], p["p50_ms"]) for p in per]),
           ("p95", COLORS[3], [(p["t"], p["p95_ms"]) for p in per]),
           ("p99", COLORS[1], [(p["t"], p["p99_ms"]) for p in per]),
           ("HTTP p99", COLORS[4], http)], xmax, "ms")
    panel(out, 350, "Throughput per second",
          [("target", "#999", [(0, rep["rate"]), (rep["duration_s"], rep["rate"])]),
           ("accepted (HTTP 202)", COLORS[0],
            [(p["t"], p["ok"]) for p in lg.get("per_second", [])]),
           ("finished sagas", COLORS[2], [(p["t"], p["completed"]) for p in per])],
          xmax, "orders/s")
    panel(out, 640, "Consumer lag (messages) and sagas in flight",
          [(g, COLORS[i % len(COLORS)], pts) for i, (g, pts) in
           enumerate(sorted(lag_series.items()))] + [("orders in flight", "#000", pending)],
          xmax, "count")
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ---------------------------------------------------------------- report

def lag_tolerance(rep, group):
    """How fast a group's lag may grow (msg/s) and still count as flat: 1 % of
    the messages it consumes per second (events per accepted order, from its
    sidecar's delivered counter, times the rate), at least 1 msg/s"""
    sc = rep.get("sidecars", {}).get(group.replace("-service", ""), {})
    accepted = rep["http"]["ok"] or 0
    per_order = (sc.get("delivered") or 0) / accepted if accepted else 0
    return max(1.0, 0.01 * per_order * rep["rate"])


def verdict(rep):
    o, lg = rep["orders"], rep["http"]
    c = o["completion"]
    lag_ok = all(v["slope_2nd_half_per_s"] <= lag_tolerance(rep, g)
                 for g, v in rep["lag"].items())
    checks = {
        "achieved >= 99% of the target rate": lg["achieved_rate"] >= 0.99 * rep["rate"],
        ">= 99.9% CONFIRMED": o["confirmed_share"] >= KPI["confirmed_share"],
        "completion avg < 1 s": c["avg_ms"] is not None and c["avg_ms"] < KPI["avg_ms"],
        "completion p99 < 2 s": c["p99_ms"] is not None and c["p99_ms"] < KPI["p99_ms"],
        "every order terminal": o["not_terminal"] == 0 and o["missing_in_db"] == 0,
        "consumer lag not growing": lag_ok,
    }
    return checks


def correctness(rep):
    inv = rep["invariants"]
    refused = rep["http"].get("http_status") or {}  # absent in older loadgen output
    return {
        "no order refused for its token or rate (HTTP 401/403/429)":
            not any(refused.get(code) for code in ("401", "403", "429")),
        "every accepted order terminal": rep["orders"]["not_terminal"] == 0
        and rep["orders"]["missing_in_db"] == 0 and rep["orders"]["orders"] > 0,
        "stock conserved (available + reserved + sold = seeded)":
            inv.get("products_not_conserved") == 0,
        "no reservation left open": inv.get("reservations_open") == 0
        and inv.get("units_reserved") == 0,
        "sold units = units of CONFIRMED orders": inv.get("sold_minus_confirmed_units") == 0,
        "at most one capture per order": inv.get("captures_per_order_over_1") == 0,
        "captured <=> CONFIRMED": inv.get("captured_not_confirmed") == 0
        and inv.get("confirmed_not_captured") == 0,
    }


def fmt(v, unit=""):
    return "-" if v is None else (f"{v:,.0f}{unit}" if isinstance(v, (int, float)) else str(v))


# The processes that stand in for the outside world: the clients (the load
# generator) and the payment provider (the gateway simulator). They share the
# machine, so the total counts them; "the stack" is everything else.
HARNESS = ("loadgen", "gateway-sim")


def stack_share(cpu):
    """The sum of `cpu` (process -> figure) without the harness processes."""
    return sum(v for k, v in cpu.items() if k not in HARNESS)


def harness_sentence(ratio):
    """The reports' line on per_harness(): what the ratio is and what it compares."""
    return (f"The stack alone used {ratio} times the CPU of the harness "
            f"({' and '.join(HARNESS)}, whose work per order is fixed): this ratio moves much "
            "less with the machine's speed than CPU per order does, so runs of one rate and "
            "duration in one session compare builds by it (docs/benchmarks.md, eighteenth "
            "round).")


def per_harness(cpu):
    """The stack's CPU in units of the harness's, from the same run: `cpu`
    (process -> cores or ms) without the harness, divided by the harness's
    (None without it). The load generator sends one request per order and
    the gateway simulator answers one charge: their work per order does not
    change with the stack's code, so their CPU measures how fast the machine
    was during the run, and this ratio moves much less with it (in one
    session, CPU per order moved by 5-10 % between runs of one build; this, by
    1-2 %; across sessions it moved more)."""
    harness = sum(v for k, v in cpu.items() if k in HARNESS)
    return round(stack_share(cpu) / harness, 2) if harness > 0 else None


def markdown(rep):
    o, h, c = rep["orders"], rep["http"], rep["orders"]["completion"]
    L = [f"# Benchmark: {rep['rate']} orders/s for {rep['duration_s']} s", "",
         f"Machine: {rep['machine']}", "", "## Result", "",
         "| KPI | result |", "|---|---|"]
    for k, ok in rep["kpis"].items():
        L.append(f"| {k} | {'PASS' if ok else 'FAIL'} |")
    L += ["", "| figure | value |", "|---|---|",
          f"| scheduled / accepted / HTTP errors / dropped | {h['scheduled']:,} / {h['ok']:,} / "
          f"{h['errors']:,} / {h['dropped']:,} |",
          f"| answers by HTTP status | "
          f"{', '.join(f'{k} {v:,}' for k, v in sorted((h.get('http_status') or {}).items()))} |",
          f"| bearer tokens signed (before the start / during the run, us each) | "
          f"{fmt((h.get('tokens') or {}).get('minted_before_start'))} / "
          f"{fmt((h.get('tokens') or {}).get('minted_during_run'))}, "
          f"{(h.get('tokens') or {}).get('mint_us_avg') or 0:.1f} us |",
          f"| achieved (accepted) orders/s | {h['achieved_rate']:.1f} |",
          f"| orders by status | {', '.join(f'{k} {v:,}' for k, v in o['by_status'].items())} |",
          f"| CONFIRMED share | {100 * o['confirmed_share']:.3f} % |",
          f"| not terminal at the end | {o['not_terminal']:,} |", "",
          "## Latency (ms)", "", "| | count | avg | p50 | p95 | p99 | max |",
          "|---|---|---|---|---|---|---|"]

    def row(name, s):
        return (f"| {name} | {fmt(s['count'])} | {fmt(s['avg_ms'])} | {fmt(s['p50_ms'])} | "
                f"{fmt(s['p95_ms'])} | {fmt(s['p99_ms'])} | {fmt(s['max_ms'])} |")
    L.append(row("**completion** (create -> terminal)", c))
    hl = h["http_latency"]
    L.append(row("HTTP POST /api/orders", hl))
    for k, s in rep["steps"].items():
        L.append(row(f"step {k}", s))
    L += ["", "## Consumer lag (messages)", "", "| group | max | at end of load | "
          "slope, 2nd half (msg/s) |", "|---|---|---|---|"]
    for g, v in sorted(rep["lag"].items()):
        L.append(f"| {g} | {fmt(v['max'])} | {fmt(v['at_end_of_load'])} | "
                 f"{v['slope_2nd_half_per_s']} |")
    L += ["", "## CPU during the load (cores; the machine has "
          f"{os.cpu_count()})", "", "| process | cores | CPU ms per order |", "|---|---|---|"]
    rate = h["achieved_rate"] or 1

    def per_order(cores):
        return f"{1000 * cores / rate:.2f}"
    for name, v in rep["cpu_cores"].items():
        L.append(f"| {name} | {v:.2f} | {per_order(v)} |")
    total = sum(rep['cpu_cores'].values())
    L.append(f"| **total** | {total:.2f} | {per_order(total)} |")
    own = stack_share(rep["cpu_cores"])
    L.append(f"| the stack alone (total without {' and '.join(HARNESS)}) | {own:.2f} | "
             f"{per_order(own)} |")
    ratio = rep.get("stack_per_harness_cpu")
    if ratio is not None:
        L += ["", harness_sentence(ratio)]
    L += ["", "## Sidecars (best 10 s; with a backlog this is the service's capacity)", "",
          "| service | events delivered/s | outbox rows relayed/s | delivered | retried |",
          "|---|---|---|---|---|"]
    for svc, v in rep.get("sidecars", {}).items():
        L.append(f"| {svc} | {v['peak_delivered_per_s']} | {v['peak_relayed_per_s']} | "
                 f"{fmt(v['delivered'])} | {fmt(v['retried'])} |")
    if rep.get("db_per_order"):
        L += ["", "## MariaDB work per accepted order (all four databases, load + settle)", "",
              "| counter | per order |", "|---|---|"]
        for k, v in rep["db_per_order"].items():
            L.append(f"| {k} | {v} |")
    ce = rep["ceilings"]
    if ce.get("kafka") or ce.get("mariadb"):
        L += ["", "## This machine's ceilings (same run, before the load)", ""]
        if ce.get("kafka"):
            k = ce["kafka"]
            L.append(f"- Kafka produce->consume ({k['message_bytes']} B messages, acks=all, "
                     f"idempotent): {k['produce_per_s']:,.0f} msg/s produced, "
                     f"{k['consume_per_s']:,.0f} msg/s consumed end to end")
        if ce.get("mariadb"):
            m = ce["mariadb"]
            L.append(f"- MariaDB single-row write transactions ({m['clients']} clients, Unix "
                     f"socket): {m['tx_per_s']:,.0f} tx/s, commit p50 {m['commit_ms']['p50']} ms,"
                     f" p99 {m['commit_ms']['p99']} ms")
        if ce.get("mariadb_1"):
            m = ce["mariadb_1"]
            L.append(f"- the same with 1 client (a consumer committing event by event): "
                     f"{m['tx_per_s']:,.0f} tx/s, commit p50 {m['commit_ms']['p50']} ms")
        if ce.get("mariadb"):
            commits = (rep.get("db_per_order") or {}).get("Com_commit")
            per = (f"this run committed {commits} transactions per order across the four "
                   "databases, the outbox relays' included" if commits is not None else
                   "see the MariaDB counters per order above")
            L.append(f"- the order rate is {100 * rep['rate'] / ce['mariadb']['tx_per_s']:.1f} % of"
                     f" the raw commit rate ({per})")
    L += ["", "## Correctness", "", "| check | result |", "|---|---|"]
    for k, ok in rep["correctness"].items():
        L.append(f"| {k} | {'ok' if ok else 'FAILED'} |")
    L.append("")
    L.append("Invariant counters: " + ", ".join(f"{k}={v}" for k, v in rep["invariants"].items()))
    if o["cancel_reasons"]:
        L += ["", "Cancel reasons: " + ", ".join(f"{k} ({v})" for k, v in
                                                  o["cancel_reasons"].items())]
    L += ["", "![chart](chart.svg)", ""]
    return "\n".join(L)


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return f"{os.cpu_count()} CPUs ({model}), {mem:.0f} GiB RAM, {os.uname().release}"


def cmd_run(d, rate, duration, smoke):
    lg = read_json(os.path.join(d, "loadgen.json"), {})
    if not lg:
        print(f"report: no loadgen.json in {d}", file=sys.stderr)
        return 1
    orders = analyse_orders(d, lg)  # first: fills in a missing start_ms
    lag, lag_series = analyse_lag(d, lg, duration)
    cpu, pending = analyse_cpu(d, lg, duration)
    rep = {
        "rate": rate, "duration_s": duration, "machine": machine(),
        "http": {k: lg.get(k) for k in ("scheduled", "ok", "errors", "transport_errors",
                                        "dropped", "achieved_rate", "http_latency",
                                        "http_status", "tokens")},
        "orders": orders, "steps": analyse_steps(d, set(lg.get("orders", []))), "lag": lag,
        "cpu_cores": cpu, "stack_per_harness_cpu": per_harness(cpu),
        "sidecars": analyse_sidecars(d), "invariants": invariants(d),
        "db_per_order": db_work(d, lg.get("ok")),
        "ceilings": {"kafka": read_json(os.path.join(d, "kafka-ceiling.json")),
                     "mariadb": read_json(os.path.join(d, "db-ceiling.json")),
                     "mariadb_1": read_json(os.path.join(d, "db-ceiling-1.json"))},
    }
    rep["kpis"] = verdict(rep)
    rep["correctness"] = correctness(rep)
    with open(os.path.join(d, "report.json"), "w") as f:
        json.dump(rep, f, indent=1)
    with open(os.path.join(d, "report.md"), "w") as f:
        f.write(markdown(rep))
    chart(os.path.join(d, "chart.svg"), rep, lg, lag_series, pending)
    c = rep["orders"]["completion"]
    print(f"bench: {rate}/s x {duration}s: accepted {lg['ok']:,}/{lg['scheduled']:,} "
          f"({lg['achieved_rate']:.1f}/s), CONFIRMED {100 * rep['orders']['confirmed_share']:.2f} %"
          f", not terminal {rep['orders']['not_terminal']}, completion avg {fmt(c['avg_ms'])} "
          f"p50 {fmt(c['p50_ms'])} p95 {fmt(c['p95_ms'])} p99 {fmt(c['p99_ms'])} "
          f"max {fmt(c['max_ms'])} ms; HTTP p99 {lg['http_latency']['p99_ms']:.1f} ms; "
          f"KPIs {'PASS' if all(rep['kpis'].values()) else 'FAIL'}; "
          f"correctness {'ok' if all(rep['correctness'].values()) else 'FAILED'}")
    print(f"bench: report {os.path.join(d, 'report.md')}")
    if smoke and not all(rep["correctness"].values()):
        for k, ok in rep["correctness"].items():
            if not ok:
                print(f"bench: smoke FAILED: {k}", file=sys.stderr)
        return 1
    return 0


def cmd_series(out, dirs):
    L = ["# Benchmark series", "", f"Machine: {machine()}", "",
         "| rate/s | achieved/s | CONFIRMED | not terminal | completion avg | p50 | p95 | p99 |"
         " max | HTTP p99 | max lag | CPU cores | KPIs |", "|" + "---|" * 13]
    for d in dirs:
        rep = read_json(os.path.join(d, "report.json"))
        if not rep:
            continue
        c = rep["orders"]["completion"]
        lag = max((v["max"] for v in rep["lag"].values()), default=0)
        L.append(f"| [{rep['rate']}]({os.path.relpath(d, out)}/report.md) | "
                 f"{rep['http']['achieved_rate']:.1f} | "
                 f"{100 * rep['orders']['confirmed_share']:.2f} % | "
                 f"{rep['orders']['not_terminal']} | {fmt(c['avg_ms'])} | {fmt(c['p50_ms'])} | "
                 f"{fmt(c['p95_ms'])} | {fmt(c['p99_ms'])} | {fmt(c['max_ms'])} | "
                 f"{rep['http']['http_latency']['p99_ms']:.1f} | {fmt(lag)} | "
                 f"{sum(rep['cpu_cores'].values()):.2f} | "
                 f"{'PASS' if all(rep['kpis'].values()) else 'FAIL'} |")
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "run":
        args = argv[3:]
        rate = int(args[args.index("--rate") + 1]) if "--rate" in args else 0
        duration = int(args[args.index("--duration") + 1]) if "--duration" in args else 0
        return cmd_run(argv[2], rate, duration, "--smoke" in args)
    if len(argv) >= 4 and argv[1] == "series":
        return cmd_series(argv[2], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
