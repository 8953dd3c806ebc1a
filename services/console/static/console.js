/*
 * The saga console's page: polls the console's JSON API (services/console/console.h)
 * every POLL_MS with the admin token the operator gave (the field, or
 * #token=...&order=... in the URL; kept in sessionStorage, so closing the tab forgets
 * it, and taken out of the address bar). Everything from the API is put in the page
 * as text, never as markup.
 */
"use strict";

const POLL_MS = 1500;
const TOKEN_KEY = "saga-console-token";
let token = sessionStorage.getItem(TOKEN_KEY) || "";
let lastDlq = [];
let current = ""; // the order looked up

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function table(headers, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows));
}

function fill(id, ...nodes) { $(id).replaceChildren(...nodes.filter((n) => n !== null && n !== undefined)); }

function fmtRate(v) { return v === null || v === undefined ? "–" : v.toFixed(1); }
function fmtSecs(v) {
  if (v === null || v === undefined) return "–";
  return v < 1 ? (v * 1000).toFixed(0) + " ms" : v.toFixed(2) + " s";
}
function fmtAge(ms) {
  if (ms === null || ms === undefined) return "";
  const s = ms / 1000;
  return s < 120 ? s.toFixed(1) + " s" : (s / 60).toFixed(1) + " min";
}
function state(s) { return el("span", { class: "state " + (s || "") }, s || "–"); }

function setStatus(text, bad) {
  $("status").textContent = text;
  $("status").className = "status" + (bad ? " bad" : "");
}

async function api(path, options) {
  const headers = Object.assign({ Authorization: "Bearer " + token }, (options || {}).headers);
  const res = await fetch(path, Object.assign({}, options, { headers, cache: "no-store" }));
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const detail = body && body.detail ? body.detail : res.statusText;
    const err = new Error(res.status + " " + detail);
    err.status = res.status;
    throw err;
  }
  return body;
}

/* ---- panels ---- */

function renderOverview(doc) {
  const o = doc.orders;
  $("created").textContent = fmtRate(o.createdPerS);
  $("confirmed").textContent = fmtRate(o.confirmedPerS);
  $("cancelled").textContent = fmtRate(o.cancelledPerS);
  $("p50").textContent = fmtSecs(o.p50);
  $("p95").textContent = fmtSecs(o.p95);
  $("p99").textContent = fmtSecs(o.p99);
  $("orders-note").textContent = !o.up ? "the order service's metrics cannot be read"
    : "rates over the last " + (o.rateWindowS || 0).toFixed(0) + " s; percentiles of the " +
      (o.completions || 0) + " sagas finished in the last " + (o.percentileWindowS || 0).toFixed(0) +
      " s. Since the order service started: " + o.createdTotal + " created, " +
      o.confirmedTotal + " confirmed, " + o.cancelledTotal + " cancelled.";
  const rows = [];
  for (const s of doc.sidecars) {
    if (!s.up) {
      rows.push(el("tr", {}, el("td", {}, s.service), el("td", { class: "down" }, "down"), el("td"), el("td")));
      continue;
    }
    const dead = Object.entries(s.deadLettered).map(([k, v]) => k + " " + v).join(", ") || "0";
    const breakers = s.breakers.length ? s.breakers : [{ route: "–", state: "" }];
    breakers.forEach((b, i) => rows.push(el("tr", {},
      el("td", {}, i ? "" : s.service), el("td", {}, b.route),
      el("td", { class: b.state }, b.state), el("td", { class: "num" }, i ? "" : dead))));
  }
  fill("sidecars", table(["sidecar", "breaker", "state", "dead-lettered"], rows));
}

function transitionsTable(list) {
  return table(["at", "from", "to", "step", "event", "topic/partition@offset", "detail"],
    list.map((t) => el("tr", {},
      el("td", { class: "mono" }, t.at), el("td", {}, t.from ? state(t.from) : ""),
      el("td", {}, state(t.to)), el("td", {}, t.step),
      el("td", {}, t.eventType, t.eventId ? el("div", { class: "mono" }, t.eventId) : null),
      el("td", { class: "mono" }, t.topic ? t.topic + "/" + (t.partition ?? "?") + "@" + (t.offset ?? "?") : "–"),
      el("td", {}, t.detail || ""))));
}

function renderSagas(doc) {
  fill("states", ...Object.entries(doc.inFlight).map(([k, v]) =>
    el("div", { class: "tile" }, el("span", { class: "k" }, k), el("span", { class: "v" }, v))));
  if (!doc.oldest.length) {
    fill("oldest", el("p", { class: "note" }, "none: every saga has finished"));
    return;
  }
  const open = new Set([...document.querySelectorAll("#oldest details[open]")].map((d) => d.dataset.id));
  fill("oldest", ...doc.oldest.map((o) => {
    const d = el("details", { class: "saga", "data-id": o.orderId },
      el("summary", {}, state(o.status), " ", el("span", { class: "mono" }, o.orderId),
        " ", o.step, ", ", fmtAge(o.ageMs), " old, user ", o.userId),
      transitionsTable(o.transitions));
    if (open.has(o.orderId)) d.open = true;
    return d;
  }));
}

