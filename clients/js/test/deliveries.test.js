// Trigger, wait, and the sink's signature verdict; the delivery list, the
// wait for everything pending, and redelivery.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { useMock } from 'bullseye-mock/testing';

const mock = useMock({ resetEach: true });
const SECRET = 'whsec_test';

async function pointAtSink(name, sinkConfig = {}) {
  const { client } = mock;
  await client.configureSink(name, sinkConfig);
  await client.partner.updateIdentificationWebhook({ url: client.sinkUrl(name), secret: SECRET, enabled: true });
}

test('a triggered event is delivered, and the sink finds its signature valid', async () => {
  const { client } = mock;
  await pointAtSink('valid');

  const { deliveryIds, partnerId } = await client.trigger('visitor.identified');
  assert.equal(deliveryIds.length, 1);
  assert.equal(partnerId, mock.partnerId);

  const d = await client.waitForDelivery(deliveryIds[0], { state: 'delivered', timeout: '5s' });
  assert.equal(d.state, 'delivered');
  assert.equal(d.attempts.length, 1);
  assert.equal(d.attempts[0].statusCode, 200);
  assert.equal(d.payload.event_type, 'visitor.identified');

  const [req] = await client.waitForSinkRequests('valid', 1, { timeout: '5s' });
  assert.equal(req.deliveryId, deliveryIds[0]);
  assert.equal(req.attempt, 1);
  assert.equal(req.signature, 'valid');
  assert.equal(req.secretFrom, 'webhook');
  assert.equal(req.bodyRaw, d.payloadRaw);
});

test('signature faults as objects: the sink says which signatures are bad', async () => {
  const { client } = mock;
  await pointAtSink('faults', { secret: SECRET });

  const { deliveryIds } = await client.trigger({
    type: 'visitor.identified',
    count: 3,
    faults: [
      { signature: 'wrong_secret', events: [1] },
      { signature: 'missing', events: [2] },
    ],
  });
  await client.waitAll({ timeout: '5s' });
  const page = await client.sinkRequests('faults', { atLeast: 3, timeout: '5s' });
  const verdicts = Object.fromEntries(page.requests.map((r) => [r.deliveryId, r.signature]));
  assert.deepEqual(verdicts, { [deliveryIds[0]]: 'invalid', [deliveryIds[1]]: 'missing', [deliveryIds[2]]: 'valid' });
  assert.equal((await client.delivery(deliveryIds[0])).fault, 'wrong_secret');
});

test('a sink rejecting bad signatures fails the faulted delivery with 401', async () => {
  const { client } = mock;
  await pointAtSink('careful', { secret: SECRET, rejectInvalidSignatures: true });
  const { deliveryIds: [id] } = await client.trigger('visitor.identified', {
    faults: [{ signature: 'truncated' }],
    policy: { attempts: 1 },
  });
  const d = await client.waitForDelivery(id, { state: 'final', timeout: 5000 });
  assert.equal(d.state, 'failed');
  assert.equal(d.attempts[0].statusCode, 401);
});

test('a duplicate reaches the sink twice with the same bytes', async () => {
  const { client } = mock;
  await pointAtSink('dups');
  const { deliveryIds } = await client.trigger('visitor.identified', { faults: [{ duplicate: 'concurrent' }] });
  assert.equal(deliveryIds.length, 2);
  const reqs = await client.waitForSinkRequests('dups', 2, { timeout: '5s' });
  assert.equal(reqs[0].bodyRaw, reqs[1].bodyRaw);
  const copy = await client.delivery(deliveryIds[1]);
  assert.equal(copy.duplicateOf, deliveryIds[0]);
});

test('list, wait for all, redeliver', async () => {
  const { client } = mock;
  await pointAtSink('list');
  const { deliveryIds } = await client.trigger('visitor.identified', { count: 2 });
  const all = await client.waitAll({ timeout: '5s' });
  assert.equal(all.timedOut, false);
  assert.equal(all.pendingCount, 0);

  const page = await client.deliveries({ state: 'delivered', pageSize: 10 });
  assert.equal(page.total, 2);
  assert.deepEqual(new Set(page.deliveries.map((d) => d.id)), new Set(deliveryIds));

  const again = await client.redeliver(deliveryIds[0]);
  assert.equal(again.redeliveryOf, deliveryIds[0]);
  const d = await client.waitForDelivery(again.deliveryId, { timeout: '5s' });
  assert.equal(d.state, 'delivered');
  assert.equal(d.duplicateOf, deliveryIds[0]);
  assert.equal((await client.sink('list')).received, 3);
});

test('the Partner API test webhook and the attempt log', async () => {
  const { client } = mock;
  await pointAtSink('logs');
  const sent = await client.partner.testWebhook('identification');
  assert.equal(sent.success, true);
  await client.waitForDelivery(sent.deliveryId, { state: 'delivered', timeout: '5s' });
  const { logs, total } = await client.partner.logs({ type: 'identification', status: 'delivered' });
  assert.equal(total, 1);
  assert.equal(logs[0].deliveryId, sent.deliveryId);
  assert.equal(logs[0].statusCode, 200);
  // The control API's copy of the log is the same page, and journals nothing.
  const journaled = (await client.requests()).total;
  const [{ id: partnerId }] = (await client.partners()).partners;
  assert.deepEqual(await client.attemptLog({ partnerId, type: 'identification', status: 'delivered' }),
    await client.partner.logs({ type: 'identification', status: 'delivered' }));
  assert.equal((await client.requests()).total, journaled + 1);
});

test('reset forgets deliveries and what the sinks recorded', async () => {
  const { client } = mock;
  await pointAtSink('reset');
  const { deliveryIds: [id] } = await client.trigger('visitor.identified');
  await client.waitForDelivery(id, { timeout: '5s' });
  assert.deepEqual(await client.reset(), { success: true });
  assert.equal((await client.deliveries()).total, 0);
  assert.equal((await client.sinkRequests('reset')).received, 0);
});
