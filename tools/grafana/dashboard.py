#!/usr/bin/env python3
"""Writes the Grafana dashboard of the saga's metrics (docs/observability.md)
to helm/saga-orders/files/grafana/saga-dashboard.json (docs/grafana/ links
to it). Edit the panels here and run it again:

    python3 tools/grafana/dashboard.py

Queries group by the labels the chart's ServiceMonitor adds: `service`
(order, payment, inventory, notification) and `process` (service, sidecar).
"""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "helm/saga-orders/files/grafana/saga-dashboard.json")
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'namespace=~"$namespace"'

# (title, unit, [(expr, legend)], kind) in rows of up to three
PANELS = [
    ("Saga", [
        ("Orders accepted /s", "reqps",
         [('sum(rate(svc_http_requests_total{%s,route="/api/orders",method="POST",status_class="2xx"}[1m]))' % SEL,
           "accepted")], "timeseries"),
        ("Sagas finished /s by outcome", "ops",
         [("sum by (outcome) (rate(saga_completion_seconds_count{%s}[1m]))" % SEL, "{{outcome}}")],
         "timeseries"),
        ("Sagas in flight by state", "short",
         [("sum by (state) (saga_in_flight{%s})" % SEL, "{{state}}")], "timeseries"),
    ]),
    ("Saga latency", [
        ("Create to terminal: p50 / p95 / p99", "s",
         [("histogram_quantile(%s, sum by (le) (rate(saga_completion_seconds_bucket{%s}[5m])))" % (q, SEL),
           "p%s" % q[2:] if len(q) > 3 else "p%s0" % q[2:]) for q in ("0.5", "0.95", "0.99")],
         "timeseries"),
        ("Step latency p95 by step", "s",
         [("histogram_quantile(0.95, sum by (le, step) (rate(saga_step_duration_seconds_bucket{%s}[5m])))" % SEL,
           "{{step}}")], "timeseries"),
        ("HTTP latency p95 by service and route", "s",
         [("histogram_quantile(0.95, sum by (le, service, process, route) "
           "(rate(svc_http_request_duration_seconds_bucket{%s}[5m])))" % SEL,
           "{{service}} {{process}} {{route}}")], "timeseries"),
    ]),
    ("HTTP and events", [
        ("HTTP responses /s by service and status class", "reqps",
         [("sum by (service, process, status_class) (rate(svc_http_requests_total{%s}[1m]))" % SEL,
           "{{service}} {{process}} {{status_class}}")], "timeseries"),
        ("Events /s by service and outcome", "ops",
         [("sum by (service, outcome) (rate(saga_events_total{%s}[1m]))" % SEL,
           "{{service}} {{outcome}}")], "timeseries"),
        ("Events retried or rejected by type (5m)", "short",
         [('sum by (service, type, outcome) (increase(saga_events_total{%s,outcome=~"retry|rejected"}[5m]))' % SEL,
           "{{service}} {{type}} {{outcome}}")], "timeseries"),
    ]),
    ("Messaging", [
        ("Outbox backlog", "short",
         [("sum by (service) (saga_outbox_backlog{%s})" % SEL, "{{service}}")], "timeseries"),
        ("Outbox relayed and failed /s", "ops",
         [("sum by (service) (rate(saga_outbox_relayed_total{%s}[1m]))" % SEL, "{{service}} relayed"),
          ("sum by (service) (rate(saga_outbox_relay_failed_total{%s}[1m]))" % SEL, "{{service}} failed")],
         "timeseries"),
        ("Dead-lettered (5m)", "short",
         [("sum by (service, stage) (increase(saga_dlq_messages_total{%s}[5m]))" % SEL,
           "{{service}} {{stage}}")], "timeseries"),
        ("Consumer lag by service and topic", "short",
         [("sum by (service, topic) (saga_consumer_lag{%s})" % SEL, "{{service}} {{topic}}")],
         "timeseries"),
    ]),
    ("Resilience and resources", [
        ("Circuit breakers (0 closed, 1 half-open, 2 open)", "short",
         [("max by (service, route) (saga_breaker_state{%s})" % SEL, "{{service}} {{route}}")],
         "timeseries"),
        ("DB pool in use", "short",
         [("sum by (service, process) (svc_db_pool_in_use{%s})" % SEL, "{{service}} {{process}} in use"),
          ("sum by (service, process) (svc_db_pool_size{%s})" % SEL, "{{service}} {{process}} size")],
         "timeseries"),
        ("Delivery queue and in flight", "short",
         [("sum by (service) (saga_delivery_queued{%s})" % SEL, "{{service}} queued"),
          ("sum by (service) (saga_delivery_inflight{%s})" % SEL, "{{service}} in flight")],
         "timeseries"),
    ]),
]


def panel(pid, title, unit, targets, kind, x, y, w):
    return {
        "id": pid, "type": kind, "title": title, "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"},
                    "tooltip": {"mode": "multi"}},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DS, "expr": e,
                     "legendFormat": legend} for i, (e, legend) in enumerate(targets)],
    }


def dashboard():
    panels, y, pid = [], 0, 1
    for row_title, row in PANELS:
        panels.append({"id": pid, "type": "row", "title": row_title, "collapsed": False,
                       "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})
        pid, y = pid + 1, y + 1
        w = 24 // len(row)
        for i, (title, unit, targets, kind) in enumerate(row):
            panels.append(panel(pid, title, unit, targets, kind, i * w, y, w))
            pid += 1
        y += 8
    return {
        "title": "Saga orders", "uid": "saga-orders", "tags": ["saga-orders"],
        "schemaVersion": 39, "version": 1, "editable": True, "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"}, "timezone": "utc",
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus",
             "label": "Prometheus", "current": {}},
            {"name": "namespace", "type": "query", "datasource": DS, "label": "Namespace",
             "query": {"query": "label_values(svc_http_requests_total, namespace)",
                       "refId": "namespace"},
             "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
             "current": {}},
        ]},
        "annotations": {"list": []},
        "panels": panels,
    }


if __name__ == "__main__":
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(dashboard(), f, indent=2)
        f.write("\n")
    print(OUT)
