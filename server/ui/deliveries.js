// The deliveries view: the list (filters, paging that costs the page) and
// one delivery (attempts on a time axis, each with its request headers and
// response; the payload; redeliver; copy as curl). Stream events patch the
// rows they concern and the open delivery; nothing the user opened is
// rebuilt, so open panels stay open.

import { $, api, el, headerText, later, offset, setText, shellQuote, short, time } from "./lib.js";
import { go, link } from "./router.js";

const PAGE = 50;
const FILTERS = ["state", "type", "eventType", "partnerId", "organizationId", "url"];
const list = { page: 1, total: 0, rows: new Map(), filters: {}, loading: 0, stale: false, seq: 0 };
let detailSeq = 0;
let selected = "";
const attemptItems = new Map(); // attempt number -> its <li>, for the open delivery

export const view = {
  name: "deliveries",
  panel: "#deliveries-view",
  title: "deliveries",
  async show(route) {
    const filters = {};
    for (const f of FILTERS) if (route.query.get(f)) filters[f] = route.query.get(f);
    list.filters = filters;
    list.page = Number(route.query.get("page")) || 1;
    for (const f of FILTERS) $("#filters").elements[f].value = filters[f] || "";
    const id = route.parts[1] || "";
    if (id !== selected) {
      selected = id;
      attemptItems.clear();
      $("#attempts").replaceChildren();
      $("#d-msg").textContent = "";
      delete $("#d-msg").dataset.newId;
    }
    await Promise.all([loadList(), selected ? loadDetail() : hideDetail()]);
  },
  reload() { return Promise.all([loadList(), selected ? loadDetail() : null]); },
  onEvent(name, data) {
    if (name === "delivery") deliveryChanged(data);
    else if (name === "attempt" && data.deliveryId === selected) detailSoon();
  },
};

const listSoon = later(() => loadList().catch(showError), 300);
const detailSoon = later(() => loadDetail().catch(showError), 150);

function showError(e) { $("#status").textContent = e.message; }

// ---- the list ----

// loadList shows the page. Changes that arrive while it is on its way may
// be in the page or not: the page is read again once, after.
async function loadList() {
  const q = new URLSearchParams({ page: String(list.page), pageSize: String(PAGE), ...list.filters });
  const mine = ++list.seq;
  list.loading++;
  let page;
  try {
    page = await api("GET", "/_mock/deliveries?" + q);
  } finally {
    list.loading--;
  }
  if (list.stale && !list.loading) {
    list.stale = false;
    listSoon();
  }
  if (mine !== list.seq) return; // a later load is on its way: an older answer must not win
  list.total = page.total;
  const rows = new Map();
  const nodes = page.deliveries.map((d) => {
    const tr = list.rows.get(d.id) || row(d.id);
    fillRow(tr, { ...d, attemptCount: d.attempts.length });
    rows.set(d.id, tr);
    return tr;
  });
  list.rows = rows;
  if (!nodes.length) {
    const filtered = Object.keys(list.filters).length > 0;
    nodes.push(el("tr", { class: "empty" }, el("td", { colspan: 5 },
      filtered ? "No delivery matches the filters." : "No deliveries yet: send a test event, or POST /_mock/events.")));
  }
  $("#rows").replaceChildren(...nodes);
  pager();
}

function row(id) {
  return el("tr", { data: { id } },
    el("td", {}, el("a", { href: link("deliveries", id), title: id }, el("code", {}, short(id))), el("small", { class: "dup" })),
    el("td"), el("td", { class: "state" }), el("td", { class: "num" }), el("td"));
}

// fillRow shows a delivery in its row; d is a list item or a stream
// DeliveryChange (both have the fields a row shows).
function fillRow(tr, d) {
  tr.dataset.state = d.state;
  tr.classList.toggle("selected", d.id === selected);
  const [, event, state, attempts, next] = tr.cells;
  const dup = tr.querySelector(".dup");
  setText(dup, d.duplicateOf ? " dup" : "");
  if (d.duplicateOf) dup.title = "duplicate of " + d.duplicateOf;
  setText(event, d.eventType);
  setText(state, d.state);
  state.className = "state " + d.state;
  setText(attempts, d.attemptCount);
  setText(next, time(d.nextAttemptAt));
}

function matches(d) {
  const f = list.filters;
  return (!f.state || f.state === d.state) && (!f.type || f.type === d.type) && (!f.eventType || f.eventType === d.eventType) &&
    (!f.partnerId || f.partnerId === d.partnerId) && (!f.organizationId || f.organizationId === d.organizationId);
}

