// The delivery inspector: plain JavaScript over the control API, no build
// step. It polls once a second (a long-poll per delivery would hold one
// connection per row), which is plenty for a person watching. It has three
// views: the webhook deliveries, the Partner API (the journal of the app's
// requests and the faults in force), and the traffic report with its plot;
// only the one shown is polled.
"use strict";

const $ = (sel) => document.querySelector(sel);
let selected = "";
let busy = false;
let again = false;
let view = "deliveries";
let attemptsHTML = ""; // what #attempts holds, to rebuild it only on a change

// authHeaders carry the admin token, if one was typed.
function authHeaders() {
  const headers = {};
  const token = $("#token").value;
  if (token) headers["Authorization"] = "Bearer " + token;
  return headers;
}

// api calls the control API and turns the vendor's error JSON into an
// Error with its message.
async function api(method, path, body) {
  const headers = authHeaders();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  const data = text ? JSON.parse(text) : {};
  if (!resp.ok) throw new Error(data.message || resp.statusText);
  return data;
}

// el makes an element: props are attributes ("class", and "data" for the
// dataset), children are nodes or strings, which become text nodes, so
// nothing from the mock is ever read as HTML.
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "data") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false)
    .map((c) => (c instanceof Node ? c : String(c))));
  return node;
}

function short(id) { return id ? id.slice(0, 8) : ""; }
function esc(s) { return String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }
function time(t) { return t ? t.replace("T", " ").replace("Z", "") : ""; }
function offset(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return "+" + s + "s";
  if (s < 3600) return "+" + Math.floor(s / 60) + "m" + (s % 60 ? (s % 60) + "s" : "");
  return "+" + Math.floor(s / 3600) + "h" + (Math.floor(s / 60) % 60) + "m";
}

