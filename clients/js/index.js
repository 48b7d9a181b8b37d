// bullseye-mock: a client of the mock's control API and of its Partner API
// fake, for tests written in JavaScript. Node.js 18+, built-ins only.
//
// Every method returns the JSON the endpoint answers (a JSON object, as
// the control API documents it), except the waits for one thing, which
// answer that thing (waitForDelivery: the delivery; waitForScenarioRun: the
// run), and the text endpoints (metrics, the inspector, the SVG), which
// answer text. An answer that is not 2xx throws a BullseyeMockError with
// the status and the vendor's error JSON; a long-poll that times out
// throws a WaitTimeoutError (unless {throwOnTimeout: false}).

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { OPERATIONS, operationKey } from './operations.js';

export { OPERATIONS, CONVENIENCE, operationKey } from './operations.js';

/** The key of the mock's first partner when started without --api-key. */
export const DEFAULT_API_KEY = 'bullseye-mock-key';

const KNOWN = new Set(OPERATIONS.map(([m, p]) => operationKey(m, p)));

// How much longer than a long-poll's own timeout the client waits for its
// answer before giving up on the request.
const POLL_SLACK_MS = 15_000;
// The mock's default long-poll timeout, when a wait names none.
const DEFAULT_POLL_MS = 30_000;

/**
 * A request the mock refused (status and the vendor's error JSON), or one
 * that got no answer (status 0: a closed connection, a refused one, or the
 * client's own timeout).
 */
export class BullseyeMockError extends Error {
  constructor(message, { status = 0, code, details, body, headers, method, url, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'BullseyeMockError';
    /** HTTP status; 0 when no answer came. */
    this.status = status;
    /** The error JSON's code: BadRequest, NotFound, ServiceUnavailable, ... */
    this.code = code;
    /** The error JSON's details, e.g. {field: "faults[0].signature"}. */
    this.details = details ?? {};
    /** The whole error JSON (or the body as text when it was not JSON). */
    this.body = body;
    /** The answer's headers, lower-case names. */
    this.headers = headers ?? {};
    this.method = method;
    this.url = url;
  }
}

/** A long-poll that answered "timedOut": true (or "stopping": true). */
export class WaitTimeoutError extends BullseyeMockError {
  constructor(message, { result, method, url } = {}) {
    super(message, { status: 200, code: 'WaitTimedOut', body: result, method, url });
    this.name = 'WaitTimeoutError';
    /** The wait's answer: the state at the deadline. */
    this.result = result;
    /** The mock began to shut down and answered early. */
    this.stopping = Boolean(result && result.stopping);
  }
}

/** A duration for the mock: a Go duration string as is, a number as milliseconds. */
export function duration(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new TypeError(`duration: want milliseconds >= 0, got ${v}`);
    return `${Math.round(v)}ms`;
  }
  return String(v);
}

const UNIT_MS = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration ("1m30s", "250ms") or a number of ms; NaN when unreadable. */
export function durationMs(v) {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || v === '') return NaN;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m;
  let end = 0;
  while ((m = re.exec(v)) !== null) {
    total += parseFloat(m[1]) * UNIT_MS[m[2]];
    end = re.lastIndex;
  }
  return end === v.length ? total : v === '0' ? 0 : NaN;
}

function queryString(query) {
  if (!query) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) q.set(k, v.join(','));
    else if (v instanceof Date) q.set(k, v.toISOString());
    else if (typeof v === 'object') q.set(k, JSON.stringify(v));
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function fillPath(template, params) {
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    const v = params?.[name];
    if (v === undefined || v === null || v === '') throw new TypeError(`${template}: missing ${name}`);
    return encodeURIComponent(String(v));
  });
}

function headersObject(h) {
  const out = {};
  h.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

function bodyOf(body) {
  if (body === undefined) return { body: undefined, type: undefined };
  if (typeof body === 'string') return { body, type: 'text/plain' };
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) return { body, type: 'application/octet-stream' };
  return { body: JSON.stringify(body), type: 'application/json' };
}