// deliveryChanged applies a stream event: a shown row is patched in place;
// anything that changes which deliveries the page holds (a new one, one
// leaving the filter) reads the page again, once for a burst. A new row is
// not made from the event: the page read may already count it.
function deliveryChanged(d) {
  if (d.id === selected) detailSoon();
  if (list.loading) {
    list.stale = true;
    return;
  }
  const tr = list.rows.get(d.id);
  if (tr) {
    if (matches(d)) fillRow(tr, d);
    else listSoon();
    return;
  }
  if (matches(d)) listSoon();
}

function pager() {
  const pages = Math.max(1, Math.ceil(list.total / PAGE));
  setText($("#total"), list.total + (list.total === 1 ? " delivery" : " deliveries") + (pages > 1 ? " · page " + list.page + " of " + pages : ""));
  $("#d-newer").disabled = list.page <= 1;
  $("#d-older").disabled = list.page >= pages;
}

function route(page) {
  const q = { ...list.filters };
  if (page > 1) q.page = page;
  return link("deliveries", selected, q);
}

// ---- one delivery ----

function hideDetail() {
  $("#detail").hidden = true;
}

async function loadDetail() {
  const id = selected;
  const mine = ++detailSeq;
  let d;
  try {
    d = await api("GET", "/_mock/deliveries/" + encodeURIComponent(id));
  } catch (e) {
    if (id !== selected || mine !== detailSeq) return;
    $("#detail").hidden = false;
    $("#detail").dataset.id = id;
    setText($("#d-id"), id);
    $("#d-meta").replaceChildren(el("span", { class: "error" }, e.message));
    return;
  }
  if (id !== selected || mine !== detailSeq) return; // another delivery, or a later read, is on its way
  $("#detail").hidden = false;
  $("#detail").dataset.id = d.id;
  $("#detail").dataset.state = d.state;
  setText($("#d-id"), d.id);
  $("#d-meta").replaceChildren(el("span", {},
    el("span", { class: "state " + d.state }, d.state), " · ", d.eventType, " · ", d.type, " webhook · partner ",
    el("code", { title: d.partnerId }, short(d.partnerId)), " · organization ", el("code", { title: d.organizationId }, short(d.organizationId)),
    d.fault ? [" · fault ", el("b", {}, d.fault)] : null,
    d.duplicateOf ? [" · duplicate of ", el("a", { href: link("deliveries", d.duplicateOf) }, el("code", {}, short(d.duplicateOf)))] : null,
    " · policy ", d.policy.delays.join(", ") + ", " + d.policy.attempts + " attempts, timeout " + d.policy.timeout));
  drawTimeline(d);
  renderAttempts(d);
  setText($("#payload"), d.payload ? JSON.stringify(d.payload, null, 2) : d.payloadRaw);
  for (const tr of list.rows.values()) tr.classList.toggle("selected", tr.dataset.id === d.id);
}

// renderAttempts adds the attempts not shown yet and updates the others'
// summary line in place: their panels stay as the user left them.
function renderAttempts(d) {
  const ol = $("#attempts");
  for (const a of d.attempts) {
    let li = attemptItems.get(a.attempt);
    if (!li) {
      li = el("li", { data: { attempt: a.attempt } },
        el("p", { class: "summary" }),
        el("details", { data: { panel: "headers" } }, el("summary", {}, "request headers"), el("pre", { class: "req-headers" })),
        el("details", { data: { panel: "response" } }, el("summary", {}, "response"), el("pre", { class: "resp-body" })),
        el("details", { data: { panel: "curl" } }, el("summary", {}, "copy as curl"), el("pre", { class: "curl" }),
          el("button", { class: "copy", type: "button" }, "Copy")));
      attemptItems.set(a.attempt, li);
      ol.append(li);
    }
    li.dataset.status = a.status;
    const summary = li.querySelector(".summary");
    const text = a.status + " · " + (a.statusCode || "no response") + " · " + time(a.attemptedAt) +
      (a.scheduledAt ? " (due " + time(a.scheduledAt) + ")" : "") + " · " + a.responseTimeMs + " ms · " + a.url +
      (a.error ? " · " + a.error : "");
    if (summary.textContent !== text) {
      summary.replaceChildren(el("b", { class: a.status }, a.status), text.slice(a.status.length));
    }
    setText(li.querySelector(".req-headers"), headerText(a.requestHeaders) || "(no request: " + (a.error || "none sent") + ")");
    setText(li.querySelector(".resp-body"), a.responseExcerpt || (a.statusCode ? "(empty)" : "(no response)"));
    setText(li.querySelector(".curl"), curlOf(d, a));
  }
}