// refresh polls the mock clock and the view shown. A refresh asked for
// soon (after an action) while one is in flight runs when it ends, so the
// page shows the action's effect without waiting for the next tick.
async function refresh(soon) {
  if (busy) {
    if (soon === true) again = true;
    return;
  }
  busy = true;
  try {
    const [clock] = await Promise.all([api("GET", "/_mock/clock"), views[view].refresh()]);
    $("#clock").textContent = time(clock.now) + (clock.manual ? " (manual)" : "");
    $("#advance").hidden = !clock.manual;
    $("#advance").disabled = !clock.nextDue;
    $("#status").textContent = "";
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1); // for tests to wait on
  } catch (e) {
    $("#status").textContent = e.message;
  } finally {
    busy = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

// ---- Deliveries ----

async function refreshDeliveries() {
  const q = new URLSearchParams({ pageSize: "100" });
  for (const [k, v] of new FormData($("#filters"))) if (v) q.set(k, v);
  const list = await api("GET", "/_mock/deliveries?" + q);
  $("#rows").innerHTML = list.deliveries.map((d) => `
    <tr data-id="${esc(d.id)}" data-state="${esc(d.state)}" class="${d.id === selected ? "selected" : ""}">
      <td><code title="${esc(d.id)}">${esc(short(d.id))}</code>${d.duplicateOf ? ` <small title="duplicate of ${esc(d.duplicateOf)}">dup</small>` : ""}</td>
      <td>${esc(d.eventType)}</td>
      <td class="state ${esc(d.state)}">${esc(d.state)}</td>
      <td>${d.attempts.length}</td>
      <td>${esc(time(d.nextAttemptAt))}</td>
    </tr>`).join("");
  $("#total").textContent = list.total + " deliveries" + (list.total > list.deliveries.length ? " (newest 100 shown)" : "");
  if (selected) await showDetail(selected);
}

async function showDetail(id) {
  const d = await api("GET", "/_mock/deliveries/" + encodeURIComponent(id));
  $("#detail").hidden = false;
  $("#detail").dataset.id = d.id;
  $("#d-id").textContent = d.id;
  $("#d-meta").innerHTML = `<span class="state ${esc(d.state)}">${esc(d.state)}</span> · ${esc(d.eventType)} · ${esc(d.type)}
    webhook · organization <code>${esc(short(d.organizationId))}</code>${d.fault ? " · fault <b>" + esc(d.fault) + "</b>" : ""}
    ${d.duplicateOf ? " · duplicate of <code>" + esc(short(d.duplicateOf)) + "</code>" : ""}`;
  drawTimeline(d);
  // The list is rebuilt only when an attempt changed, and the panels the
  // user opened stay open when it is: a refresh never closes them.
  const list = $("#attempts");
  const html = d.attempts.map((a) => `
    <li data-attempt="${a.attempt}" data-status="${esc(a.status)}">
      <b class="${esc(a.status)}">${esc(a.status)}</b> ${a.statusCode || "no response"} · ${esc(time(a.attemptedAt))}
      ${a.scheduledAt ? "(due " + esc(time(a.scheduledAt)) + ")" : ""} · ${a.responseTimeMs} ms · ${esc(a.url)}
      ${a.error ? "<br><i>" + esc(a.error) + "</i>" : ""}
      <details data-key="${esc(d.id)}/${a.attempt}/headers"><summary>request headers</summary><pre>${esc(Object.entries(a.requestHeaders || {}).map(([k, v]) => k + ": " + v.join(", ")).join("\n"))}</pre></details>
      <details data-key="${esc(d.id)}/${a.attempt}/response"><summary>response</summary><pre>${esc(a.responseExcerpt)}</pre></details>
    </li>`).join("");
  if (html !== attemptsHTML) {
    const open = new Set([...list.querySelectorAll("details[open]")].map((e) => e.dataset.key));
    list.innerHTML = attemptsHTML = html;
    for (const e of list.querySelectorAll("details")) e.open = open.has(e.dataset.key);
  }
  $("#payload").textContent = d.payload ? JSON.stringify(d.payload, null, 2) : d.payloadRaw;
}

// drawTimeline puts each attempt on a time axis, coloured by outcome, with
// the next scheduled attempt as a hollow circle.
function drawTimeline(d) {
  const points = d.attempts.map((a) => ({ t: Date.parse(a.attemptedAt), label: "#" + a.attempt + " " + (a.statusCode || "—"), cls: a.status }));
  if (d.nextAttemptAt) points.push({ t: Date.parse(d.nextAttemptAt), label: "next", cls: "next" });
  const svg = $("#timeline");
  if (!points.length) { svg.innerHTML = ""; return; }
  const t0 = points[0].t;
  // A log axis (from 10 s on): the vendor's schedule, 0, 1m, 6m and 36m,
  // reads as four points a third apart, where a linear one crowds the first
  // two into the left edge.
  const scale = (dt) => Math.log1p(dt / 10000);
  const span = scale(Math.max(points[points.length - 1].t - t0, 60000));
  const x = (t) => (4 + 92 * scale(t - t0) / span).toFixed(2) + "%";
  const colour = { delivered: "#1a7f37", failed: "#c62828", retrying: "#b26a00", canceled: "#777", next: "#0b5cad" };
  svg.innerHTML = `<line x1="2%" x2="98%" y1="45" y2="45" stroke="#bbb"/>` + points.map((p) => `
    <g class="point ${esc(p.cls)}" data-offset-ms="${p.t - t0}">
      <circle cx="${x(p.t)}" cy="45" r="7" fill="${p.cls === "next" ? "none" : colour[p.cls] || "#333"}" stroke="${colour[p.cls] || "#333"}" stroke-width="2"/>
      <text x="${x(p.t)}" y="25" text-anchor="middle" font-size="12">${esc(p.label)}</text>
      <text x="${x(p.t)}" y="72" text-anchor="middle" font-size="11" fill="#555">${offset(p.t - t0)}</text>
    </g>`).join("");
}

// ---- Partner API: the journal of the app's requests ----

// journal is the journal view's state. Entries never change once recorded,
// so their rows are kept and reused from one refresh to the next (an open
// row keeps its scroll and selection); they are keyed by id and arrival,
// as ids restart at 1 after a reset. open holds the keys of expanded rows.
const journal = { page: 1, pageSize: 50, entries: [], rows: new Map(), open: new Set(), filtered: false };

function entryKey(e) { return e.id + "@" + e.realTime; }

async function refreshJournal() {
  const q = new URLSearchParams({ page: String(journal.page), pageSize: String(journal.pageSize) });
  journal.filtered = false;
  for (const [k, v] of new FormData($("#r-filters"))) {
    if (v.trim()) { q.set(k, v.trim()); journal.filtered = true; }
  }
  const list = await api("GET", "/_mock/requests?" + q);
  const pages = Math.max(1, Math.ceil(list.total / list.pageSize));
  if (journal.page > pages) journal.page = pages; // the journal shrank (a reset): the next tick shows the last page
  journal.entries = list.requests;
  renderJournal();
  $("#r-total").textContent = list.total + (list.total === 1 ? " request" : " requests") +
    (pages > 1 ? " · page " + list.page + " of " + pages : "") +
    " · the journal keeps the last " + list.cap + (list.evicted ? " (" + list.evicted + " evicted)" : "");
  $("#r-newer").disabled = journal.page <= 1;
  $("#r-older").disabled = journal.page >= pages;
}

// renderJournal puts the current page's rows in the table, each open one
// followed by its detail row, reusing the rows it already made.
function renderJournal() {
  const rows = new Map();
  const nodes = [];
  for (const e of journal.entries) {
    const key = entryKey(e);
    const r = journal.rows.get(key) || { row: requestRow(e, key), detail: null };
    rows.set(key, r);
    const open = journal.open.has(key);
    r.row.classList.toggle("selected", open);
    r.row.setAttribute("aria-expanded", String(open));
    nodes.push(r.row);
    if (open) {
      r.detail ||= requestDetail(e);
      nodes.push(r.detail);
    }
  }
  journal.rows = rows;
  if (!nodes.length) {
    nodes.push(el("tr", { class: "empty" }, el("td", { colspan: 7 },
      journal.filtered ? "No request matches the filters." : "No Partner API requests yet.")));
  }
  $("#r-rows").replaceChildren(...nodes);
}

function toggleRequest(key) {
  if (!journal.open.delete(key)) journal.open.add(key);
  renderJournal();
}

function statusClass(status) {
  if (!status) return "closed";
  return status < 300 ? "ok" : status < 500 ? "refused" : "error";
}

// instant is a journal time to the millisecond, enough to tell requests apart.
function instant(t) { return time(t).replace(/(\.\d{3})\d+/, "$1"); }

function latency(ms) { return (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)) + " ms"; }

