// A refused request throws a BullseyeMockError with the status and the
// vendor's error JSON ({code, message, details}).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';

import { BullseyeMockError, Client, WaitTimeoutError } from 'bullseye-mock';
import { useMock } from 'bullseye-mock/testing';

const mock = useMock();

// Asserts that p rejects with a BullseyeMockError of status and code whose
// details include want, and answers the error.
async function refused(p, status, code, details = {}) {
  let caught;
  await assert.rejects(p, (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof BullseyeMockError, `${caught}`);
  assert.equal(caught.status, status, caught.message);
  assert.equal(caught.code, code);
  assert.deepEqual(caught.body, { code, message: caught.body.message, details: caught.body.details });
  for (const [k, v] of Object.entries(details)) assert.deepEqual(caught.details[k], v, `details.${k}`);
  return caught;
}

test('a bad fault in POST /_mock/events: 400 naming the field, nothing created', async () => {
  const { client } = mock;
  const err = await refused(
    client.trigger('visitor.identified', { faults: [{ signature: 'bogus' }] }),
    400,
    'BadRequest',
    { field: 'faults[0].signature' },
  );
  assert.match(err.body.message, /^unknown signature fault "bogus", expected one of wrong_secret, missing/);
  assert.match(err.message, /POST http:\/\/127\.0\.0\.1:\d+\/_mock\/events: 400 BadRequest: unknown signature fault/);
  assert.equal((await client.deliveries()).total, 0);

  await refused(client.trigger('visitor.identified', { count: -1 }), 400, 'BadRequest', { field: 'count' });
  await refused(client.trigger('visitor.left'), 400, 'BadRequest', { field: 'type' });
  await refused(client.trigger('visitor.identified', { policy: { timeout: '0s' } }), 400, 'BadRequest', { field: 'policy.timeout' });
});

test('strict bodies: an unknown field is a 400', async () => {
  const { client } = mock;
  const err = await refused(client.configureSink('strict', { statusCodes: [500] }), 400, 'BadRequest');
  assert.match(err.body.message, /statusCodes/);
  await refused(client.partner.updateIdentificationWebhook({ url: 'not a url' }), 400, 'BadRequest');
});

test('404s name what is missing', async () => {
  const { client } = mock;
  await refused(client.delivery('nope'), 404, 'NotFound', { id: 'nope' });
  await refused(client.waitForDelivery('nope', { timeout: '1s' }), 404, 'NotFound', { id: 'nope' });
  await refused(client.redeliver('nope'), 404, 'NotFound');
  await refused(client.fault('flt_404'), 404, 'NotFound');
  await refused(client.sink('never-made'), 404, 'NotFound');
  await refused(client.partner.organization('00000000-0000-0000-0000-000000000000'), 404, 'NotFound');
});

test('an event for a webhook with no URL is a 400 unless asked for with evenIfDisabled', async () => {
  const { client } = mock;
  const err = await refused(client.trigger('visitor.identified'), 400, 'BadRequest', { field: 'type' });
  assert.match(err.message, /the identification webhook has no url: configure it with PUT/);
  assert.equal((await client.deliveries()).total, 0);
  const { deliveryIds: [id] } = await client.trigger('visitor.identified', { evenIfDisabled: true });
  assert.equal((await client.waitForDelivery(id, { state: 'canceled', timeout: '5s' })).state, 'canceled');
  // A wait that runs out names the inspector's page of the delivery.
  await assert.rejects(client.waitForDelivery(id, { state: 'delivered', timeout: '50ms' }), (err) => {
    assert.ok(err instanceof WaitTimeoutError, `${err}`);
    assert.ok(err.message.includes(`see ${client.inspectorUrl('deliveries', id)}`), err.message);
    return true;
  });
  assert.equal(client.inspectorUrl('sinks', 'a b', 3), `${client.baseUrl}/_mock/ui#/sinks/a%20b/3`);
});

test('query parameters are checked: a wait longer than 5m is a 400', async () => {
  const { client } = mock;
  const { deliveryIds: [id] } = await client.trigger('visitor.identified', { evenIfDisabled: true });
  await refused(client.waitForDelivery(id, { timeout: '6m' }), 400, 'BadRequest', { parameter: 'timeout' });
  await refused(client.deliveries({ pageSize: 1000 }), 400, 'BadRequest');
});

test('the clock: exactly one of by, to, toNextDue; never backwards', async () => {
  const { client } = mock;
  await refused(client.advanceClock({ by: '1m', toNextDue: true }), 400, 'BadRequest');
  await refused(client.setClock(new Date('2000-01-01T00:00:00Z')), 400, 'BadRequest');
});

test('the Partner API: an unknown key is 401, with the rate-limit headers', async () => {
  const { client } = mock;
  const err = await refused(client.partnerFor('not-a-key').webhooks(), 401, 'Unauthorized');
  assert.equal(err.body.message, 'invalid API key');
  assert.ok(err.headers['x-ratelimit-remaining'] !== undefined);
});

test('no answer at all: status 0', async () => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  const c = new Client({ baseUrl: `http://127.0.0.1:${port}` });
  await assert.rejects(c.clock(), (err) => {
    assert.ok(err instanceof BullseyeMockError);
    assert.ok(!(err instanceof WaitTimeoutError));
    assert.equal(err.status, 0);
    assert.equal(err.code, 'NetworkError');
    assert.match(err.message, /ECONNREFUSED/);
    return true;
  });
  assert.equal(await c.ready(), false);
});
