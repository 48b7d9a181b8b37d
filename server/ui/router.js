// Deep links: every view, delivery, sink request and journaled request has
// a URL, so a failing test can print a link to exactly what went wrong.
//
//   #/deliveries?state=failed&type=billing   the list, filtered
//   #/deliveries/ID                          one delivery
//   #/log?partnerId=P&status=failed          the attempt log
//   #/sinks/NAME  #/sinks/NAME/SEQ           a sink, one request it got
//   #/partner-api  #/partner-api/ID          the journal, one request
//   #/traffic
//
// The hashes of earlier versions (#partner-api, #traffic) still work.

export function parse(hash = location.hash) {
  let path = hash.replace(/^#/, "");
  let query = "";
  const q = path.indexOf("?");
  if (q >= 0) {
    query = path.slice(q + 1);
    path = path.slice(0, q);
  }
  const decode = (s) => { try { return decodeURIComponent(s); } catch { return s; } }; // a hand-typed % stays as it is
  const parts = path.replace(/^\//, "").split("/").filter(Boolean).map(decode);
  if (!parts.length) parts.push("deliveries");
  return { view: parts[0], parts, query: new URLSearchParams(query) };
}

// link is the hash of a view, an item in it, and query parameters.
export function link(view, item, query) {
  let h = "#/" + view;
  if (item !== undefined && item !== null && item !== "") h += "/" + [].concat(item).map(encodeURIComponent).join("/");
  const q = new URLSearchParams(Object.entries(query || {}).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  if ([...q].length) h += "?" + q;
  return h;
}

// go navigates to a hash; replace keeps the browser's history as it is
// (a filter change is not a step back).
export function go(hash, replace) {
  if (hash === location.hash) return;
  if (replace) {
    history.replaceState(null, "", hash);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = hash;
  }
}
