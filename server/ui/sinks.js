// The sinks view: every sink with what it is set to answer, and the
// requests the open one received, newest first, each with the signature
// verdict and, opened, its headers and body. A request opened stays open
// while new ones arrive.

import { $, api, bodyText, el, headerText, later, setText, short, time } from "./lib.js";
import { go, link } from "./router.js";

const PAGE = 50;
const state = { name: "", open: new Set(), rows: new Map(), sinks: new Map(), seq: { sinks: 0, requests: 0 } };

export const view = {
  name: "sinks",
  panel: "#sinks-view",
  title: "sinks",
  async show(route) {
    const name = route.parts[1] || "";
    if (name !== state.name) {
      state.name = name;
      state.open.clear();
      state.rows.clear();
    }
    if (route.parts[2]) state.open.add(Number(route.parts[2]));
    await Promise.all([loadSinks(), loadRequests()]);
  },
  reload: () => Promise.all([loadSinks(), loadRequests()]),
  onEvent(name, data) {
    if (name !== "sink") return;
    const tr = state.sinks.get(data.sink);
    if (tr) setText(tr.cells[1], Number(tr.cells[1].textContent) + 1);
    else sinksSoon();
    if (data.sink === state.name) requestsSoon();
  },
};

const sinksSoon = later(() => loadSinks().catch(showError), 300);
const requestsSoon = later(() => loadRequests().catch(showError), 200);
function showError(e) { $("#status").textContent = e.message; }

async function loadSinks() {
  const mine = ++state.seq.sinks;
  const { sinks } = await api("GET", "/_mock/sink");
  if (mine !== state.seq.sinks) return; // a later load is on its way
  const rows = new Map();
  const nodes = sinks.map((s) => {
    const tr = state.sinks.get(s.name) || el("tr", { data: { name: s.name } },
      el("td", {}, el("a", { href: link("sinks", s.name) }, s.name)), el("td", { class: "num" }), el("td"), el("td"));
    setText(tr.cells[1], s.received);
    setText(tr.cells[2], answers(s));
    setText(tr.cells[3], s.hasSecret ? (s.rejectInvalidSignatures ? "checks, rejects bad ones (401)" : "checks") : "webhook's secret");
    tr.classList.toggle("selected", s.name === state.name);
    rows.set(s.name, tr);
    return tr;
  });
  state.sinks = rows;
  if (!nodes.length) nodes.push(el("tr", { class: "empty" }, el("td", { colspan: 4 }, "No sinks yet: point a webhook at /_mock/sink/NAME.")));
  $("#s-rows").replaceChildren(...nodes);
}

// answers says what a sink answers, in a few words.
function answers(s) {
  const parts = [s.statuses && s.statuses.length ? s.statuses.join(", ") + (s.statuses.length > 1 ? " then the last" : "") : "200"];
  if (s.failureRate) parts.push(Math.round(s.failureRate * 100) + "% " + s.failureStatus);
  if (s.delay !== "0s" || s.delayMax) parts.push("after " + s.delay + (s.delayMax ? "–" + s.delayMax : ""));
  return parts.join(" · ");
}

async function loadRequests() {
  $("#s-detail").hidden = !state.name;
  if (!state.name) return;
  setText($("#s-name"), state.name);
  const mine = ++state.seq.requests, name = state.name;
  // The sink keeps requests oldest first: the newest are on its last page.
  const first = await api("GET", "/_mock/sink/" + encodeURIComponent(state.name) + "/requests?pageSize=1");
  const last = Math.max(1, Math.ceil(first.total / PAGE));
  const page = await api("GET", "/_mock/sink/" + encodeURIComponent(state.name) + "/requests?pageSize=" + PAGE + "&page=" + last);
  const reqs = page.requests.slice().reverse();
  if (last > 1 && reqs.length < PAGE) {
    const before = await api("GET", "/_mock/sink/" + encodeURIComponent(state.name) + "/requests?pageSize=" + PAGE + "&page=" + (last - 1));
    reqs.push(...before.requests.slice().reverse().slice(0, PAGE - reqs.length));
  }
  if (mine !== state.seq.requests || name !== state.name) return; // a later load is on its way
  const rows = new Map();
  const nodes = [];
  for (const r of reqs) {
    const entry = state.rows.get(r.seq) || { row: requestRow(r), detail: null };
    rows.set(r.seq, entry);
    const open = state.open.has(r.seq);
    entry.row.classList.toggle("selected", open);
    entry.row.setAttribute("aria-expanded", String(open));
    nodes.push(entry.row);
    if (open) {
      entry.detail ||= requestDetail(r);
      nodes.push(entry.detail);
    }
  }
  state.rows = rows;
  if (!nodes.length) nodes.push(el("tr", { class: "empty" }, el("td", { colspan: 6 }, "This sink has received nothing yet.")));
  const missing = [...state.open].filter((seq) => !rows.has(seq));
  if (missing.length) {
    nodes.unshift(el("tr", { class: "empty" }, el("td", { colspan: 6 },
      "Request " + missing.join(", ") + " is not among the newest " + PAGE + " this page shows (or the sink no longer keeps it).")));
  }
  $("#sr-rows").replaceChildren(...nodes);
  setText($("#s-total"), page.received + " received · " + page.total + " kept" + (page.evicted ? " · " + page.evicted + " evicted" : "") +
    (page.total > PAGE ? " · the newest " + PAGE + " shown" : ""));
}

function requestRow(r) {
  return el("tr", { class: "req", tabindex: 0, data: { seq: r.seq, signature: r.signature, status: r.status } },
    el("td", { class: "num" }, r.seq),
    el("td", {}, time(r.receivedAt)),
    el("td", {}, r.deliveryId ? el("a", { href: link("deliveries", r.deliveryId), title: r.deliveryId }, el("code", {}, short(r.deliveryId))) : "—"),
    el("td", { class: "num" }, r.attempt || ""),
    el("td", { class: "sig " + r.signature, title: r.signatureError || "" }, r.signature + (r.signatureError ? ": " + r.signatureError : "")),
    el("td", { class: "num" }, r.status));
}

function requestDetail(r) {
  return el("tr", { class: "expand", data: { for: r.seq } }, el("td", { colspan: 6 },
    el("p", { class: "meta" }, r.method + " · signature " + r.signature + (r.secretFrom ? " (checked with the " + r.secretFrom + "'s secret)" : "") +
      " · answered " + r.status),
    el("h4", {}, "Headers"), el("pre", { class: "req-headers" }, headerText(r.headers)),
    el("h4", {}, "Body"), el("pre", { class: "req-body" }, bodyText(r.bodyRaw))));
}

export function wire() {
  const toggle = (tr) => {
    const seq = Number(tr.dataset.seq);
    if (!state.open.delete(seq)) state.open.add(seq);
    // The link names the request opened last; the rows re-render here.
    history.replaceState(null, "", link("sinks", state.open.has(seq) ? [state.name, seq] : state.name));
    loadRequests().catch(showError);
  };
  $("#sr-rows").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr.req");
    if (tr && !ev.target.closest("a")) toggle(tr);
  });
  $("#sr-rows").addEventListener("keydown", (ev) => {
    const tr = ev.target.closest("tr.req");
    if (!tr || (ev.key !== "Enter" && ev.key !== " ")) return;
    ev.preventDefault();
    toggle(tr);
  });
  $("#s-rows").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr[data-name]");
    if (tr && !ev.target.closest("a")) go(link("sinks", tr.dataset.name));
  });
}
