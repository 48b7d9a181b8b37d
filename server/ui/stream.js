// The page's one connection for updates: GET /_mock/stream read with
// fetch (EventSource cannot send the admin token), parsed as Server-Sent
// Events, reconnected with Last-Event-ID after a break, so nothing is
// missed that the mock still holds; when it does not hold it any more, the
// stream says "lost" and the views reload.

import { authHeaders } from "./lib.js";

export class Stream {
  // onEvent(name, data) gets every event; onState(state) gets "connecting",
  // "live" or "offline" (with the error).
  constructor({ onEvent, onState, coalesce = "250ms" }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.coalesce = coalesce;
    this.lastId = null;
    this.retryMs = 2000;
    this.abort = null;
  }

  start() {
    this.stop();
    this.abort = new AbortController();
    this.run(this.abort.signal);
  }

  stop() {
    if (this.abort) this.abort.abort();
    this.abort = null;
  }

  async run(signal) {
    while (!signal.aborted) {
      this.onState("connecting");
      try {
        const headers = authHeaders();
        if (this.lastId !== null) headers["Last-Event-ID"] = this.lastId;
        const resp = await fetch("/_mock/stream?coalesce=" + encodeURIComponent(this.coalesce), { headers, signal, cache: "no-store" });
        if (!resp.ok) {
          let msg = resp.statusText;
          try { msg = (await resp.json()).message || msg; } catch { /* not JSON */ }
          throw new Error(msg);
        }
        this.onState("live");
        if (await this.read(resp.body, signal) === "stopping") {
          this.onState("offline", new Error("the mock is shutting down"));
        }
      } catch (e) {
        if (signal.aborted) return;
        this.onState("offline", e);
      }
      await new Promise((resolve) => setTimeout(resolve, this.retryMs));
    }
  }

  // read parses events until the stream ends; fields up to a blank line
  // make one event (lines starting with ":" are comments: heartbeats).
  async read(body, signal) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "", ev = { id: null, name: "message", data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done || signal.aborted) return "ended";
      buf += value;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        if (line === "") {
          if (ev.data.length) {
            if (ev.id !== null) this.lastId = ev.id;
            const data = JSON.parse(ev.data.join("\n"));
            if (ev.name === "hello") {
              data.resumed = this.lastId !== null;
              // A first connection resumes, after a break, from where it began.
              if (this.lastId === null) this.lastId = String(data.lastEventId);
            }
            if (ev.name === "stopping") return "stopping";
            try {
              this.onEvent(ev.name, data);
            } catch (e) {
              // A view that fails on one event must not stop the stream.
              console.error("inspector: event " + ev.name, e);
            }
          }
          ev = { id: null, name: "message", data: [] };
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") ev.id = val;
        else if (field === "event") ev.name = val;
        else if (field === "data") ev.data.push(val);
        else if (field === "retry" && /^\d+$/.test(val)) this.retryMs = Number(val);
      }
    }
  }
}