function requestRow(e, key) {
  return el("tr", { class: "req", tabindex: 0, "aria-expanded": "false", data: { id: e.id, key, method: e.method, status: e.status } },
    el("td", { class: "num" }, e.id),
    el("td", { title: "mock time " + time(e.time) + "; real time " + time(e.realTime) }, instant(e.time)),
    el("td", { class: "method" }, e.method),
    el("td", {}, el("code", {}, e.path + (e.query ? "?" + e.query : ""))),
    el("td", { class: "status " + statusClass(e.status) }, e.status || "closed"),
    el("td", { class: "num" }, latency(e.latencyMs)),
    el("td", { class: "fault" }, e.fault ? el("code", {}, e.fault) : ""));
}

function requestDetail(e) {
  const meta = [
    e.partnerId ? "partner " + e.partnerId : "no valid key",
    "real time " + time(e.realTime),
    e.bodyBytes + " bytes received",
    e.status ? e.responseBytes + " bytes answered" : "connection closed by fault " + (e.fault || ""),
  ];
  return el("tr", { class: "expand", data: { for: e.id } }, el("td", { colspan: 7 },
    el("p", { class: "meta" }, meta.join(" · ")),
    el("h4", {}, "Request headers"),
    el("pre", { class: "req-headers" }, headerText(e.headers)),
    el("h4", {}, "Request body"),
    el("pre", { class: "req-body" }, bodyText(e.body, e.bodyEncoding, e.bodyTruncated, e.bodyBytes)),
    el("h4", {}, e.status ? "Response " + e.status : "No response"),
    el("pre", { class: "resp-body" }, e.status ? bodyText(e.response, "", e.responseTruncated, e.responseBytes) : "(the connection was closed)")));
}

function headerText(headers) {
  return Object.keys(headers || {}).sort().map((k) => k + ": " + headers[k].join(", ")).join("\n");
}

// bodyText is a journaled body for a person: JSON indented, a body that
// was not UTF-8 as the journal's base64, and a note when it was cut.
function bodyText(text, encoding, truncated, bytes) {
  let out = text || "";
  if (encoding === "base64") out = "(not UTF-8; base64)\n" + out;
  else if (!truncated) out = indentJSON(out);
  if (truncated) out += "\n… cut: " + bytes + " bytes in all";
  return out || "(empty)";
}

