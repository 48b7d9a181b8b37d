// A Bullseye webhook receiver done the vendor's way, Node.js standard
// library only. It verifies the HMAC-SHA256 of the raw body with
// crypto.timingSafeEqual (as the vendor's example does), answers 401 to a
// missing or wrong signature, acknowledges every valid event with 200 at
// once, and processes each session_id once even when delivered twice.
//
//   BULLSEYE_WEBHOOK_SECRET=whsec_... node receiver.js [[HOST:]PORT]
//
// It listens on 127.0.0.1 unless HOST says otherwise (0.0.0.0 for a mock in
// a container to reach it), and prints "listening on PORT" when ready (PORT
// 0 picks a free port).
'use strict';
const crypto = require('crypto');
const http = require('http');

const secret = process.env.BULLSEYE_WEBHOOK_SECRET;
const seen = new Set(); // a real receiver keeps this in its database

function verify(payload, signature) {
  const expected = crypto.createHmac('sha256', secret).update(payload).digest();
  // Decoding hex (the vendor's way) accepts uppercase too. timingSafeEqual
  // throws on unequal lengths, so a truncated or non-hex header would be a
  // 500 without this check.
  const given = Buffer.from(signature || '', 'hex');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

function process_(event) {
  // The application's work: keep it fast or queue it (30 s timeout).
  console.log('event', event.event_type || event.event);
}

function answer(res, status, obj) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

const server = http.createServer((req, res) => {
  // The raw bytes, before any JSON parsing: the signature covers them.
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const payload = Buffer.concat(chunks);
    if (!verify(payload, req.headers['x-bullseye-signature'])) {
      return answer(res, 401, { error: 'invalid signature' });
    }
    let event;
    try {
      event = JSON.parse(payload.toString('utf8'));
    } catch {
      event = null;
    }
    if (event === null || typeof event !== 'object') {
      return answer(res, 400, { error: 'invalid JSON' });
    }
    const key = event.session_id || event.event_id;
    const duplicate = seen.has(key);
    seen.add(key);
    if (!duplicate) process_(event);
    // A duplicate is acknowledged too: a non-2xx makes the vendor retry.
    answer(res, 200, { ok: true, duplicate });
  });
});

if (!secret) {
  console.error("set BULLSEYE_WEBHOOK_SECRET to the webhook's secret");
  process.exit(2);
}
const listen = process.argv[2] || '8000';
const colon = listen.lastIndexOf(':');
const host = (colon >= 0 && listen.slice(0, colon).replace(/^\[|\]$/g, '')) || '127.0.0.1';
server.listen(Number(listen.slice(colon + 1)), host, () => {
  console.log(`listening on ${server.address().port}`);
});
