// The example Node.js receiver (examples/receivers/node/receiver.js),
// tested with the client and the helper: the webhook configured through
// the Partner API, events triggered, outcomes waited for.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { useMock } from 'bullseye-mock/testing';

// The receiver under test, started on a free loopback port: it prints
// "listening on PORT" when ready.
const RECEIVER = fileURLToPath(new URL('../../../examples/receivers/node/receiver.js', import.meta.url));

/** Starts the receiver with secret; answers {url, stop(), output()}. */
async function startReceiver(secret, { startTimeout = 10_000 } = {}) {
  const child = spawn(process.execPath, [RECEIVER, '0'], {
    env: { ...process.env, BULLSEYE_WEBHOOK_SECRET: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the receiver did not say "listening on PORT" within ${startTimeout}ms: ${out}${err}`)), startTimeout);
    child.stdout.setEncoding('utf8').on('data', (c) => {
      out += c;
      const m = /listening on (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the receiver exited (${signal ?? code}) before it listened: ${err}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

const SECRET = 'whsec_receiver_test';
const mock = useMock({ resetEach: true });
let receiver;

before(async () => {
  receiver = await startReceiver(SECRET);
});
after(async () => {
  await receiver?.stop();
});

async function configure() {
  const out = await mock.client.partner.updateIdentificationWebhook({ url: receiver.url, secret: SECRET, enabled: true });
  assert.deepEqual(out.identification, { url: receiver.url, enabled: true, hasSecret: true });
}

test('a signed event is delivered: 200 at the first attempt', async () => {
  const { client } = mock;
  await configure();
  const { deliveryIds: [id] } = await client.trigger('visitor.identified');
  const d = await client.waitForDelivery(id, { state: 'delivered', timeout: '5s' });
  assert.equal(d.attempts.length, 1);
  assert.equal(d.attempts[0].statusCode, 200);
  assert.equal(d.attempts[0].url, receiver.url);
  assert.deepEqual(JSON.parse(d.attempts[0].responseExcerpt), { ok: true, duplicate: false });
  // The attempt log of the Partner API says the same.
  const { logs } = await client.partner.logs({ status: 'delivered' });
  assert.equal(logs[0].deliveryId, id);
});

// The faults a verifier of the raw bytes rejects. (uppercase is accepted:
// the receiver decodes hex, as the vendor's example does; check reports
// that as a note, not a failure.)
const REJECTED = ['wrong_secret', 'missing', 'empty', 'non_hex', 'truncated', 'other_bytes', 'reserialized'];

test('bad signatures are rejected with 401, and the good one in the batch is accepted', async () => {
  const { client } = mock;
  await configure();
  const faults = [...REJECTED, 'uppercase'].map((signature, i) => ({ signature, events: [i + 1] }));
  const { deliveryIds } = await client.trigger('visitor.identified', {
    count: faults.length + 1,
    faults,
    policy: { attempts: 1 },
  });
  // Waits for those still pending when it arrives (some may be final already).
  const all = await client.waitAll({ timeout: '10s' });
  assert.equal(all.pendingCount, 0);
  const got = {};
  for (const [i, id] of deliveryIds.entries()) {
    const d = await client.delivery(id);
    got[d.fault ?? `valid #${i + 1}`] = [d.state, d.attempts[0].statusCode];
  }
  const want = Object.fromEntries(REJECTED.map((f) => [f, ['failed', 401]]));
  want.uppercase = ['delivered', 200];
  want[`valid #${deliveryIds.length}`] = ['delivered', 200];
  assert.deepEqual(got, want);
});

test('a rejected signature is retried on the vendor schedule: 0, 1m, 6m, 36m', async () => {
  const { client } = mock;
  await configure();
  const { deliveryIds: [id] } = await client.trigger('visitor.identified', { faults: [{ signature: 'wrong_secret' }] });
  await client.waitForDelivery(id, { attempts: 1, timeout: '5s' });
  let moves = 0;
  while ((await client.advanceToNextDue()).moved) moves++;
  assert.equal(moves, 3);
  const d = await client.waitForDelivery(id, { state: 'final', timeout: '5s' });
  assert.equal(d.state, 'failed');
  assert.deepEqual(d.attempts.map((a) => a.statusCode), [401, 401, 401, 401]);
  const t0 = Date.parse(d.attempts[0].attemptedAt);
  assert.deepEqual(d.attempts.map((a) => (Date.parse(a.attemptedAt) - t0) / 60_000), [0, 1, 6, 36]);
});

test('duplicates are acknowledged, and processed once', async () => {
  const { client } = mock;
  await configure();
  const { deliveryIds } = await client.trigger('visitor.identified', { faults: [{ duplicate: 'concurrent' }] });
  assert.equal(deliveryIds.length, 2);
  await client.waitAll({ timeout: '5s' });
  const answers = [];
  for (const id of deliveryIds) {
    const d = await client.delivery(id);
    assert.equal(d.state, 'delivered');
    answers.push(JSON.parse(d.attempts[0].responseExcerpt).duplicate);
  }
  assert.deepEqual(answers.sort(), [false, true]);
});

test('a redelivery signed with the current secret is accepted again as a duplicate', async () => {
  const { client } = mock;
  await configure();
  const { deliveryIds: [id] } = await client.trigger('visitor.identified');
  await client.waitForDelivery(id, { state: 'delivered', timeout: '5s' });
  const { deliveryId } = await client.redeliver(id);
  const d = await client.waitForDelivery(deliveryId, { state: 'delivered', timeout: '5s' });
  assert.deepEqual(JSON.parse(d.attempts[0].responseExcerpt), { ok: true, duplicate: true });
});

test('after the secret changes, old-secret deliveries are rejected', async () => {
  const { client } = mock;
  await client.partner.updateIdentificationWebhook({ url: receiver.url, secret: 'whsec_rotated', enabled: true });
  const { deliveryIds: [id] } = await client.trigger('visitor.identified', { policy: { attempts: 1 } });
  const d = await client.waitForDelivery(id, { state: 'final', timeout: '5s' });
  assert.equal(d.state, 'failed');
  assert.equal(d.attempts[0].statusCode, 401);
});