// indentJSON indents text that is JSON, and returns any other text as it
// is. It re-spaces the text rather than printing what JSON.parse made, so
// numbers too long for a double are shown as they were sent.
function indentJSON(text) {
  try { JSON.parse(text); } catch { return text; }
  let out = "", depth = 0, inString = false, pending = false;
  const newline = () => "\n" + "  ".repeat(depth);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i];
      else if (c === '"') inString = false;
      continue;
    }
    if (" \t\r\n".includes(c)) continue;
    if (c === "}" || c === "]") {
      depth--;
      out += pending ? c : newline() + c; // an empty object or array stays {} or []
      pending = false;
      continue;
    }
    if (pending) { out += newline(); pending = false; }
    if (c === "{" || c === "[") { depth++; out += c; pending = true; }
    else if (c === ",") out += "," + newline();
    else if (c === ":") out += ": ";
    else { out += c; inString = c === '"'; }
  }
  return out;
}

// ---- Partner API: the faults in force ----

async function refreshFaults() {
  const { faults } = await api("GET", "/_mock/faults");
  renderFaults(faults);
}

// renderFaults updates the faults' rows in place (their Remove buttons
// stay the same elements), adding and dropping rows as faults come and go.
function renderFaults(faults) {
  const old = new Map([...$("#f-rows").children].map((tr) => [tr.dataset.id, tr]));
  $("#f-rows").replaceChildren(...faults.map((f) => {
    const tr = old.get(f.id) || faultRow(f.id);
    fillFault(tr, f);
    return tr;
  }));
  $("#f-table").hidden = !faults.length;
  $("#f-empty").hidden = faults.length > 0;
}

const faultColumns = 9; // before the Remove button's

function faultRow(id) {
  const cells = Array.from({ length: faultColumns }, () => el("td"));
  return el("tr", { data: { id } }, cells, el("td", {}, el("button", { class: "remove", data: { remove: id } }, "Remove")));
}

function fillFault(tr, f) {
  const values = [
    f.id, f.method || "any", f.path, f.partnerId || "any", faultEffect(f),
    f.times || "until removed", f.share ? Math.round(f.share * 1000) / 10 + "%" : "all",
    f.fired + " / " + f.matched, f.spent ? "spent" : "in force",
  ];
  values.forEach((v, i) => {
    if (tr.cells[i].textContent !== String(v)) tr.cells[i].textContent = v;
  });
  tr.cells[8].className = f.spent ? "spent" : "active";
  tr.dataset.spent = String(f.spent);
}

// faultEffect says what a fault does to the requests it fires on.
function faultEffect(f) {
  const parts = [];
  if (f.latency) parts.push("wait " + f.latency);
  if (f.close) parts.push("close the connection");
  else if (f.status) parts.push("answer " + f.status + (f.retryAfter ? ", Retry-After " + f.retryAfter + "s" : "") + (f.message ? ": " + f.message : ""));
  else parts.push("answer normally");
  return parts.join(", then ");
}

async function refreshPartnerAPI() {
  await Promise.all([refreshJournal(), refreshFaults()]);
}

// ---- Traffic ----

// refreshTraffic shows GET /_mock/traffic and its plot, drawn by the mock
// itself (GET /_mock/traffic.svg), so the page and send --plot agree.
async function refreshTraffic() {
  const [r, svg] = await Promise.all([api("GET", "/_mock/traffic"), apiText("/_mock/traffic.svg")]);
  const ms = (v) => latency(v);
  const rate = (v) => (Math.round(v * 100) / 100) + "/s";
  const counts = (m) => Object.keys(m).sort().map((k) => k + ": " + m[k]).join(", ") || "none";
  $("#t-requests").textContent = r.requests;
  $("#t-success").textContent = (r.success * 100).toFixed(2) + "%";
  $("#t-rate").textContent = rate(r.rate) + (r.targetRate ? " (target " + rate(r.targetRate) + ")" : "");
  $("#t-throughput").textContent = rate(r.throughput);
  $("#t-latency").textContent = [r.latencyMs.p50, r.latencyMs.p90, r.latencyMs.p99].map(ms).join(" / ");
  $("#t-max").textContent = ms(r.latencyMs.max);
  $("#t-late").textContent = r.late.count + (r.late.count ? " (max " + ms(r.late.maxMs) + " behind)" : "");
  $("#t-retries").textContent = r.retries.requests;
  $("#t-codes").textContent = counts(r.statusCodes);
  $("#t-errors").textContent = counts(r.errors);
  const doc = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
  $("#t-plot").replaceChildren(document.importNode(doc, true));
}

