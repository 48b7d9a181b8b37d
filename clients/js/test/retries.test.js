// The vendor's retry schedule under the manual clock: the sink answers 500,
// 500, then 200, and the clock moves from one due attempt to the next.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { useMock } from 'bullseye-mock/testing';

const mock = useMock({ resetEach: true });

const offsets = (d) => d.attempts.map((a) => Date.parse(a.attemptedAt) - Date.parse(d.attempts[0].attemptedAt));
const MIN = 60_000;

test('500, 500, 200: attempts at 0, 1m and 6m of mock time', async () => {
  const { client } = mock;
  await client.configureSink('flaky', { statuses: [500, 500, 200] });
  await client.partner.updateIdentificationWebhook({ url: client.sinkUrl('flaky'), secret: 'whsec_test', enabled: true });

  const { deliveryIds: [id] } = await client.trigger('visitor.identified');
  let d = await client.waitForDelivery(id, { attempts: 1, timeout: '5s' });
  assert.equal(d.state, 'retrying');
  const { nextDue } = await client.clock();
  assert.equal(nextDue, d.nextAttemptAt);

  const first = await client.advanceClock({ toNextDue: true });
  assert.equal(first.moved, true);
  assert.equal(first.advancedBy, '1m0s');
  assert.equal(first.idle, true);
  d = await client.waitForDelivery(id, { attempts: 2, timeout: '5s' });
  assert.equal(d.state, 'retrying');

  const second = await client.advanceToNextDue();
  assert.equal(second.advancedBy, '5m0s');
  d = await client.waitForDelivery(id, { state: 'delivered', timeout: '5s' });

  assert.deepEqual(d.attempts.map((a) => a.statusCode), [500, 500, 200]);
  assert.deepEqual(offsets(d), [0, 1 * MIN, 6 * MIN]);
  assert.deepEqual(d.attempts.map((a) => a.status), ['retrying', 'retrying', 'delivered']);
  assert.equal(d.attempts[1].scheduledAt, d.attempts[0].nextAttemptAt);

  const sink = await client.sinkRequests('flaky', { atLeast: 3, timeout: '5s' });
  assert.deepEqual(sink.requests.map((r) => r.status), [500, 500, 200]);
  assert.ok(sink.requests.every((r) => r.signature === 'valid'));

  // Nothing is due any more: the clock does not move.
  const none = await client.advanceToNextDue();
  assert.equal(none.moved, false);
  assert.equal(none.nextDue, null);
});

test('advancing by 2h replays the whole schedule; a failing receiver fails after 4 attempts', async () => {
  const { client } = mock;
  await client.configureSink('down', { statuses: [503] });
  await client.partner.updateIdentificationWebhook({ url: client.sinkUrl('down'), secret: 'whsec_test', enabled: true });
  const { deliveryIds: [id] } = await client.trigger('visitor.identified');
  await client.waitForDelivery(id, { attempts: 1, timeout: '5s' });
  const before = await client.clock();
  const moved = await client.advanceBy('2h');
  assert.equal(moved.idle, true);
  assert.equal(Date.parse(moved.now) - Date.parse(before.now), 120 * MIN);
  const d = await client.waitForDelivery(id, { state: 'final', timeout: '5s' });
  assert.equal(d.state, 'failed');
  assert.deepEqual(offsets(d), [0, 1 * MIN, 6 * MIN, 36 * MIN]);
});

test('a custom policy, and setting the clock to a time', async () => {
  const { client } = mock;
  await client.configureSink('policy', { statuses: [500, 200] });
  await client.partner.updateIdentificationWebhook({ url: client.sinkUrl('policy'), secret: 'whsec_test', enabled: true });
  const { deliveryIds: [id] } = await client.trigger('visitor.identified', { policy: { delays: ['10s'], attempts: 2 } });
  const d1 = await client.waitForDelivery(id, { attempts: 1, timeout: '5s' });
  await client.setClock(new Date(Date.parse(d1.nextAttemptAt)));
  const d = await client.waitForDelivery(id, { state: 'delivered', timeout: '5s' });
  assert.deepEqual(offsets(d), [0, 10_000]);
  assert.deepEqual(d.policy, { delays: ['10s'], attempts: 2, timeout: '30s' });
});

test('with a manual clock a retry never comes by itself: the wait times out', async () => {
  const { client } = mock;
  await client.configureSink('stuck', { statuses: [500, 200] });
  await client.partner.updateIdentificationWebhook({ url: client.sinkUrl('stuck'), secret: 'whsec_test', enabled: true });
  const { deliveryIds: [id] } = await client.trigger('visitor.identified');
  await client.waitForDelivery(id, { attempts: 1, timeout: '5s' });
  await assert.rejects(client.waitForDelivery(id, { state: 'delivered', timeout: '100ms' }), (err) => {
    assert.equal(err.name, 'WaitTimeoutError');
    assert.equal(err.result.timedOut, true);
    assert.equal(err.result.delivery.state, 'retrying');
    assert.match(err.message, /delivery .*: waited 100ms for state delivered: state retrying after 1 attempts \(500\)/);
    return true;
  });
  const d = await client.waitForDelivery(id, { state: 'delivered', timeout: '100ms', throwOnTimeout: false });
  assert.equal(d.state, 'retrying');
  await assert.rejects(client.waitAll({ timeout: '50ms' }), { name: 'WaitTimeoutError' });
});
