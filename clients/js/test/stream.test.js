// The change stream (GET /_mock/stream) against the real binary, and the
// SSE parser against a stub fetch.
//
// Every wait is bounded: eventsUntil / waitForEvent fail with what the
// stream sent when the awaited event does not come in time. To show that an
// event did NOT come, a test makes a later change that the stream does
// carry (a marker) and reads up to it: the stream is in order, so whatever
// was to come came before.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BullseyeMockError, Client, EventStream, WaitTimeoutError } from 'bullseye-mock';
import { startMock, useMock } from 'bullseye-mock/testing';

const mock = useMock({ resetEach: true });
const SECRET = 'whsec_test';

async function routeToSink(name, config = {}) {
  const { client } = mock;
  await client.configureSink(name, config);
  await client.partner.updateIdentificationWebhook({ url: client.sinkUrl(name), secret: SECRET, enabled: true });
}

const names = (events) => events.map((e) => e.name);

test('watch a delivery get delivered', async () => {
  const { client } = mock;
  await client.configureSink('demo');
  await client.partner.updateIdentificationWebhook({ url: client.sinkUrl('demo'), secret: SECRET, enabled: true });

  const changes = await client.stream({ coalesce: 0 }); // subscribed once it resolves
  try {
    const { deliveryIds: [id] } = await client.trigger('visitor.identified');
    const delivered = await changes.waitForEvent('delivery', (d) => d.id === id && d.state === 'delivered', { timeout: '5s' });
    assert.equal(delivered.data.attemptCount, 1);
  } finally {
    changes.close();
  }
});

test('a delivery, its attempt and the sink verdict, in order, with increasing ids', async () => {
  const { client } = mock;
  await routeToSink('rx');
  const stream = await client.stream({ coalesce: '0s' });
  try {
    assert.ok(stream instanceof EventStream);
    assert.equal(stream.status, 200);
    assert.match(stream.headers['content-type'], /^text\/event-stream/);
    const { deliveryIds: [id], partnerId } = await client.trigger('visitor.identified');
    const seen = await stream.eventsUntil('delivery', (d) => d.id === id && d.state === 'delivered', { timeout: '5s' });

    const [hello, ...changes] = seen;
    assert.equal(hello.name, 'hello');
    assert.equal(hello.id, null);
    assert.equal(stream.hello, hello);
    assert.ok(Number.isInteger(hello.data.lastEventId));
    assert.deepEqual(Object.keys(hello.data.clock).sort(), ['manual', 'nextDue', 'now']);
    assert.equal(stream.retry, 2000);

    const ids = changes.map((e) => e.id);
    assert.ok(ids.every(Number.isInteger), `${ids}`);
    assert.deepEqual(ids, [...new Set(ids)].sort((a, b) => a - b), 'ids increase');
    assert.ok(ids[0] > hello.data.lastEventId);
    assert.equal(stream.lastEventId, ids.at(-1));

    const of = (name) => changes.filter((e) => e.name === name);
    const deliveries = of('delivery');
    assert.ok(deliveries.every((e) => e.data.id === id));
    assert.equal(deliveries[0].data.created, true);
    // Changes the reader was not yet there for come merged into the latest, which then says created.
    const { created, ...last } = deliveries.at(-1).data;
    assert.ok(created === undefined || created === true);
    assert.deepEqual(last, {
      id,
      partnerId,
      type: 'identification',
      eventType: 'visitor.identified',
      organizationId: deliveries[0].data.organizationId,
      state: 'delivered',
      attemptCount: 1,
    });
    const [attempt] = of('attempt');
    assert.equal(of('attempt').length, 1);
    assert.deepEqual([attempt.data.deliveryId, attempt.data.attempt, attempt.data.status, attempt.data.statusCode], [id, 1, 'delivered', 200]);
    assert.equal(attempt.data.url, client.sinkUrl('rx'));
    const [received] = of('sink');
    assert.equal(of('sink').length, 1);
    assert.deepEqual(
      [received.data.sink, received.data.deliveryId, received.data.attempt, received.data.signature, received.data.status, received.data.method],
      ['rx', id, 1, 'valid', 200, 'POST'],
    );
    // The sink heard it before the attempt ended, and the attempt ended before the delivery did.
    assert.ok(received.id < attempt.id && attempt.id < deliveries.at(-1).id);
    // The Partner API call that configured the webhook came before the stream opened.
    assert.deepEqual(of('request'), []);
  } finally {
    stream.close();
  }
  assert.equal(stream.closed, true);
  assert.deepEqual(await stream.next(), { value: undefined, done: true });
});