// curlOf is a command that sends what the attempt sent: the same URL,
// headers and bytes (so the same signature), to replay it by hand.
function curlOf(d, a) {
  if (!a.requestHeaders) return "(a canceled attempt sent nothing)";
  const lines = ["curl -sS -X POST " + shellQuote(a.url)];
  for (const k of Object.keys(a.requestHeaders).sort()) {
    if (k === "Content-Length" || k === "Accept-Encoding") continue;
    for (const v of [].concat(a.requestHeaders[k])) lines.push("  -H " + shellQuote(k + ": " + v));
  }
  lines.push("  --data-binary " + shellQuote(d.sentRaw || d.payloadRaw));
  return lines.join(" \\\n");
}

// drawTimeline puts each attempt on a time axis, coloured by outcome, with
// the next scheduled attempt as a hollow circle.
function drawTimeline(d) {
  const points = d.attempts.map((a) => ({ t: Date.parse(a.attemptedAt), label: "#" + a.attempt + " " + (a.statusCode || "—"), cls: a.status }));
  if (d.nextAttemptAt) points.push({ t: Date.parse(d.nextAttemptAt), label: "next", cls: "next" });
  const svg = $("#timeline");
  if (!points.length) { svg.replaceChildren(); return; }
  const t0 = points[0].t;
  // A log axis (from 10 s on): the vendor's schedule, 0, 1m, 6m and 36m,
  // reads as four points a third apart, where a linear one crowds the first
  // two into the left edge.
  const scale = (dt) => Math.log1p(dt / 10000);
  const span = scale(Math.max(points[points.length - 1].t - t0, 60000));
  const x = (t) => (4 + 92 * scale(t - t0) / span).toFixed(2) + "%";
  const colour = { delivered: "#1a7f37", failed: "#c62828", retrying: "#b26a00", canceled: "#777", next: "#0b5cad" };
  svg.replaceChildren(el("svg:line", { x1: "2%", x2: "98%", y1: 45, y2: 45, stroke: "#bbb" }), ...points.map((p) =>
    el("svg:g", { class: "point " + p.cls, "data-offset-ms": p.t - t0 },
      el("svg:circle", { cx: x(p.t), cy: 45, r: 7, fill: p.cls === "next" ? "none" : colour[p.cls] || "#333", stroke: colour[p.cls] || "#333", "stroke-width": 2 }),
      el("svg:text", { x: x(p.t), y: 25, "text-anchor": "middle", "font-size": 12 }, p.label),
      el("svg:text", { x: x(p.t), y: 72, "text-anchor": "middle", "font-size": 11, fill: "#555" }, offset(p.t - t0)))));
}

// ---- controls ----

export function wire() {
  $("#filters").addEventListener("change", () => {
    const q = {};
    for (const f of FILTERS) {
      const v = $("#filters").elements[f].value.trim();
      if (v) q[f] = v;
    }
    go(link("deliveries", selected, q), true);
  });
  $("#filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("#d-newer").addEventListener("click", () => go(route(list.page - 1), true));
  $("#d-older").addEventListener("click", () => go(route(list.page + 1), true));
  $("#rows").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr[data-id]");
    if (!tr || ev.target.closest("a")) return;
    go(link("deliveries", tr.dataset.id, list.filters));
  });
  $("#d-close").addEventListener("click", () => go(link("deliveries", "", list.filters)));
  $("#redeliver").addEventListener("click", async () => {
    const msg = $("#d-msg");
    try {
      const r = await api("POST", "/_mock/deliveries/" + encodeURIComponent(selected) + "/redeliver");
      msg.classList.remove("error");
      msg.dataset.newId = r.deliveryId;
      msg.replaceChildren("redelivered as ", el("a", { href: link("deliveries", r.deliveryId) }, short(r.deliveryId)));
    } catch (e) {
      msg.classList.add("error");
      msg.textContent = e.message;
    }
  });
  $("#attempts").addEventListener("click", async (ev) => {
    const button = ev.target.closest("button.copy");
    if (!button) return;
    const text = button.parentElement.querySelector(".curl").textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      // No clipboard (an insecure origin, or no permission): select the
      // text for Ctrl+C instead.
      getSelection().selectAllChildren(button.parentElement.querySelector(".curl"));
      button.textContent = "Selected: press Ctrl+C";
    }
  });
}

// fillFilterChoices puts the partners and event types in the filters.
export function fillFilterChoices(partners, eventTypes) {
  const f = $("#filters").elements;
  const keep = (sel, options) => {
    sel.replaceChildren(el("option", { value: "" }, "any"), ...options);
    sel.value = list.filters[sel.name] || "";
  };
  keep(f.partnerId, partners.map((p, i) => el("option", { value: p.id }, "partner " + (i + 1) + " · " + short(p.id))));
  keep(f.eventType, eventTypes.map((t) => el("option", {}, t)));
}