function renderTopics(doc) {
  if (doc.error) {
    fill("topics", el("p", { class: "error" }, "Kafka: " + doc.error));
    return;
  }
  const rows = [];
  for (const t of doc.topics) {
    t.partitions.forEach((p, i) => {
      const groups = p.groups.map((g) => el("div", {}, g.group + ": ",
        el("span", { class: g.lag > 0 ? "lag" : "" }, "lag " + (g.lag ?? "?")), " (at " + g.committed + ")"));
      rows.push(el("tr", {}, el("td", {}, i ? "" : t.name), el("td", { class: "num" }, p.partition),
        el("td", { class: "num" }, p.start), el("td", { class: "num" }, p.end), el("td", {}, ...groups)));
    });
  }
  fill("topics", table(["topic", "partition", "start", "end", "consumer groups"], rows));
}

async function redrive(service, entry, button) {
  button.disabled = true;
  try {
    await api("/api/console/dlq/" + encodeURIComponent(service) + "/redrive", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ partition: entry.partition, offset: entry.offset }),
    });
    button.textContent = "re-driven";
  } catch (e) {
    button.textContent = "failed: " + e.message;
  }
}

function dlqRows(service, entries) {
  return entries.map((e) => {
    const button = el("button", { class: "redrive" }, "re-drive");
    button.addEventListener("click", () => redrive(service, e, button));
    return el("tr", {}, el("td", {}, service), el("td", { class: "mono" }, e.partition + "@" + e.offset),
      el("td", {}, e.reason || ""),
      el("td", { class: "mono" }, (e.sourceTopic || "?") + "/" + (e.sourcePartition ?? "?") + "@" + (e.sourceOffset ?? "?")),
      el("td", { class: "mono" }, e.orderId || e.key || ""),
      el("td", {}, e.timestamp ? new Date(e.timestamp).toISOString() : ""),
      el("td", {}, e.redriven ? "re-driven" : button));
  });
}

function renderDlq(doc) {
  lastDlq = doc.services;
  const rows = [], problems = [];
  for (const s of doc.services) {
    if (s.error) problems.push(el("p", { class: "error" }, s.service + ": " + s.error));
    else rows.push(...dlqRows(s.service, s.entries.slice().reverse()));
  }
  fill("dlqs", ...problems, rows.length
    ? table(["service", "entry", "reason", "source topic/partition@offset", "saga (orderId)", "at", ""], rows)
    : el("p", { class: "note" }, "no dead letters"));
}

async function lookup(id) {
  current = id;
  if (!id) return;
  try {
    const o = await api("/api/console/orders/" + encodeURIComponent(id));
    const request = table(["created", "user", "idempotency key", "total", "status", "updated", "reason"],
      [el("tr", {}, el("td", { class: "mono" }, o.createdAt), el("td", {}, o.userId),
        el("td", { class: "mono" }, o.idempotencyKey || "–"),
        el("td", { class: "num" }, (o.totalAmount / 100).toFixed(2) + " " + o.currency),
        el("td", {}, state(o.status)), el("td", { class: "mono" }, o.updatedAt),
        el("td", {}, o.cancelReason || ""))]);
    const lines = table(["product", "quantity", "unit price"], o.lines.map((l) =>
      el("tr", {}, el("td", {}, l.productId), el("td", { class: "num" }, l.quantity),
        el("td", { class: "num" }, (l.unitPrice / 100).toFixed(2)))));
    const dead = lastDlq.flatMap((s) => (s.entries || []).filter((e) => e.orderId === o.orderId)
      .map((e) => Object.assign({ service: s.service }, e)));
    fill("journey",
      el("h3", {}, "Order ", el("span", { class: "mono", id: "journey-id" }, o.orderId), " ", state(o.status)),
      el("h3", {}, "The request: POST /api/orders"), request, lines,
      el("h3", {}, "State changes and the events behind them"), transitionsTable(o.transitions),
      dead.length ? el("h3", {}, "Its dead letters") : null,
      dead.length ? table(["service", "entry", "reason", "source"], dead.map((e) => el("tr", {},
        el("td", {}, e.service), el("td", { class: "mono" }, e.partition + "@" + e.offset),
        el("td", {}, e.reason), el("td", { class: "mono" }, e.sourceTopic + "/" + e.sourcePartition + "@" + e.sourceOffset)))) : null);
  } catch (e) {
    fill("journey", el("p", { class: "error" }, "order " + id + ": " + e.message));
  }
}

/* ---- polling ---- */

async function poll() {
  if (!token) {
    setStatus("no token: paste an admin token above", true);
    return;
  }
  const jobs = [
    api("/api/console/overview").then(renderOverview),
    api("/api/console/sagas?limit=10").then(renderSagas),
    api("/api/console/topics").then(renderTopics),
    api("/api/console/dlq?limit=50").then(renderDlq),
  ];
  const results = await Promise.allSettled(jobs);
  const failed = results.filter((r) => r.status === "rejected");
  if (failed.length) setStatus(failed[0].reason.message, true);
  else setStatus("updated " + new Date().toLocaleTimeString(), false);
  if (current) await lookup(current);
}

async function loop() {
  await poll();
  setTimeout(loop, POLL_MS);
}

function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get("token")) {
    token = params.get("token");
    sessionStorage.setItem(TOKEN_KEY, token);
  }
  if (params.get("order")) {
    current = params.get("order");
    $("order-id").value = current;
  }
  if (params.get("token")) {
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
  }
}

$("auth").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  $("token").value = "";
  sessionStorage.setItem(TOKEN_KEY, token);
  poll();
});
$("forget").addEventListener("click", () => {
  token = "";
  sessionStorage.removeItem(TOKEN_KEY);
  setStatus("no token", true);
});
$("lookup-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  lookup($("order-id").value.trim());
});

readFragment();
loop();