// Drops undefined values of a plain object (top level only).
function compact(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

// The options of a wait that are not query parameters.
function splitWait(opts) {
  const { throwOnTimeout = true, ...query } = opts ?? {};
  if (query.timeout !== undefined) query.timeout = duration(query.timeout);
  return { throwOnTimeout, query };
}

// One base URL and one set of credentials; the request every method makes.
class Transport {
  constructor({ baseUrl, fetch: f, requestTimeout, headers }) {
    if (!baseUrl) throw new TypeError('bullseye-mock: baseUrl is required, e.g. http://127.0.0.1:8080');
    this.baseUrl = String(baseUrl).replace(/\/+$/, '');
    this.fetch = f ?? globalThis.fetch;
    if (typeof this.fetch !== 'function') throw new TypeError('bullseye-mock: no fetch: use Node.js 18 or later');
    this.requestTimeout = requestTimeout ?? 30_000;
    this.headers = headers;
  }

  /**
   * Calls one operation of the table. opts: params (path), query, body,
   * contentType, headers, accept ("json" | "text" | "response"), poll (the
   * long-poll's own timeout, to wait past it).
   */
  async request(method, template, opts = {}) {
    const key = operationKey(method, template);
    if (!KNOWN.has(key)) throw new Error(`bullseye-mock client: ${key} is not in the operations table`);
    const url = this.baseUrl + fillPath(template, opts.params) + queryString(opts.query);
    const { body, type } = bodyOf(opts.body);
    const headers = { Accept: 'application/json', ...(await this.headers()), ...opts.headers };
    if (body !== undefined) headers['Content-Type'] = opts.contentType ?? type;
    let timeoutMs = this.requestTimeout;
    if (opts.poll !== undefined) {
      const pollMs = opts.poll === null ? DEFAULT_POLL_MS : durationMs(opts.poll);
      timeoutMs = Math.max(timeoutMs, (Number.isFinite(pollMs) ? pollMs : DEFAULT_POLL_MS) + POLL_SLACK_MS);
    }
    let res;
    try {
      res = await this.fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const timedOut = err && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const why = timedOut ? `no answer within ${timeoutMs}ms` : `no answer (${err?.cause?.code ?? err?.cause?.message ?? err?.message})`;
      throw new BullseyeMockError(`${method} ${url}: ${why}`, {
        status: 0,
        code: timedOut ? 'Timeout' : 'NetworkError',
        method,
        url,
        cause: err,
      });
    }
    if (opts.accept === 'response') return res;
    const text = method === 'HEAD' ? '' : await res.text();
    const isJSON = (res.headers.get('content-type') ?? '').includes('json');
    let parsed = text;
    if (isJSON && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (res.status < 200 || res.status > 299) throw refused(res, text, parsed, method, url);
    if (res.status === 204 || text === '') return undefined;
    if (opts.accept === 'text') return text;
    return parsed;
  }

  /**
   * Opens an operation answered with Server-Sent Events: the response once
   * its head arrived (2xx), its body left to read. requestTimeout bounds
   * the connection and the head only; signal (optional) aborts it all.
   */
  async openStream(template, { query, signal } = {}) {
    const key = operationKey('GET', template);
    if (!KNOWN.has(key)) throw new Error(`bullseye-mock client: ${key} is not in the operations table`);
    const url = this.baseUrl + template + queryString(query);
    const headers = { ...(await this.headers()), Accept: 'text/event-stream', 'Cache-Control': 'no-cache' };
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    if (signal?.aborted) controller.abort(signal.reason);
    else signal?.addEventListener('abort', onAbort, { once: true });
    const head = setTimeout(() => controller.abort(new DOMException('no answer in time', 'TimeoutError')), this.requestTimeout);
    let res;
    try {
      res = await this.fetch(url, { method: 'GET', headers, signal: controller.signal });
    } catch (err) {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) throw signal.reason;
      const timedOut = controller.signal.aborted;
      const why = timedOut ? `no answer within ${this.requestTimeout}ms` : `no answer (${err?.cause?.code ?? err?.cause?.message ?? err?.message})`;
      throw new BullseyeMockError(`GET ${url}: ${why}`, { status: 0, code: timedOut ? 'Timeout' : 'NetworkError', method: 'GET', url, cause: err });
    } finally {
      clearTimeout(head);
    }
    if (res.status < 200 || res.status > 299) {
      signal?.removeEventListener('abort', onAbort);
      const text = await res.text().catch(() => '');
      let parsed = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: the text
      }
      throw refused(res, text, parsed, 'GET', url);
    }
    const release = () => signal?.removeEventListener('abort', onAbort);
    return { res, url, controller, release };
  }
}

// The error of a non-2xx answer: its status and the vendor's error JSON.
function refused(res, text, parsed, method, url) {
  const e = parsed && typeof parsed === 'object' ? parsed : {};
  const what = e.code ? `${e.code}: ${e.message}` : text.slice(0, 500) || res.statusText;
  return new BullseyeMockError(`${method} ${url}: ${res.status} ${what}`, {
    status: res.status,
    code: e.code,
    details: e.details,
    body: parsed,
    headers: headersObject(res.headers),
    method,
    url,
  });
}

/**
 * The Partner API (/api/v1) as an app calls it, with X-Partner-API-Key.
 */
export class PartnerClient {
  #t;

  /**
   * @param {{baseUrl: string, apiKey?: string | (() => Promise<string>), fetch?: typeof fetch, requestTimeout?: number}} options
   */
  constructor({ baseUrl, apiKey, fetch: f, requestTimeout } = {}) {
    let key = apiKey;
    if (key === undefined) key = DEFAULT_API_KEY;
    let resolved;
    const keyOf =
      typeof key === 'function'
        ? () =>
            (resolved ??= Promise.resolve()
              .then(key)
              .catch((err) => {
                resolved = undefined; // try again on the next request
                throw err;
              }))
        : () => key;
    this.#t = new Transport({
      baseUrl,
      fetch: f,
      requestTimeout,
      headers: async () => ({ 'X-Partner-API-Key': await keyOf() }),
    });
    /** The base URL of the mock (without /api/v1). */
    this.baseUrl = this.#t.baseUrl;
  }

  /** GET /api/v1/partner/webhooks: both webhook configurations. */
  webhooks() {
    return this.#t.request('GET', '/api/v1/partner/webhooks');
  }

  /** PUT /api/v1/partner/webhooks/identification: a partial update {url, secret, enabled}. */
  updateIdentificationWebhook(update) {
    return this.#t.request('PUT', '/api/v1/partner/webhooks/identification', { body: update ?? {} });
  }

  /** PUT /api/v1/partner/webhooks/billing: a partial update {url, secret, enabled}. */
  updateBillingWebhook(update) {
    return this.#t.request('PUT', '/api/v1/partner/webhooks/billing', { body: update ?? {} });
  }

  /**
   * PUT /api/v1/partner/webhooks/{type}: the webhook of a kind
   * ("identification" or "billing"; the mock answers 400 to any other).
   */
  updateWebhook(type, update) {
    if (type === 'identification') return this.updateIdentificationWebhook(update);
    if (type === 'billing') return this.updateBillingWebhook(update);
    return this.#t.request('PUT', '/api/v1/partner/webhooks/{type}', { params: { type }, body: update ?? {} });
  }

  /** POST /api/v1/partner/webhooks/test: send a signed test webhook of a kind. */
  testWebhook(type = 'identification') {
    return this.#t.request('POST', '/api/v1/partner/webhooks/test', { body: { type } });
  }

  /** GET /api/v1/partner/webhooks/logs: the attempt log, newest first. */
  logs(filters = {}) {
    return this.#t.request('GET', '/api/v1/partner/webhooks/logs', { query: filters });
  }

  /** GET /api/v1/partner/organizations: the partner's organizations, paged. */
  organizations(filters = {}) {
    return this.#t.request('GET', '/api/v1/partner/organizations', { query: filters });
  }

  /** POST /api/v1/partner/organizations: create one ({name, externalId?, status?, tier?, credits?, metadata?}). */
  createOrganization(org) {
    return this.#t.request('POST', '/api/v1/partner/organizations', { body: org });
  }

  /** GET /api/v1/partner/organizations/{id}. */
  organization(id) {
    return this.#t.request('GET', '/api/v1/partner/organizations/{id}', { params: { id } });
  }

  /** PUT /api/v1/partner/organizations/{id}/credits: {credits, notes?}. */
  setCredits(id, allocation) {
    return this.#t.request('PUT', '/api/v1/partner/organizations/{id}/credits', { params: { id }, body: allocation });
  }

  /** GET /api/v1/partner/billing: billing mode, period, credit pool, tiers. */
  billing() {
    return this.#t.request('GET', '/api/v1/partner/billing');
  }
}

