// The attempt log as the vendor's GET /partner/webhooks/logs returns it
// (read through GET /_mock/logs, which journals nothing), for one partner
// or all; new attempts reload the first page, once per burst.

import { $, api, el, later, setText, short, time } from "./lib.js";
import { go, link } from "./router.js";

const PAGE = 50;
const FILTERS = ["partnerId", "type", "status", "organizationId"];
const state = { page: 1, filters: {}, rows: new Map(), seq: 0 };

export const view = {
  name: "log",
  panel: "#log-view",
  title: "attempt log",
  async show(route) {
    state.filters = {};
    for (const f of FILTERS) if (route.query.get(f)) state.filters[f] = route.query.get(f);
    state.page = Number(route.query.get("page")) || 1;
    for (const f of FILTERS) $("#l-filters").elements[f].value = state.filters[f] || "";
    await load();
  },
  reload: () => load(),
  onEvent(name, data) {
    if (name !== "attempt" || state.page !== 1) return;
    const f = state.filters;
    if ((!f.partnerId || !data.partnerId || f.partnerId === data.partnerId) && (!f.type || f.type === data.type) &&
        (!f.status || f.status === data.status) && (!f.organizationId || f.organizationId === data.organizationId)) soon();
  },
};

const soon = later(() => load().catch((e) => { $("#status").textContent = e.message; }), 300);

async function load() {
  const q = new URLSearchParams({ page: String(state.page), pageSize: String(PAGE), ...state.filters });
  const mine = ++state.seq;
  const page = await api("GET", "/_mock/logs?" + q);
  if (mine !== state.seq) return; // a later load is on its way
  const rows = new Map();
  const nodes = page.logs.map((e) => {
    const tr = state.rows.get(e.id) || row(e);
    fill(tr, e);
    rows.set(e.id, tr);
    return tr;
  });
  state.rows = rows;
  if (!nodes.length) nodes.push(el("tr", { class: "empty" }, el("td", { colspan: 9 }, "No attempts logged yet.")));
  $("#l-rows").replaceChildren(...nodes);
  setText($("#l-json"), JSON.stringify(page, null, 2));
  const pages = Math.max(1, Math.ceil(page.total / PAGE));
  setText($("#l-total"), page.total + (page.total === 1 ? " entry" : " entries") + (pages > 1 ? " · page " + page.page + " of " + pages : ""));
  $("#l-newer").disabled = state.page <= 1;
  $("#l-older").disabled = state.page >= pages;
}

function row(e) {
  return el("tr", { data: { id: e.id } }, el("td"), el("td"), el("td"), el("td", { class: "status" }), el("td", { class: "num" }),
    el("td", { class: "num" }), el("td", {}, el("a", { href: link("deliveries", e.deliveryId), title: e.deliveryId }, el("code", {}, short(e.deliveryId)))),
    el("td", { class: "num" }), el("td", { class: "note" }));
}

function fill(tr, e) {
  tr.dataset.status = e.status;
  const c = tr.cells;
  setText(c[0], time(e.attemptedAt));
  setText(c[1], e.type);
  setText(c[2], e.eventType);
  setText(c[3], e.status);
  c[3].className = "status " + e.status;
  setText(c[4], e.statusCode || "—");
  setText(c[5], e.responseTimeMs + " ms");
  setText(c[7], e.attempt);
  setText(c[8], (e.error || "") + (e.nextAttemptAt ? (e.error ? " · " : "") + "next " + time(e.nextAttemptAt) : ""));
}

export function wire() {
  const route = (page) => link("log", "", { ...state.filters, page: page > 1 ? page : "" });
  $("#l-filters").addEventListener("change", () => {
    const q = {};
    for (const f of FILTERS) {
      const v = $("#l-filters").elements[f].value.trim();
      if (v) q[f] = v;
    }
    go(link("log", "", q), true);
  });
  $("#l-filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("#l-newer").addEventListener("click", () => go(route(state.page - 1), true));
  $("#l-older").addEventListener("click", () => go(route(state.page + 1), true));
}

export function fillPartners(partners) {
  const sel = $("#l-filters").elements.partnerId;
  sel.replaceChildren(el("option", { value: "" }, "all partners"),
    ...partners.map((p, i) => el("option", { value: p.id }, "partner " + (i + 1) + " · " + short(p.id))));
  sel.value = state.filters.partnerId || "";
}