async function apiText(path) {
  const resp = await fetch(path, { headers: authHeaders() });
  if (!resp.ok) throw new Error(path + ": " + resp.status);
  return resp.text();
}

// ---- Views, actions and start ----

const views = {
  "deliveries": { panel: "#deliveries-view", title: "deliveries", refresh: () => refreshDeliveries() },
  "partner-api": { panel: "#api-view", title: "Partner API", refresh: () => refreshPartnerAPI() },
  "traffic": { panel: "#traffic-view", title: "traffic", refresh: () => refreshTraffic() },
};

function showView(name) {
  view = views[name] ? name : "deliveries";
  for (const tab of document.querySelectorAll("#views [data-view]")) tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  for (const [name, v] of Object.entries(views)) $(v.panel).hidden = name !== view;
  document.title = "bullseye-mock · " + views[view].title;
  $("#status").textContent = "";
}

async function act(fn, where) {
  try {
    where.textContent = await fn();
    where.style.color = "";
  } catch (e) {
    where.textContent = e.message;
    where.style.color = "#c62828";
  }
  refresh(true);
}

async function loadEventTypes() {
  try {
    const doc = await (await fetch("/_mock/openapi.json")).json();
    const types = doc.components.schemas.EventRequest.properties.type.enum;
    $("#send-type").innerHTML = types.map((t) => `<option>${esc(t)}</option>`).join("");
  } catch (e) {
    $("#send-type").innerHTML = "<option>visitor.identified</option>";
  }
}

$("#rows").addEventListener("click", (ev) => {
  const row = ev.target.closest("tr[data-id]");
  if (!row) return;
  selected = row.dataset.id;
  $("#d-msg").textContent = "";
  refresh(true);
});
$("#filters").addEventListener("change", refresh);
$("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); refresh(); });
$("#token").addEventListener("change", () => { localStorage.setItem("bullseye-mock-token", $("#token").value); refresh(); });
$("#redeliver").addEventListener("click", () => act(async () => {
  const r = await api("POST", "/_mock/deliveries/" + encodeURIComponent(selected) + "/redeliver");
  $("#d-msg").dataset.newId = r.deliveryId;
  return "redelivered as " + short(r.deliveryId);
}, $("#d-msg")));
$("#send").addEventListener("click", () => act(async () => {
  const r = await api("POST", "/_mock/events", { type: $("#send-type").value });
  return "sent " + r.deliveryIds.map(short).join(", ");
}, $("#msg")));
$("#advance").addEventListener("click", () => act(async () => {
  const r = await api("POST", "/_mock/clock/advance", { toNextDue: true });
  return "advanced by " + r.advancedBy;
}, $("#msg")));

$("#views").addEventListener("click", (ev) => {
  const tab = ev.target.closest("[data-view]");
  if (!tab) return;
  history.replaceState(null, "", tab.dataset.view === "deliveries" ? location.pathname + location.search : "#" + tab.dataset.view);
  showView(tab.dataset.view);
  refresh(true);
});
window.addEventListener("hashchange", () => { showView(location.hash.slice(1)); refresh(true); });
$("#r-rows").addEventListener("click", (ev) => {
  const row = ev.target.closest("tr.req");
  if (row) toggleRequest(row.dataset.key);
});
$("#r-rows").addEventListener("keydown", (ev) => {
  const row = ev.target.closest("tr.req");
  if (!row || (ev.key !== "Enter" && ev.key !== " ")) return;
  ev.preventDefault();
  toggleRequest(row.dataset.key);
});
$("#r-filters").addEventListener("change", () => { journal.page = 1; refresh(true); });
$("#r-filters").addEventListener("submit", (ev) => { ev.preventDefault(); journal.page = 1; refresh(true); });
$("#r-newer").addEventListener("click", () => { journal.page = Math.max(1, journal.page - 1); refresh(true); });
$("#r-older").addEventListener("click", () => { journal.page++; refresh(true); });
$("#f-rows").addEventListener("click", (ev) => {
  const button = ev.target.closest("button[data-remove]");
  if (!button) return;
  const id = button.dataset.remove;
  button.disabled = true;
  act(async () => {
    try {
      await api("DELETE", "/_mock/faults/" + encodeURIComponent(id));
    } finally {
      button.disabled = false;
    }
    return "removed " + id;
  }, $("#f-msg"));
});

showView(location.hash.slice(1));
loadEventTypes();
refresh();
setInterval(refresh, 1000);