// ---- The change stream (GET /_mock/stream) ----

// The Server-Sent Events wire format, chunk by chunk (the HTML standard's
// algorithm): lines end in \n, \r\n or \r; a blank line dispatches the
// event gathered so far; data lines join with \n; a line starting with ":"
// is a comment (the mock's heartbeat is ": heartbeat TIME").
class SSEParser {
  #heartbeats;
  #pending = '';
  #skipLF = false;
  #first = true;
  #name = '';
  #data = [];
  #id = null;
  /** The reconnection delay the stream asked for (ms), once its retry field came. */
  retry = null;

  constructor({ heartbeats = false } = {}) {
    this.#heartbeats = heartbeats;
  }

  /** The events a chunk of text (cut anywhere) completes. */
  feed(chunk) {
    if (this.#first && chunk) {
      this.#first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.#skipLF && chunk) {
      this.#skipLF = false;
      if (chunk[0] === '\n') chunk = chunk.slice(1); // the \n of a \r\n cut in two
    }
    const text = this.#pending + chunk;
    const out = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== '\n' && c !== '\r') continue;
      const ev = this.#line(text.slice(start, i));
      if (ev) out.push(ev);
      if (c === '\r') {
        if (i + 1 === text.length) this.#skipLF = true;
        else if (text[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.#pending = text.slice(start);
    return out;
  }

  #line(line) {
    if (line === '') return this.#dispatch();
    if (line[0] === ':') {
      const comment = line.slice(1).trim();
      if (this.#heartbeats && comment.startsWith('heartbeat')) {
        return { id: null, name: 'heartbeat', data: { time: comment.slice('heartbeat'.length).trim() } };
      }
      return undefined;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.#name = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id') {
      if (!value.includes('\0')) this.#id = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return undefined;
  }

  #dispatch() {
    const name = this.#name || 'message';
    const data = this.#data;
    const rawId = this.#id;
    this.#name = '';
    this.#data = [];
    this.#id = null;
    if (data.length === 0) return undefined; // no data: nothing to dispatch (the retry line is one)
    const text = data.join('\n');
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const body = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : { raw: text };
    const id = rawId !== null && /^\d+$/.test(rawId.trim()) ? Number(rawId) : null;
    return { id, name, data: body };
  }
}

const TIMED_OUT = Symbol('timed out');

// A short account of an event, for messages.
function describeEvent(e) {
  const d = e.data ?? {};
  switch (e.name) {
    case 'delivery':
      return `delivery ${d.id}: ${d.state}`;
    case 'attempt':
      return `attempt ${d.attempt} of ${d.deliveryId}: ${d.status} ${d.statusCode}`;
    case 'sink':
      return `sink ${d.sink} #${d.seq}: ${d.status} ${d.signature}`;
    case 'request':
      return `request ${d.method} ${d.path}: ${d.status}`;
    case 'clock':
      return `clock ${d.now}`;
    case 'lost':
      return `lost ${d.missed} (${d.reason})`;
    case 'end':
      return `end (${d.reason})`;
    default:
      return e.name;
  }
}

/**
 * An open GET /_mock/stream: an async iterable (and iterator) of
 * {id, name, data}. The mock has subscribed it when client.stream()
 * resolves. Iteration ends after "stopping" (the mock shuts down) or
 * "end" (the stream's limit or timeout), when the mock ends the stream, or after close() / return() (a for await loop
 * that breaks calls it); an aborted signal throws its reason; a broken
 * connection throws a BullseyeMockError with status 0.
 */
export class EventStream {
  #res;
  #reader;
  #decoder = new TextDecoder();
  #parser;
  #controller;
  #release;
  #signal;
  #buffer = [];
  #reading = null;
  #ended = false;
  #closed = false;
  #error = null;
  #idleMs;
  #idleTimer = null;
  #idleFired = false;
  #waitMs;
  #aborted = false;
  #onAbort;

