// The inspector: plain JavaScript modules over the control API, no build
// step. Each view loads what it shows once (a page, which costs the page
// however large the store), then follows GET /_mock/stream: events patch
// the rows they concern, and a burst that would flood the page comes as
// one "lost" notice, on which the view reloads its page.

import { $, act, api, el, setText, time } from "./lib.js";
import { Stream } from "./stream.js";
import { parse } from "./router.js";
import * as deliveries from "./deliveries.js";
import * as log from "./log.js";
import * as sinks from "./sinks.js";
import * as partnerAPI from "./partnerapi.js";
import * as traffic from "./traffic.js";

const views = Object.fromEntries([deliveries, log, sinks, partnerAPI, traffic].map((m) => [m.view.name, m.view]));
const legacy = { "partner-api": "#/partner-api", "traffic": "#/traffic", "deliveries": "#/deliveries" };
let current = views.deliveries;
let clock = { now: "", manual: false, nextDue: null };

// ---- routing ----

async function route() {
  if (legacy[location.hash.slice(1)]) history.replaceState(null, "", legacy[location.hash.slice(1)]);
  const r = parse();
  current = views[r.view] || views.deliveries;
  for (const tab of document.querySelectorAll("#views [data-view]")) tab.setAttribute("aria-selected", String(tab.dataset.view === current.name));
  for (const v of Object.values(views)) $(v.panel).hidden = v !== current;
  document.title = "bullseye-mock · " + current.title;
  $("#status").textContent = "";
  try {
    await current.show(r);
    shown();
  } catch (e) {
    $("#status").textContent = e.message;
  }
}

// shown counts what the page finished showing, for tests to wait on.
function shown() {
  const b = document.body.dataset;
  b.shown = String(Number(b.shown || 0) + 1);
  b.firstShownMs ||= String(Math.round(performance.now()));
}

// ---- the stream ----

function onEvent(name, data) {
  document.body.dataset.events = String(Number(document.body.dataset.events || 0) + 1);
  switch (name) {
    case "hello":
      showClock(data.clock);
      // A stream that starts afresh (not resuming) may have missed what
      // changed while the page loaded: read the view again.
      if (!data.resumed) current.reload().then(shown, showError);
      return;
    case "clock":
      showClock(data);
      break;
    case "reset":
      loadChoices();
      current.reload().then(shown, showError);
      return;
    case "lost":
      // Missed events (a flood, or a long break): reload what is shown.
      current.reload().then(shown, showError);
      return;
    case "delivery":
    case "attempt":
      if (clock.manual) nextDueSoon();
      break;
  }
  current.onEvent(name, data);
}

function showError(e) { $("#status").textContent = e.message; }

const stream = new Stream({
  onEvent,
  onState(state, err) {
    const live = $("#live");
    live.dataset.state = state;
    setText(live, { connecting: "connecting…", live: "● live", offline: "offline" }[state]);
    live.title = err ? err.message : state === "live" ? "updates arrive as they happen (GET /_mock/stream)" : "";
    // After a break the stream resumes from the last event it saw; what
    // the mock no longer holds comes as a lost event, and the view reloads.
  },
});

// ---- the clock and the header's controls ----

function showClock(c) {
  clock = c;
  setText($("#clock"), time(c.now) + (c.manual ? " (manual)" : ""));
  for (const id of ["#advance", "#advance-by", "#advance-go"]) $(id).hidden = !c.manual;
  $("#advance").disabled = !c.nextDue;
  $("#advance").title = c.nextDue ? "move the manual clock to the next scheduled attempt, " + time(c.nextDue) : "nothing is scheduled";
}

// The next due attempt moves with every delivery change; one clock read
// per burst keeps the Advance button right.
let clockTimer = null;
function nextDueSoon() {
  if (clockTimer) return;
  clockTimer = setTimeout(async () => {
    clockTimer = null;
    try { showClock(await api("GET", "/_mock/clock")); } catch (e) { showError(e); }
  }, 200);
}

async function loadChoices() {
  let types = ["visitor.identified"];
  try {
    const doc = await (await fetch("/_mock/openapi.json")).json();
    types = doc.components.schemas.EventRequest.properties.type.enum;
  } catch { /* keep the one type every mock has */ }
  const send = $("#send-type");
  const keep = send.value;
  send.replaceChildren(...types.map((t) => el("option", {}, t)));
  if (keep) send.value = keep;
  try {
    const { partners } = await api("GET", "/_mock/partners");
    deliveries.fillFilterChoices(partners, types);
    log.fillPartners(partners);
  } catch (e) {
    showError(e);
  }
}

function wire() {
  $("#token").value = localStorage.getItem("bullseye-mock-token") || "";
  $("#token").addEventListener("change", () => {
    localStorage.setItem("bullseye-mock-token", $("#token").value);
    stream.start();
    loadChoices();
    route();
  });
  $("#send").addEventListener("click", () => act(async () => {
    const r = await api("POST", "/_mock/events", { type: $("#send-type").value });
    return "sent " + r.deliveryIds.map((id) => id.slice(0, 8)).join(", ");
  }, $("#msg")));
  const advance = (body) => act(async () => {
    const r = await api("POST", "/_mock/clock/advance", body);
    showClock(r);
    return r.moved ? "advanced by " + r.advancedBy : "nothing is scheduled";
  }, $("#msg"));
  $("#advance").addEventListener("click", () => advance({ toNextDue: true }));
  $("#advance-go").addEventListener("click", () => advance({ by: $("#advance-by").value.trim() }));
  $("#advance-by").addEventListener("keydown", (ev) => { if (ev.key === "Enter") advance({ by: $("#advance-by").value.trim() }); });
  $("#views").addEventListener("click", (ev) => {
    const tab = ev.target.closest("[data-view]");
    if (tab) location.hash = "#/" + tab.dataset.view;
  });
  window.addEventListener("hashchange", route);
  deliveries.wire();
  log.wire();
  sinks.wire();
  partnerAPI.wire();
}

// A real clock moves on its own: read it once a second (a manual one moves
// only when told, and the stream says so).
setInterval(async () => {
  if (clock.manual || document.hidden) return;
  try { showClock(await api("GET", "/_mock/clock")); } catch { /* the stream shows the mock is away */ }
}, 1000);

wire();
stream.start();
loadChoices();
route();