test('a retry under the manual clock, and the clock event', async () => {
  const { client } = mock;
  await routeToSink('flaky', { statuses: [503, 200] });
  const stream = await client.stream({ events: ['delivery', 'attempt', 'clock'], coalesce: 0 });
  try {
    const { deliveryIds: [id] } = await client.trigger('visitor.identified');
    const retrying = await stream.waitForEvent('delivery', (d) => d.state === 'retrying', { timeout: '5s' });
    assert.equal(retrying.data.attemptCount, 1);
    assert.equal(retrying.data.nextAttemptAt, (await client.clock()).nextDue);

    const moved = await client.advanceToNextDue();
    const seen = await stream.eventsUntil('clock', (c) => c.now === moved.now, { timeout: '5s' });
    assert.deepEqual(seen.filter((e) => e.name === 'attempt').map((e) => [e.data.attempt, e.data.status]), [[2, 'delivered']]);
    assert.deepEqual(seen.filter((e) => e.name === 'delivery' && e.data.state === 'delivered').map((e) => e.data.id), [id]);
    assert.equal(seen.at(-1).data.manual, true);
    assert.equal(seen.at(-1).data.now, retrying.data.nextAttemptAt);
  } finally {
    stream.close();
  }
});

test('events: "request" sends only the journaled Partner API requests', async () => {
  const { client } = mock;
  await routeToSink('quiet');
  const stream = await client.stream({ events: 'request', coalesce: 0 });
  try {
    const { deliveryIds: [id] } = await client.trigger('visitor.identified');
    await client.waitForDelivery(id, { timeout: '5s' }); // its delivery, attempt and sink events were made
    await client.reset();
    await client.partner.organizations({ pageSize: 1 }); // the marker: a Partner API request
    const seen = await stream.eventsUntil('request', (r) => r.path === '/api/v1/partner/organizations', { timeout: '5s' });
    assert.deepEqual(names(seen), ['hello', 'reset', 'request']); // a reset always comes
    const { method, query, status, partnerId } = seen[2].data;
    assert.deepEqual([method, query, status, partnerId], ['GET', 'pageSize=1', 200, mock.partnerId]);
  } finally {
    stream.close();
  }
});

test('a field filter sends only the events that carry the field with its value', async () => {
  const { client } = mock;
  await routeToSink('rx');
  const { deliveryIds: [first, second] } = await client.trigger('visitor.identified', { count: 2, delay: '1m' });
  assert.notEqual(first, second);
  const stream = await client.stream({ deliveryId: first, coalesce: 0 });
  try {
    await client.advanceBy('1m'); // both are attempted
    await client.waitForDelivery(second, { timeout: '5s' });
    await client.waitForDelivery(first, { timeout: '5s' });
    await client.reset(); // the marker: a reset always comes
    const seen = await stream.eventsUntil('reset', () => true, { timeout: '5s' });
    assert.ok(!seen.some((e) => e.name === 'clock'), 'a clock event carries no delivery: filtered out');
    const changes = seen.filter((e) => e.name === 'delivery' || e.name === 'attempt');
    assert.deepEqual([...new Set(changes.map((e) => (e.name === 'delivery' ? e.data.id : e.data.deliveryId)))], [first]);
    assert.equal(changes.filter((e) => e.name === 'delivery').at(-1).data.state, 'delivered');
    assert.deepEqual(changes.filter((e) => e.name === 'attempt').map((e) => e.data.status), ['delivered']);
  } finally {
    stream.close();
  }
});

