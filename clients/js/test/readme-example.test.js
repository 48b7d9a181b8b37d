// receiver.test.js: a webhook receiver tested against bullseye-mock.
// Run: BULLSEYE_MOCK_BIN=path/to/bullseye-mock node --test
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { useMock } from 'bullseye-mock/testing';

const SECRET = 'whsec_test';
// The real mock on a free loopback port with a manual clock, reset before each test.
const mock = useMock({ resetEach: true });

// The receiver under test, on a free port: here the repository's example
// receiver, which prints "listening on PORT" when ready.
async function startReceiver() {
  const script = fileURLToPath(new URL('../../../examples/receivers/node/receiver.js', import.meta.url));
  const child = spawn(process.execPath, [script, '0'], {
    env: { ...process.env, BULLSEYE_WEBHOOK_SECRET: SECRET },
  });
  const [line] = await once(child.stdout, 'data');
  const port = /listening on (\d+)/.exec(line)[1];
  child.stdout.resume(); // keep reading its log
  return { url: `http://127.0.0.1:${port}/webhooks`, stop: () => child.kill() };
}

const minutesAfterFirst = (delivery) =>
  delivery.attempts.map((a) => (Date.parse(a.attemptedAt) - Date.parse(delivery.attempts[0].attemptedAt)) / 60_000);

test('the receiver accepts signed events and rejects bad signatures', async (t) => {
  const { client } = mock;
  const receiver = await startReceiver();
  t.after(receiver.stop);

  // 1. Configure the webhook the way the app does in production: through the Partner API.
  await client.partner.updateIdentificationWebhook({ url: receiver.url, secret: SECRET, enabled: true });

  // 2. A correctly signed event is delivered at the first attempt.
  const { deliveryIds: [good] } = await client.trigger('visitor.identified');
  const delivered = await client.waitForDelivery(good, { state: 'delivered', timeout: '5s' });
  assert.equal(delivered.attempts[0].statusCode, 200);

  // 3. One signed with the wrong secret is rejected with 401. The vendor
  //    retries any non-2xx: 1m, then 5m, then 30m after each failure.
  //    Move the manual clock from one due attempt to the next.
  const { deliveryIds: [bad] } = await client.trigger('visitor.identified', {
    faults: [{ signature: 'wrong_secret' }],
  });
  await client.waitForDelivery(bad, { attempts: 1, timeout: '5s' });
  while ((await client.advanceClock({ toNextDue: true })).moved);
  const failed = await client.waitForDelivery(bad, { state: 'failed', timeout: '5s' });
  assert.deepEqual(failed.attempts.map((a) => a.statusCode), [401, 401, 401, 401]);
  assert.deepEqual(minutesAfterFirst(failed), [0, 1, 6, 36]);
});

test('the built-in sink: the signature verdict and the retry schedule', async () => {
  const { client } = mock;
  // A receiver inside the mock that fails twice, then succeeds.
  await client.configureSink('flaky', { secret: SECRET, statuses: [500, 500, 200] });
  await client.partner.updateIdentificationWebhook({ url: client.sinkUrl('flaky'), secret: SECRET, enabled: true });

  const { deliveryIds: [id] } = await client.trigger('visitor.identified');
  await client.waitForDelivery(id, { attempts: 1, timeout: '5s' });
  await client.advanceClock({ toNextDue: true }); // +1m: the first retry
  await client.advanceClock({ toNextDue: true }); // +5m more: the second
  const delivery = await client.waitForDelivery(id, { state: 'delivered', timeout: '5s' });

  assert.deepEqual(minutesAfterFirst(delivery), [0, 1, 6]);
  const requests = await client.waitForSinkRequests('flaky', 3, { timeout: '5s' });
  assert.deepEqual(requests.map((r) => [r.status, r.signature]), [[500, 'valid'], [500, 'valid'], [200, 'valid']]);
});
