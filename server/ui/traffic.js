// The traffic view: GET /_mock/traffic and the mock's own plot
// (GET /_mock/traffic.svg, so the page and send --plot agree), redrawn as
// attempts finish, at most once a second.

import { $, api, apiText, latency, later } from "./lib.js";

export const view = {
  name: "traffic",
  panel: "#traffic-view",
  title: "traffic",
  show: () => load(),
  reload: () => load(),
  onEvent(name) {
    if (name === "attempt") soon();
  },
};

const soon = later(() => load().catch((e) => { $("#status").textContent = e.message; }), 1000);

let seq = 0;

async function load() {
  const mine = ++seq;
  const [r, svg] = await Promise.all([api("GET", "/_mock/traffic"), apiText("/_mock/traffic.svg")]);
  if (mine !== seq) return; // a later load is on its way
  const rate = (v) => (Math.round(v * 100) / 100) + "/s";
  const counts = (m) => Object.keys(m).sort().map((k) => k + ": " + m[k]).join(", ") || "none";
  $("#t-requests").textContent = r.requests;
  $("#t-success").textContent = (r.success * 100).toFixed(2) + "%";
  $("#t-rate").textContent = rate(r.rate) + (r.targetRate ? " (target " + rate(r.targetRate) + ")" : "");
  $("#t-throughput").textContent = rate(r.throughput);
  $("#t-latency").textContent = [r.latencyMs.p50, r.latencyMs.p90, r.latencyMs.p99].map(latency).join(" / ");
  $("#t-max").textContent = latency(r.latencyMs.max);
  $("#t-late").textContent = r.late.count + (r.late.count ? " (max " + latency(r.late.maxMs) + " behind)" : "");
  $("#t-retries").textContent = r.retries.requests;
  $("#t-codes").textContent = counts(r.statusCodes);
  $("#t-errors").textContent = counts(r.errors);
  const doc = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
  $("#t-plot").replaceChildren(document.importNode(doc, true));
}
