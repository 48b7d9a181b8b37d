// The delivery inspector: plain JavaScript over the control API, no build
// step. It polls once a second (a long-poll per delivery would hold one
// connection per row), which is plenty for a person watching.
"use strict";

const $ = (sel) => document.querySelector(sel);
let selected = "";
let busy = false;

// api calls the control API with the admin token, if one was typed, and
// turns the vendor's error JSON into an Error with its message.
async function api(method, path, body) {
  const headers = {};
  const token = $("#token").value || localStorage.getItem("bullseye-mock-token") || "";
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  const data = text ? JSON.parse(text) : {};
  if (!resp.ok) throw new Error(data.message || resp.statusText);
  return data;
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

async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const q = new URLSearchParams({ pageSize: "100" });
    for (const [k, v] of new FormData($("#filters"))) if (v) q.set(k, v);
    const [list, clock] = await Promise.all([api("GET", "/_mock/deliveries?" + q), api("GET", "/_mock/clock")]);
    $("#clock").textContent = time(clock.now) + (clock.manual ? " (manual)" : "");
    $("#advance").hidden = !clock.manual;
    $("#advance").disabled = !clock.nextDue;
    $("#rows").innerHTML = list.deliveries.map((d) => `
      <tr data-id="${esc(d.id)}" data-state="${esc(d.state)}" class="${d.id === selected ? "selected" : ""}">
        <td><code title="${esc(d.id)}">${esc(short(d.id))}</code>${d.duplicateOf ? ` <small title="duplicate of ${esc(d.duplicateOf)}">dup</small>` : ""}</td>
        <td>${esc(d.eventType)}</td>
        <td class="state ${esc(d.state)}">${esc(d.state)}</td>
        <td>${d.attempts.length}</td>
        <td>${esc(time(d.nextAttemptAt))}</td>
      </tr>`).join("");
    $("#total").textContent = list.total + " deliveries" + (list.total > list.deliveries.length ? " (newest 100 shown)" : "");
    $("#status").textContent = "";
    if (selected) await showDetail(selected);
  } catch (e) {
    $("#status").textContent = e.message;
  } finally {
    busy = false;
  }
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
  $("#attempts").innerHTML = d.attempts.map((a) => `
    <li data-attempt="${a.attempt}" data-status="${esc(a.status)}">
      <b class="${esc(a.status)}">${esc(a.status)}</b> ${a.statusCode || "no response"} · ${esc(time(a.attemptedAt))}
      ${a.scheduledAt ? "(due " + esc(time(a.scheduledAt)) + ")" : ""} · ${a.responseTimeMs} ms · ${esc(a.url)}
      ${a.error ? "<br><i>" + esc(a.error) + "</i>" : ""}
      <details><summary>request headers</summary><pre>${esc(Object.entries(a.requestHeaders || {}).map(([k, v]) => k + ": " + v.join(", ")).join("\n"))}</pre></details>
      <details><summary>response</summary><pre>${esc(a.responseExcerpt)}</pre></details>
    </li>`).join("");
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
  const span = Math.max(points[points.length - 1].t - t0, 60000);
  const x = (t) => 4 + 92 * (t - t0) / span + "%";
  const colour = { delivered: "#1a7f37", failed: "#c62828", retrying: "#b26a00", canceled: "#777", next: "#0b5cad" };
  svg.innerHTML = `<line x1="2%" x2="98%" y1="45" y2="45" stroke="#bbb"/>` + points.map((p) => `
    <g class="point ${esc(p.cls)}">
      <circle cx="${x(p.t)}" cy="45" r="7" fill="${p.cls === "next" ? "none" : colour[p.cls] || "#333"}" stroke="${colour[p.cls] || "#333"}" stroke-width="2"/>
      <text x="${x(p.t)}" y="25" text-anchor="middle" font-size="12">${esc(p.label)}</text>
      <text x="${x(p.t)}" y="72" text-anchor="middle" font-size="11" fill="#555">${offset(p.t - t0)}</text>
    </g>`).join("");
}

async function act(fn, where) {
  try {
    where.textContent = await fn();
    where.style.color = "";
  } catch (e) {
    where.textContent = e.message;
    where.style.color = "#c62828";
  }
  refresh();
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
  refresh();
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

loadEventTypes();
refresh();
setInterval(refresh, 1000);