test('lastEventId resumes after the last event seen; an unknown one is a lost event', async () => {
  const { client } = mock;
  await routeToSink('later');
  const first = await client.stream({ events: 'delivery', coalesce: 0 });
  const { deliveryIds: [early] } = await client.trigger('visitor.identified', { delay: '1h' });
  const seen = await first.waitForEvent('delivery', (d) => d.id === early, { timeout: '5s' });
  const resumeFrom = first.lastEventId;
  first.close();
  assert.equal(resumeFrom, seen.id);

  // Changes while no stream is open are kept (--stream-buffer) for the next.
  const { deliveryIds: later } = await client.trigger('visitor.identified', { count: 2, delay: '1h' });
  const resumed = await client.stream({ events: 'delivery', coalesce: 0, lastEventId: resumeFrom });
  try {
    const hello = await resumed.waitForEvent('hello', null, { timeout: '5s' });
    assert.equal(hello.data.lastEventId, resumeFrom);
    const got = [];
    for (const _ of later) got.push(await resumed.waitForEvent(null, null, { timeout: '5s' }));
    assert.deepEqual(
      got.map((e) => [e.name, e.data.id, e.data.state, e.data.created]),
      later.map((d) => ['delivery', d, 'scheduled', true]),
    );
    assert.ok(resumed.lastEventId === got.at(-1).id && resumed.lastEventId > resumeFrom);
  } finally {
    resumed.close();
  }

  // An id the mock never gave (a restarted mock): lost, reason unknown; reload, then go on.
  const unknown = await client.stream({ lastEventId: 1e9, coalesce: 0 });
  try {
    const until = await unknown.eventsUntil('lost', null, { timeout: '5s' });
    assert.deepEqual(names(until), ['hello', 'lost']);
    const lost = until[1];
    assert.deepEqual(lost.data, { missed: 0, reason: 'unknown', lastEventId: lost.id });
    assert.equal(unknown.lastEventId, lost.id);
  } finally {
    unknown.close();
  }
});

test('a bad parameter is a 400 naming it', async () => {
  const { client } = mock;
  const cases = [
    [{ heartbeat: '1ms' }, 'heartbeat', 'heartbeat must be from 50ms to 5m0s'],
    [{ heartbeat: 1 }, 'heartbeat', 'got 1ms'], // a number is milliseconds
    [{ coalesce: '1m' }, 'coalesce', 'coalesce must be from 0s to 10s'],
    [{ events: ['delivery', 'nope'] }, 'events', 'unknown event "nope", expected some of delivery'],
    [{ state: 'done' }, 'state', 'state must be one of'],
    [{ lastEventId: 'x' }, 'lastEventId', 'lastEventId must be the id of an event the stream sent'],
    [{ limit: 0 }, 'limit', 'limit must be an integer from 1 to 100000'],
    [{ timeout: '25h' }, 'timeout', 'timeout must be from 1ns to 24h0m0s'],
  ];
  for (const [options, parameter, message] of cases) {
    await assert.rejects(client.stream(options), (err) => {
      assert.ok(err instanceof BullseyeMockError, `${err}`);
      assert.deepEqual([err.status, err.code, err.details.parameter], [400, 'BadRequest', parameter], JSON.stringify(options));
      assert.ok(err.body.message.includes(message), err.body.message);
      assert.match(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/_mock\/stream\?/);
      return true;
    });
  }
  // Iterating the promise directly throws the same.
  await assert.rejects(
    (async () => {
      for await (const e of client.stream({ heartbeat: '1ms' })) assert.fail(`an event: ${e.name}`);
    })(),
    { status: 400, code: 'BadRequest' },
  );
});

test('limit and timeout end the stream with an end event', async () => {
  const { client } = mock;
  await routeToSink('rx');
  // One request waits for the next two scheduled deliveries.
  const stream = await client.stream({ events: ['delivery'], state: 'scheduled', limit: 2, coalesce: 0 });
  const { deliveryIds: ids } = await client.trigger('visitor.identified', { count: 3, delay: '1h' });
  const got = [];
  for await (const e of stream) got.push(e); // the iteration ends after the end event
  assert.deepEqual(names(got), ['hello', 'delivery', 'delivery', 'end']);
  assert.deepEqual(got.slice(1, 3).map((e) => e.data.id), ids.slice(0, 2));
  const end = got.at(-1);
  assert.deepEqual(end, { id: null, name: 'end', data: { reason: 'limit', lastEventId: got[2].id } });
  assert.equal(stream.closed, true);
  assert.equal(stream.lastEventId, got[2].id);

  // The third is left for the next stream, resumed after the last one sent.
  const rest = [];
  for await (const e of client.stream({ events: 'delivery', limit: 1, coalesce: 0, lastEventId: end.data.lastEventId })) rest.push([e.name, e.data.id]);
  assert.deepEqual(rest.slice(1), [['delivery', ids[2]], ['end', undefined]]);

  const quiet = []; // nothing happens: it ends on time
  for await (const e of client.stream({ timeout: 50 })) quiet.push([e.name, e.data.reason]);
  assert.deepEqual(quiet, [['hello', undefined], ['end', 'timeout']]);
});

