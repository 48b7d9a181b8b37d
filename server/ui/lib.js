// Shared helpers of the inspector: the control API client, element
// building (nothing from the mock is ever read as HTML) and formatting.

export const $ = (sel, root = document) => root.querySelector(sel);

// authHeaders carry the admin token, if one was typed.
export function authHeaders() {
  const headers = {};
  const token = $("#token").value;
  if (token) headers["Authorization"] = "Bearer " + token;
  return headers;
}

// api calls the control API and turns the vendor's error JSON into an
// Error with its message.
export async function api(method, path, body) {
  const headers = authHeaders();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  const data = text ? JSON.parse(text) : {};
  if (!resp.ok) throw new Error(data.message || resp.statusText);
  return data;
}

export async function apiText(path) {
  const resp = await fetch(path, { headers: authHeaders() });
  if (!resp.ok) throw new Error(path + ": " + resp.status);
  return resp.text();
}

// el makes an element: props are attributes ("class", and "data" for the
// dataset), children are nodes or strings, which become text nodes.
export function el(tag, props = {}, ...children) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.setAttribute("class", v);
    else if (k === "data") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false)
    .map((c) => (c instanceof Node ? c : String(c))));
  return node;
}

// setText changes a node's text only when it differs, so a live update
// does not disturb a selection in it.
export function setText(node, text) {
  text = String(text ?? "");
  if (node.textContent !== text) node.textContent = text;
}

export function short(id) { return id ? id.slice(0, 8) : ""; }
export function time(t) { return t ? t.replace("T", " ").replace("Z", "") : ""; }
// instant is a time to the millisecond, enough to tell requests apart.
export function instant(t) { return time(t).replace(/(\.\d{3})\d+/, "$1"); }
export function latency(ms) { return (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)) + " ms"; }
export function offset(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return "+" + s + "s";
  if (s < 3600) return "+" + Math.floor(s / 60) + "m" + (s % 60 ? (s % 60) + "s" : "");
  return "+" + Math.floor(s / 3600) + "h" + (Math.floor(s / 60) % 60) + "m";
}

export function statusClass(status) {
  if (!status) return "closed";
  return status < 300 ? "ok" : status < 500 ? "refused" : "error";
}

export function headerText(headers) {
  return Object.keys(headers || {}).sort().map((k) => k + ": " + [].concat(headers[k]).join(", ")).join("\n");
}

// bodyText is a body for a person: JSON indented, a body that was not
// UTF-8 as base64, and a note when it was cut.
export function bodyText(text, encoding, truncated, bytes) {
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

// shellQuote quotes s for a POSIX shell.
export function shellQuote(s) { return "'" + String(s).replace(/'/g, "'\\''") + "'"; }

// message shows the outcome of an action next to its control.
export async function act(fn, where) {
  try {
    where.textContent = await fn();
    where.classList.remove("error");
  } catch (e) {
    where.textContent = e.message;
    where.classList.add("error");
  }
}

// later runs fn at most once per wait ms, at the end of the wait: many
// events in a row cost one reload.
export function later(fn, wait) {
  let timer = null;
  return () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; fn(); }, wait);
  };
}