  constructor({ res, url, controller, release, signal, heartbeats = false, idleTimeout = 30_000, waitTimeout = DEFAULT_POLL_MS }) {
    this.#res = res;
    this.#controller = controller;
    this.#release = release ?? (() => {});
    this.#signal = signal;
    this.#parser = new SSEParser({ heartbeats });
    this.#idleMs = idleTimeout;
    this.#waitMs = waitTimeout;
    this.#reader = res.body ? res.body.getReader() : null;
    // Aborted while open, the stream throws the signal's reason from then on.
    this.#onAbort = () => {
      if (!this.#ended) this.#aborted = true;
    };
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (!this.#reader) this.#finish();
    /** The stream's URL, with its query. */
    this.url = url;
    /** The 200's status and headers (lower-case names). */
    this.status = res.status;
    this.headers = headersObject(res.headers);
    /**
     * Where a new stream resumes this one (client.stream({lastEventId})): the
     * id of the last event taken from it, or, before any, the hello's lastEventId.
     */
    this.lastEventId = null;
    /** The hello event, once the iteration passed it. */
    this.hello = null;
  }

  /** The reconnection delay the stream asked for, in ms (its retry line), once read. */
  get retry() {
    return this.#parser.retry;
  }

  /** Whether the stream ended or was closed. */
  get closed() {
    return this.#closed || (this.#ended && this.#buffer.length === 0 && !this.#error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** The iterator protocol: {value: event, done: false}, or {done: true} at the end. */
  async next() {
    const value = await this.#take(undefined);
    return value === undefined ? { value: undefined, done: true } : { value, done: false };
  }

  /** Closes the stream (a for await loop that breaks or throws calls it). */
  async return() {
    this.close();
    return { value: undefined, done: true };
  }

  /**
   * The next event, or undefined once the stream has ended. timeout (a Go
   * duration or ms) bounds the wait: past it a WaitTimeoutError, the stream
   * still open and usable.
   */
  async read({ timeout } = {}) {
    const ms = timeout === undefined ? undefined : durationMs(timeout);
    return this.#take(ms === undefined ? undefined : Date.now() + ms, () => new WaitTimeoutError(`bullseye-mock: GET ${this.url}: no stream event within ${ms}ms`, { result: [], method: 'GET', url: this.url }));
  }

  /**
   * Every event read up to and including the first named `name` (any name
   * when null) whose data `predicate(data, event)` accepts. timeout (a Go
   * duration or ms; default 30s) bounds the whole wait: past it, a
   * WaitTimeoutError whose result is the events read meanwhile. A stream
   * that ends first throws a BullseyeMockError with code "StreamEnded".
   */
  async eventsUntil(name, predicate, { timeout } = {}) {
    const ms = timeout === undefined ? this.#waitMs : durationMs(timeout);
    const deadline = Date.now() + (Number.isFinite(ms) ? ms : this.#waitMs);
    const seen = [];
    const want = `${name ?? 'an'} event${predicate ? ' matching the predicate' : ''}`;
    const account = () => {
      let shown = seen.filter((e) => e.name !== 'heartbeat').map(describeEvent);
      if (shown.length > 20) shown = [...shown.slice(0, 10), `... ${shown.length - 20} more ...`, ...shown.slice(-10)];
      return shown.join('; ') || 'nothing';
    };
    for (;;) {
      const e = await this.#take(deadline, () =>
        new WaitTimeoutError(`bullseye-mock: GET ${this.url}: no ${want} within ${ms}ms; the stream sent: ${account()}`, { result: seen, method: 'GET', url: this.url }),
      );
      if (e === undefined) {
        throw new BullseyeMockError(`bullseye-mock: GET ${this.url}: the stream ended before ${want}; it sent: ${account()}`, {
          status: 200,
          code: 'StreamEnded',
          body: seen,
          method: 'GET',
          url: this.url,
        });
      }
      seen.push(e);
      if ((name === undefined || name === null || e.name === name) && (!predicate || predicate(e.data, e))) return seen;
    }
  }

  /** The first event named `name` whose data `predicate(data, event)` accepts (see eventsUntil). */
  async waitForEvent(name, predicate, options) {
    return (await this.eventsUntil(name, predicate, options)).at(-1);
  }

  /** Closes the connection (the mock frees the stream's place); the iteration ends. Idempotent. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer.length = 0;
    this.#finish();
  }

  #finish() {
    this.#ended = true;
    this.#release();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#reader) this.#reader.cancel().catch(() => {});
    if (this.#controller && !this.#controller.signal.aborted) this.#controller.abort();
  }

  #consume(e) {
    if (e.name === 'hello') {
      this.hello = e;
      if (this.lastEventId === null && Number.isInteger(e.data.lastEventId)) this.lastEventId = e.data.lastEventId;
    } else if (e.id !== null) {
      this.lastEventId = e.id;
    }
    return e;
  }

  // The next event (undefined at the end), reading more as needed; with a
  // deadline, onTimeout() is thrown past it. What a read that lost the race
  // brings is kept for the next call.
  async #take(deadline, onTimeout) {
    for (;;) {
      if (this.#aborted && !this.#closed) throw this.#signal.reason;
      if (this.#closed) return undefined;
      if (this.#buffer.length) return this.#consume(this.#buffer.shift());
      if (this.#error) {
        const err = this.#error;
        this.#error = null;
        throw err;
      }
      if (this.#ended) return undefined;
      const fill = (this.#reading ??= this.#readChunk().finally(() => {
        this.#reading = null;
      }));
      if (deadline === undefined) {
        await fill;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw onTimeout();
      let timer;
      const expired = new Promise((resolve) => {
        timer = setTimeout(resolve, left, TIMED_OUT);
      });
      const won = await Promise.race([fill, expired]);
      clearTimeout(timer);
      if (won === TIMED_OUT) throw onTimeout();
    }
  }

  // Reads one chunk and parses it into the buffer; never rejects (an error
  // is kept for #take to throw).
  async #readChunk() {
    this.#idleTimer = setTimeout(() => {
      this.#idleFired = true;
      this.#controller?.abort(new DOMException('the stream went quiet', 'TimeoutError'));
    }, this.#idleMs);
    try {
      const { value, done } = await this.#reader.read();
      if (done) {
        // An event the end cut short is dropped, as the standard says.
        for (const e of this.#parser.feed(this.#decoder.decode())) this.#buffer.push(e);
        this.#finish();
        return;
      }
      for (const e of this.#parser.feed(this.#decoder.decode(value, { stream: true }))) {
        this.#buffer.push(e);
        if (e.name === 'stopping' || e.name === 'end') {
          this.#finish(); // the mock ends the stream after it
          break;
        }
      }
    } catch (err) {
      if (this.#closed) return;
      if (this.#aborted) this.#buffer.length = 0; // #take throws the signal's reason
      else if (this.#idleFired) {
        this.#error = new BullseyeMockError(`GET ${this.url}: the stream sent nothing within ${this.#idleMs}ms, not even a heartbeat: the connection is taken for dead`, {
          status: 0,
          code: 'Timeout',
          method: 'GET',
          url: this.url,
          cause: err,
        });
      } else {
        this.#error = new BullseyeMockError(`GET ${this.url}: the stream broke (${err?.cause?.code ?? err?.cause?.message ?? err?.message})`, {
          status: 0,
          code: 'NetworkError',
          method: 'GET',
          url: this.url,
          cause: err,
        });
      }
      this.#finish();
    } finally {
      clearTimeout(this.#idleTimer);
    }
  }
}

function describeDelivery(d) {
  if (!d) return 'no delivery in the answer';
  const codes = (d.attempts ?? []).map((a) => a.statusCode || a.error || a.status);
  return `state ${d.state} after ${(d.attempts ?? []).length} attempts${codes.length ? ` (${codes.join(', ')})` : ''}`;
}

function waitError(what, result, method, url) {
  const why = result && result.stopping ? 'the mock is shutting down' : 'timed out';
  return new WaitTimeoutError(`bullseye-mock: ${what}: ${why}`, { result, method, url });
}

/**
 * The control API (/_mock), with the Partner API under client.partner.
 */
export class Client {
  #t;
  #options;

  /**
   * @param {{baseUrl: string, adminToken?: string, apiKey?: string, sinkBaseUrl?: string, fetch?: typeof fetch, requestTimeout?: number}} options
   */
  constructor({ baseUrl, adminToken, apiKey, sinkBaseUrl, fetch: f, requestTimeout } = {}) {
    this.#t = new Transport({
      baseUrl,
      fetch: f,
      requestTimeout,
      headers: async () => (adminToken ? { Authorization: `Bearer ${adminToken}` } : {}),
    });
    /** The mock's base URL, e.g. http://127.0.0.1:41234. */
    this.baseUrl = this.#t.baseUrl;
    /** The base URL the mock reaches itself at (its sinks' URLs); baseUrl unless it runs in a container. */
    this.sinkBaseUrl = (sinkBaseUrl ?? this.baseUrl).replace(/\/+$/, '');
    const resolveKey = async () => {
      const { partners } = await this.partners();
      if (!partners?.length) throw new BullseyeMockError('bullseye-mock: the mock has no partner');
      return partners[0].apiKey;
    };
    /** The Partner API as an app calls it: apiKey, else the mock's first partner's key. */
    this.partner = new PartnerClient({ baseUrl: this.baseUrl, apiKey: apiKey ?? resolveKey, fetch: f, requestTimeout });
    this.#options = { fetch: f, requestTimeout };
  }

  /** A PartnerClient calling the Partner API with another key. */
  partnerFor(apiKey) {
    return new PartnerClient({ baseUrl: this.baseUrl, apiKey, ...this.#options });
  }

  // ---- Operations ----

  /** GET /healthz: {status: "ok"}. */
  health() {
    return this.#t.request('GET', '/healthz');
  }

  /** HEAD /healthz: true when the mock answers 200. */
  async ready() {
    try {
      const res = await this.#t.request('HEAD', '/healthz', { accept: 'response' });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** GET /metrics: the Prometheus text. */
  metrics() {
    return this.#t.request('GET', '/metrics', { accept: 'text', headers: { Accept: 'text/plain' } });
  }

  /** GET /_mock/openapi.json: the OpenAPI document of the mock. */
  openapi() {
    return this.#t.request('GET', '/_mock/openapi.json');
  }

  /** GET /_mock/ui: the inspector's page (HTML). */
  ui() {
    return this.#t.request('GET', '/_mock/ui', { accept: 'text', headers: { Accept: 'text/html' } });
  }

  /**
   * The inspector's page at a view and item (docs/inspector.md):
   * inspectorUrl('deliveries', id) opens one delivery,
   * inspectorUrl('sinks', 'demo', 3) one request a sink got. A failing test
   * can print it to show exactly what went wrong.
   */
  inspectorUrl(view = 'deliveries', ...items) {
    return `${this.baseUrl}/_mock/ui#/${[view, ...items.map((i) => encodeURIComponent(String(i)))].join('/')}`;
  }

  /** GET /_mock/ui/{file}: one of the inspector's files (app.js, style.css, index.html). */
  uiFile(file) {
    return this.#t.request('GET', '/_mock/ui/{file}', { params: { file }, accept: 'text', headers: { Accept: '*/*' } });
  }

  // ---- Partners and events ----

  /** GET /_mock/partners: {partners: [{id, apiKey, organizationIds}]}. */
  partners() {
    return this.#t.request('GET', '/_mock/partners');
  }

  /**
   * POST /_mock/events: trigger events; the body is the control API's
   * (type, count, rate, organization, faults, policy, at/delay, ...). Also
   * trigger("visitor.identified", {count: 3}). Answers {deliveryIds, partnerId}.
   */
  trigger(typeOrSend, more) {
    const send = typeof typeOrSend === 'string' ? { ...more, type: typeOrSend } : { ...typeOrSend, ...more };
    if (send.delay !== undefined) send.delay = duration(send.delay);
    if (send.jitter !== undefined) send.jitter = duration(send.jitter);
    if (send.at instanceof Date) send.at = send.at.toISOString();
    return this.#t.request('POST', '/_mock/events', { body: send });
  }

  // ---- Deliveries ----

  /** GET /_mock/deliveries: a page of deliveries, newest first. */
  deliveries(filters = {}) {
    return this.#t.request('GET', '/_mock/deliveries', { query: filters });
  }

  /** GET /_mock/deliveries/{id}: one delivery, with its payload and every attempt. */
  delivery(id) {
    return this.#t.request('GET', '/_mock/deliveries/{id}', { params: { id } });
  }

  /**
   * GET /_mock/deliveries/{id}/wait: long-poll until the delivery is in a
   * state (state: "delivered", "retrying,failed" or "final"; an array is
   * joined) and/or has made `attempts` attempts; with neither, a final
   * state. Answers the delivery; throws WaitTimeoutError after `timeout`
   * (a Go duration or milliseconds; the mock's default 30s).
   */
  async waitForDelivery(id, opts = {}) {
    const { throwOnTimeout, query } = splitWait(opts);
    const url = `${this.baseUrl}/_mock/deliveries/${id}/wait`;
    const out = await this.#t.request('GET', '/_mock/deliveries/{id}/wait', {
      params: { id },
      query,
      poll: query.timeout ?? null,
    });
    if (out.timedOut && throwOnTimeout) {
      const want = [query.state && `state ${query.state}`, query.attempts && `${query.attempts} attempts`].filter(Boolean).join(' and ') || 'a final state';
      throw waitError(`delivery ${id}: waited ${query.timeout ?? '30s'} for ${want}: ${describeDelivery(out.delivery)}; see ${this.inspectorUrl('deliveries', id)}`, out, 'GET', url);
    }
    return out.delivery;
  }

  /**
   * GET /_mock/deliveries/wait: long-poll until every matching delivery
   * pending when the call arrives is final. Answers {timedOut, waitedFor,
   * pendingCount, pending, stopping}; throws WaitTimeoutError on timeout.
   */
  async waitAll(opts = {}) {
    const { throwOnTimeout, query } = splitWait(opts);
    const out = await this.#t.request('GET', '/_mock/deliveries/wait', { query, poll: query.timeout ?? null });
    if (out.timedOut && throwOnTimeout) {
      throw waitError(`waited ${query.timeout ?? '30s'} for ${out.waitedFor} deliveries: ${out.pendingCount} still pending (${(out.pending ?? []).slice(0, 5).join(', ')})`, out, 'GET', `${this.baseUrl}/_mock/deliveries/wait`);
    }
    return out;
  }

  /** POST /_mock/deliveries/{id}/redeliver: {deliveryId, redeliveryOf}. */
  redeliver(id) {
    return this.#t.request('POST', '/_mock/deliveries/{id}/redeliver', { params: { id } });
  }

  /** POST /_mock/reset: forget deliveries, logs, sink recordings, the journal and the faults. */
  reset() {
    return this.#t.request('POST', '/_mock/reset');
  }

  // ---- The change stream ----

  /**
   * GET /_mock/stream: the mock's changes as they happen (Server-Sent
   * Events). Resolves, once the mock has subscribed it (every change after
   * that is on it), to an EventStream: `for await (const e of stream)`
   * gives {id, name, data}: hello, then delivery, attempt, sink, request,
   * clock and reset changes, lost (events were missed: reload), and last
   * stopping (the mock shuts down) or end (limit or timeout reached),
   * after which the iteration ends. The promise is async iterable too:
   * `for await (const e of client.stream(opts))`.
   *
   * options: the query (events: an array or "delivery,attempt"; apiKey,
   * partnerId, type, eventType, organizationId, state, deliveryId, sink:
   * filters; heartbeat, coalesce: Go durations or ms; limit: end after so
   * many changes; timeout: end after so long; lastEventId: resume after
   * it), plus signal (an AbortSignal), heartbeats (true: yield the
   * heartbeat comments as "heartbeat" events) and idleTimeout (ms the
   * stream may send nothing at all before it is taken for dead; default
   * the heartbeat interval plus 15 s). A bad parameter rejects with a 400
   * BullseyeMockError whose details.parameter names it.
   */
  stream(options = {}) {
    const { signal, heartbeats = false, idleTimeout, ...query } = options ?? {};
    if (query.heartbeat !== undefined) query.heartbeat = duration(query.heartbeat);
    if (query.coalesce !== undefined) query.coalesce = duration(query.coalesce);
    if (query.timeout !== undefined) query.timeout = duration(query.timeout);
    const beat = durationMs(query.heartbeat ?? '15s');
    const idle = idleTimeout ?? (Number.isFinite(beat) ? beat : 15_000) + POLL_SLACK_MS;
    const opened = this.#t
      .openStream('/_mock/stream', { query, signal })
      .then(({ res, url, controller, release }) => new EventStream({ res, url, controller, release, signal, heartbeats, idleTimeout: idle }));
    opened[Symbol.asyncIterator] = () => {
      let stream;
      return {
        async next() {
          stream ??= await opened;
          return stream.next();
        },
        async return() {
          (stream ?? (await opened.catch(() => undefined)))?.close();
          return { value: undefined, done: true };
        },
      };
    };
    return opened;
  }

  // ---- The clock ----

  /** GET /_mock/clock: {now, manual, nextDue}. */
  clock() {
    return this.#t.request('GET', '/_mock/clock');
  }

  /**
   * POST /_mock/clock/advance with exactly one of {by} (a Go duration or
   * milliseconds), {to} (a time: Date or RFC 3339) or {toNextDue: true}.
   * Answers {now, manual, nextDue, moved, advancedBy, idle}.
   */
  advanceClock(move) {
    const body = compact({ ...move, by: duration(move?.by), to: move?.to instanceof Date ? move.to.toISOString() : move?.to });
    return this.#t.request('POST', '/_mock/clock/advance', { body, poll: '15s' });
  }

  /** advanceClock({toNextDue: true}). */
  advanceToNextDue() {
    return this.advanceClock({ toNextDue: true });
  }

  /** advanceClock({by}). */
  advanceBy(by) {
    return this.advanceClock({ by });
  }

  /** advanceClock({to}): set the manual clock to a later time. */
  setClock(to) {
    return this.advanceClock({ to });
  }

  // ---- Scenario runs ----

  /**
   * POST /_mock/scenarios/runs: upload a scenario file (YAML text, a
   * Buffer, or an object sent as JSON) and start it. opts: file (its name
   * in error positions), leaveClock. Answers the run ({id, state, ...}).
   */
  startScenario(source, { file, leaveClock, contentType } = {}) {
    const isObject = source !== null && typeof source === 'object' && !(source instanceof Uint8Array);
    return this.#t.request('POST', '/_mock/scenarios/runs', {
      query: { file, leaveClock },
      body: source,
      contentType: contentType ?? (isObject ? 'application/json' : 'application/yaml'),
    });
  }

  /** startScenario with the contents of a file on disk, named by its base name. */
  async startScenarioFile(path, opts = {}) {
    return this.startScenario(await readFile(path), { file: basename(path), ...opts });
  }

  /** GET /_mock/scenarios/runs: {runs}, newest first, without reports. */
  scenarioRuns() {
    return this.#t.request('GET', '/_mock/scenarios/runs');
  }

  /** GET /_mock/scenarios/runs/{id}: the run, with its report once finished. */
  scenarioRun(id) {
    return this.#t.request('GET', '/_mock/scenarios/runs/{id}', { params: { id } });
  }

  /**
   * GET /_mock/scenarios/runs/{id}/wait: long-poll until the run ends.
   * Answers the run (state passed, failed or error, and its report).
   */
  async waitForScenarioRun(id, opts = {}) {
    const { throwOnTimeout, query } = splitWait(opts);
    const out = await this.#t.request('GET', '/_mock/scenarios/runs/{id}/wait', { params: { id }, query, poll: query.timeout ?? null });
    if (out.timedOut && throwOnTimeout) {
      throw waitError(`scenario run ${id}: waited ${query.timeout ?? '30s'} for it to end: still ${out.run?.state}`, out, 'GET', `${this.baseUrl}/_mock/scenarios/runs/${id}/wait`);
    }
    return out.run;
  }

  /** The report of a run, once it has ended (waitForScenarioRun, then .report). */
  async scenarioReport(id, opts = {}) {
    return (await this.waitForScenarioRun(id, opts)).report;
  }

  /** startScenario, then waitForScenarioRun: the finished run. opts: file, leaveClock, timeout. */
  async runScenario(source, { timeout, ...opts } = {}) {
    const run = await this.startScenario(source, opts);
    return this.waitForScenarioRun(run.id, { timeout });
  }

  // ---- The journal, faults and keys ----

  /**
   * GET /_mock/requests: the journal of Partner API requests, newest first.
   * Filters: method, path (pattern), status ("503", "5xx"), apiKey,
   * partnerId, since, after, has (array or comma-separated), body (an
   * object, sent as JSON), page, pageSize.
   */
  requests(match = {}) {
    return this.#t.request('GET', '/_mock/requests', { query: match });
  }

  /**
   * GET /_mock/logs: the attempt log exactly as the vendor's
   * GET /partner/webhooks/logs answers it, for one partner (apiKey or
   * partnerId) or all, without a Partner API call (nothing journaled).
   */
  attemptLog(filters = {}) {
    return this.#t.request('GET', '/_mock/logs', { query: filters });
  }

  /**
   * GET /_mock/requests/wait: long-poll until at least `count` (default 1)
   * journaled requests match. Answers {timedOut, count, requests};
   * throws WaitTimeoutError on timeout.
   */
  async waitRequests(match = {}, opts = {}) {
    const { throwOnTimeout, query } = splitWait({ ...match, ...opts });
    const out = await this.#t.request('GET', '/_mock/requests/wait', { query, poll: query.timeout ?? null });
    if (out.timedOut && throwOnTimeout) {
      throw waitError(`waited ${query.timeout ?? '30s'} for ${query.count ?? 1} requests matching ${JSON.stringify(match)}: saw ${out.count}`, out, 'GET', `${this.baseUrl}/_mock/requests/wait`);
    }
    return out;
  }

  /** POST /_mock/faults: put a fault on the Partner API in force; answers the fault ({id, ...}). */
  addFault(fault) {
    const body = { ...fault };
    if (body.latency !== undefined) body.latency = duration(body.latency);
    return this.#t.request('POST', '/_mock/faults', { body });
  }

  /** GET /_mock/faults: {faults}, with fired, matched and spent. */
  faults() {
    return this.#t.request('GET', '/_mock/faults');
  }

  /** GET /_mock/faults/{id}. */
  fault(id) {
    return this.#t.request('GET', '/_mock/faults/{id}', { params: { id } });
  }

  /** DELETE /_mock/faults/{id}: answers the fault as it was. */
  deleteFault(id) {
    return this.#t.request('DELETE', '/_mock/faults/{id}', { params: { id } });
  }

  /** DELETE /_mock/faults: {removed}. */
  clearFaults() {
    return this.#t.request('DELETE', '/_mock/faults');
  }

  /** POST /_mock/keys: {partnerId?, apiKey?, scopes?}; answers {apiKey, partnerId, scopes, primary}. */
  addKey(key = {}) {
    return this.#t.request('POST', '/_mock/keys', { body: key });
  }

  /** GET /_mock/keys: {keys}. */
  keys() {
    return this.#t.request('GET', '/_mock/keys');
  }

  /** DELETE /_mock/keys/{apiKey}: revoke a key (401 from then on). */
  revokeKey(apiKey) {
    return this.#t.request('DELETE', '/_mock/keys/{apiKey}', { params: { apiKey } });
  }

  // ---- Traffic ----

  /**
   * GET /_mock/traffic: the load report (requests, rate, throughput,
   * success, statusCodes, latencyMs {p50, p90, p95, p99, max, mean}, ...).
   * thresholds become query parameters, e.g. {maxP99: "200ms", minSuccess: 0.99};
   * the report then carries their verdicts (thresholds, pass).
   */
  traffic(thresholds = {}) {
    const query = {};
    for (const [k, v] of Object.entries(thresholds ?? {})) query[k] = v;
    return this.#t.request('GET', '/_mock/traffic', { query });
  }

  /** GET /_mock/traffic.svg: the traffic plotted, as SVG text (thresholds as for traffic()). */
  trafficSvg(thresholds = {}) {
    return this.#t.request('GET', '/_mock/traffic.svg', { query: thresholds, accept: 'text', headers: { Accept: 'image/svg+xml' } });
  }

  // ---- The built-in sink ----

  /** The URL of the built-in receiver `name`, to configure as a webhook URL. */
  sinkUrl(name) {
    return `${this.sinkBaseUrl}/_mock/sink/${encodeURIComponent(name)}`;
  }

  /** GET /_mock/sink: {sinks}. */
  sinks() {
    return this.#t.request('GET', '/_mock/sink');
  }

  /**
   * PUT /_mock/sink/{name}: create or replace its settings (secret,
   * statuses, delay, delayMax, failureRate, failureStatus, retryAfter,
   * rejectInvalidSignatures, seed, capacity); clears what it recorded.
   */
  configureSink(name, config = {}) {
    const body = { ...config };
    if (body.delay !== undefined) body.delay = duration(body.delay);
    if (body.delayMax !== undefined) body.delayMax = duration(body.delayMax);
    return this.#t.request('PUT', '/_mock/sink/{name}', { params: { name }, body });
  }

  /** GET /_mock/sink/{name}: its settings and counts. */
  sink(name) {
    return this.#t.request('GET', '/_mock/sink/{name}', { params: { name } });
  }

  /** DELETE /_mock/sink/{name}. */
  deleteSink(name) {
    return this.#t.request('DELETE', '/_mock/sink/{name}', { params: { name } });
  }

  /**
   * POST /_mock/sink/{name}: the receiving end, as a sender would post to
   * it. body: a string, bytes, or an object (sent as JSON); headers e.g.
   * {"X-Bullseye-Signature": "..."}. Answers {status, received, seq,
   * signature}: the status the sink is configured to answer is not an error.
   */
  async postToSink(name, body, { headers } = {}) {
    const res = await this.#t.request('POST', '/_mock/sink/{name}', {
      params: { name },
      body: body ?? '',
      headers,
      accept: 'response',
    });
    const text = await res.text();
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed === 'object' && 'received' in parsed) return { status: res.status, ...parsed };
    const e = parsed ?? {};
    throw new BullseyeMockError(`POST ${res.url}: ${res.status} ${e.code ? `${e.code}: ${e.message}` : text.slice(0, 500)}`, {
      status: res.status,
      code: e.code,
      details: e.details,
      body: parsed ?? text,
      headers: headersObject(res.headers),
      method: 'POST',
      url: res.url,
    });
  }

  /**
   * GET /_mock/sink/{name}/requests: what the sink recorded, oldest first.
   * With atLeast, a long-poll until it has received that many (throws
   * WaitTimeoutError on timeout). Answers {requests, total, received,
   * evicted, timedOut, page, pageSize}.
   */
  async sinkRequests(name, opts = {}) {
    const { throwOnTimeout, query } = splitWait(opts);
    const poll = query.atLeast !== undefined ? query.timeout ?? null : undefined;
    const out = await this.#t.request('GET', '/_mock/sink/{name}/requests', { params: { name }, query, poll });
    if (out.timedOut && throwOnTimeout) {
      throw waitError(`sink ${name}: waited ${query.timeout ?? '30s'} for ${query.atLeast} requests: received ${out.received}`, out, 'GET', `${this.baseUrl}/_mock/sink/${name}/requests`);
    }
    return out;
  }

  /** sinkRequests(name, {atLeast: n, timeout}), answering the requests recorded. */
  async waitForSinkRequests(name, n = 1, opts = {}) {
    const out = await this.sinkRequests(name, { pageSize: 100, ...opts, atLeast: n });
    return out.requests;
  }
}

export default Client;