test('for await over client.stream() itself; breaking closes the stream', async () => {
  const { client } = mock;
  const seen = [];
  for await (const e of client.stream({ events: 'reset' })) {
    seen.push(e.name);
    if (e.name === 'hello') await client.reset();
    if (e.name === 'reset') break;
  }
  assert.deepEqual(seen, ['hello', 'reset']);
});

test('past 64 open streams a 429 with retry-after; a closed stream gives its place back', async () => {
  const { client } = mock;
  // The mock frees a closed stream's place once it sees the connection
  // closed, a moment later (this file's earlier tests closed theirs): an
  // open refused with 429 is tried again at once, within a bound.
  const deadline = Date.now() + 5000;
  const openSoon = async () => {
    for (;;) {
      try {
        return await client.stream({ events: 'reset' });
      } catch (err) {
        assert.equal(err.status, 429, err.message);
        assert.ok(Date.now() < deadline, "a closed stream's place was not given back within 5s");
      }
    }
  };
  const open = [];
  try {
    while (open.length < 64) open.push(await openSoon());
    await assert.rejects(client.stream(), (err) => {
      assert.deepEqual([err.status, err.code], [429, 'TooManyRequests']);
      assert.ok(err.headers['retry-after'], 'retry-after');
      assert.match(err.body.message, /64 streams are open/);
      return true;
    });
    open.pop().close();
    open.push(await openSoon());
    await client.reset();
    for (const s of open) assert.deepEqual((await s.waitForEvent('reset', null, { timeout: '5s' })).data, {});
  } finally {
    for (const s of open) s.close();
  }
});

test('heartbeats are skipped unless asked for', async () => {
  const { client } = mock;
  const quiet = await client.stream({ heartbeat: '50ms' });
  const loud = await client.stream({ heartbeat: 50, heartbeats: true });
  try {
    const beats = [];
    for (let i = 0; i < 3; i++) beats.push(await loud.waitForEvent('heartbeat', null, { timeout: '5s' }));
    assert.deepEqual(beats.map((b) => [b.id, b.name]), Array(3).fill([null, 'heartbeat']));
    assert.match(beats[0].data.time, /Z$/);
    // quiet was sent as many heartbeats meanwhile; a reset is the marker.
    await client.reset();
    assert.deepEqual(names(await quiet.eventsUntil('reset', null, { timeout: '5s' })), ['hello', 'reset']);
  } finally {
    quiet.close();
    loud.close();
  }
});

test('a wait that runs out says what came, and leaves the stream usable', async () => {
  const { client } = mock;
  const stream = await client.stream({ coalesce: 0 });
  try {
    await assert.rejects(stream.waitForEvent('delivery', null, { timeout: 200 }), (err) => {
      assert.ok(err instanceof WaitTimeoutError);
      assert.deepEqual(names(err.result), ['hello']);
      assert.match(err.message, /no delivery event within 200ms; the stream sent: hello$/);
      return true;
    });
    await assert.rejects(stream.read({ timeout: 50 }), WaitTimeoutError);
    await client.reset();
    assert.equal((await stream.read({ timeout: '5s' })).name, 'reset');
  } finally {
    stream.close();
  }
});

test('an AbortSignal ends the stream: a pending read rejects with its reason', async () => {
  const { client } = mock;
  const controller = new AbortController();
  const stream = await client.stream({ events: 'reset', signal: controller.signal });
  assert.equal((await stream.read({ timeout: '5s' })).name, 'hello');
  const pending = stream.next();
  controller.abort(new Error('enough'));
  await assert.rejects(pending, { message: 'enough' });
  await assert.rejects(stream.next(), { message: 'enough' });

  const aborted = AbortSignal.abort();
  await assert.rejects(client.stream({ signal: aborted }), { name: 'AbortError' });
});

