// The Partner API view: the journal of the app's requests (rows open on a
// click and stay open as new requests arrive) and the faults in force.

import { $, act, api, bodyText, el, headerText, instant, latency, later, statusClass, time } from "./lib.js";
import { link } from "./router.js";

// Entries never change once recorded, so their rows are kept and reused;
// they are keyed by id and arrival, as ids restart at 1 after a reset.
const journal = { page: 1, pageSize: 50, entries: [], rows: new Map(), open: new Set(), filtered: false, openID: "", seq: 0, faultSeq: 0 };

export const view = {
  name: "partner-api",
  panel: "#api-view",
  title: "Partner API",
  async show(route) {
    journal.openID = route.parts[1] || "";
    await Promise.all([loadJournal(), loadFaults()]);
  },
  reload: () => Promise.all([loadJournal(), loadFaults()]),
  onEvent(name) {
    if (name === "request") soon();
  },
};

const soon = later(() => view.reload().catch((e) => { $("#status").textContent = e.message; }), 300);

function entryKey(e) { return e.id + "@" + e.realTime; }

async function loadJournal() {
  const q = new URLSearchParams({ page: String(journal.page), pageSize: String(journal.pageSize) });
  journal.filtered = false;
  for (const [k, v] of new FormData($("#r-filters"))) {
    if (v.trim()) { q.set(k, v.trim()); journal.filtered = true; }
  }
  const mine = ++journal.seq;
  const list = await api("GET", "/_mock/requests?" + q);
  if (mine !== journal.seq) return; // a later load is on its way
  const pages = Math.max(1, Math.ceil(list.total / list.pageSize));
  if (journal.page > pages) journal.page = pages; // the journal shrank (a reset)
  journal.entries = list.requests;
  if (journal.openID) {
    // A deep link opens its request (and shows it when it is not on this page).
    let e = journal.entries.find((x) => String(x.id) === journal.openID);
    if (!e) {
      const found = await api("GET", "/_mock/requests?pageSize=100");
      if (mine !== journal.seq) return;
      e = found.requests.find((x) => String(x.id) === journal.openID);
      if (e) journal.entries = [e, ...journal.entries];
    }
    if (e) journal.open.add(entryKey(e));
    journal.openID = "";
  }
  render();
  $("#r-total").textContent = list.total + (list.total === 1 ? " request" : " requests") +
    (pages > 1 ? " · page " + list.page + " of " + pages : "") +
    " · the journal keeps the last " + list.cap + (list.evicted ? " (" + list.evicted + " evicted)" : "");
  $("#r-newer").disabled = journal.page <= 1;
  $("#r-older").disabled = journal.page >= pages;
}

function render() {
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

function toggle(tr) {
  const key = tr.dataset.key;
  if (!journal.open.delete(key)) journal.open.add(key);
  render();
  history.replaceState(null, "", link("partner-api", journal.open.has(key) ? tr.dataset.id : ""));
}

function requestRow(e, key) {
  return el("tr", { class: "req", tabindex: 0, "aria-expanded": "false", data: { id: e.id, key, method: e.method, status: e.status } },
    el("td", { class: "num" }, el("a", { href: link("partner-api", e.id) }, e.id)),
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

// ---- the faults in force ----

async function loadFaults() {
  const mine = ++journal.faultSeq;
  const { faults } = await api("GET", "/_mock/faults");
  if (mine !== journal.faultSeq) return;
  // Rows are updated in place (their Remove buttons stay the same
  // elements), added and dropped as faults come and go.
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

export function wire() {
  $("#r-rows").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr.req");
    if (!tr) return;
    if (ev.target.closest("a")) ev.preventDefault();
    toggle(tr);
  });
  $("#r-rows").addEventListener("keydown", (ev) => {
    const tr = ev.target.closest("tr.req");
    if (!tr || (ev.key !== "Enter" && ev.key !== " ")) return;
    ev.preventDefault();
    toggle(tr);
  });
  const reload = () => view.reload().catch((e) => { $("#status").textContent = e.message; });
  $("#r-filters").addEventListener("change", () => { journal.page = 1; reload(); });
  $("#r-filters").addEventListener("submit", (ev) => { ev.preventDefault(); journal.page = 1; reload(); });
  $("#r-newer").addEventListener("click", () => { journal.page = Math.max(1, journal.page - 1); reload(); });
  $("#r-older").addEventListener("click", () => { journal.page++; reload(); });
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
    }, $("#f-msg")).then(reload);
  });
}