test('the mock stopping: a stopping event, then the iteration ends; the admin token guards the stream', async () => {
  const own = await startMock({ adminToken: 's3cret' });
  try {
    await assert.rejects(new Client({ baseUrl: own.url }).stream(), { status: 401, code: 'Unauthorized' });
    const stream = await own.client.stream({ coalesce: 0 }); // the client sends the token
    const hello = await stream.waitForEvent('hello', null, { timeout: '5s' });
    const stopped = own.stop();
    const rest = [];
    for await (const e of stream) rest.push(e);
    assert.deepEqual(rest, [{ id: null, name: 'stopping', data: { lastEventId: hello.data.lastEventId } }]);
    assert.equal(stream.closed, true);
    await assert.rejects(stream.waitForEvent('delivery', null, { timeout: '1s' }), { code: 'StreamEnded' });
    assert.deepEqual(await stopped, { code: 0, signal: null });
  } finally {
    await own.stop();
  }
});

test("the stream's event names are the served document's", async () => {
  const doc = await mock.client.openapi();
  const op = doc.paths['/_mock/stream'].get;
  assert.deepEqual(
    Object.keys(op.responses['200']['x-events']).sort(),
    ['attempt', 'clock', 'delivery', 'end', 'hello', 'lost', 'request', 'reset', 'sink', 'stopping'],
  );
});

// ---- The parser, against a stub fetch ----

const WIRE =
  'retry: 2000\n\n' +
  'event: hello\ndata: {"lastEventId":0}\n\n' +
  ': heartbeat 2026-01-01T00:00:00Z\n\n' +
  'id: 7\nevent: delivery\ndata: {"id":"d1","state":"délivré"}\n\n' +
  'event: stopping\ndata: {"lastEventId":7}\n\n';
const WANT = [
  { id: null, name: 'hello', data: { lastEventId: 0 } },
  { id: 7, name: 'delivery', data: { id: 'd1', state: 'délivré' } },
  { id: null, name: 'stopping', data: { lastEventId: 7 } },
];

// A client whose fetch answers the stream with these byte chunks.
function stubbed(chunks) {
  const fetch = async () =>
    new Response(
      new ReadableStream({
        start(c) {
          for (const chunk of chunks) c.enqueue(chunk);
          c.close();
        },
      }),
      { status: 200, headers: { 'content-type': 'text/event-stream' } },
    );
  return new Client({ baseUrl: 'http://mock.test', apiKey: 'k', fetch });
}

async function all(client, options) {
  const out = [];
  for await (const e of client.stream(options)) out.push(e);
  return out;
}

test('the parser: the wire format cut anywhere, with any line ending, even inside a character', async () => {
  for (const ending of ['\n', '\r\n', '\r']) {
    const bytes = new TextEncoder().encode(WIRE.replaceAll('\n', ending));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got = await all(stubbed([bytes.slice(0, cut), bytes.slice(cut)]));
      assert.deepEqual(got, WANT, `${JSON.stringify(ending)} cut at ${cut}`);
    }
  }
  const beats = await all(stubbed([new TextEncoder().encode(WIRE)]), { heartbeats: true });
  assert.deepEqual(beats[1], { id: null, name: 'heartbeat', data: { time: '2026-01-01T00:00:00Z' } });
});

test('the parser follows the standard on the rest', async () => {
  const parse = (text) => all(stubbed([new TextEncoder().encode(text)]));
  assert.deepEqual(await parse('\ufeffdata:{"a":1}\n\n'), [{ id: null, name: 'message', data: { a: 1 } }]); // BOM, no space
  assert.deepEqual(await parse('data: [1,\ndata: 2]\n\n'), [{ id: null, name: 'message', data: { raw: '[1,\n2]' } }]);
  assert.deepEqual(await parse('data: {\ndata: "a": 1}\n\n'), [{ id: null, name: 'message', data: { a: 1 } }]);
  assert.deepEqual(await parse('event: x\nid: 3\n\n'), []); // no data: nothing to dispatch
  assert.deepEqual(await parse('event: x\ndata: not json\n\n'), [{ id: null, name: 'x', data: { raw: 'not json' } }]);
  assert.deepEqual(await parse('id: abc\nevent: x\ndata: {}\nfoo: bar\n\n'), [{ id: null, name: 'x', data: {} }]);
  assert.deepEqual(await parse('event: x\ndata: {}\n'), []); // the end cut it short
});
